"""The admin HTTP listener against real clients: /metrics values after a scripted workload
(exact counts), a confluent-kafka group whose lag is known, health, and the console's JSON
API with and without --http-admin."""
import json
import re
import urllib.error
import urllib.request

from confluent_kafka import Consumer, Producer, TopicPartition
from confluent_kafka.admin import AdminClient, NewTopic

LINE = re.compile(r'^([a-z_]+)(?:\{(.*)\})? (\S+)$')


def scrape(creek):
    """Every sample as {(name, frozenset(labels)): value}."""
    text = urllib.request.urlopen(creek.http + "/metrics", timeout=10).read().decode()
    samples = {}
    for line in text.splitlines():
        if line.startswith("#") or not line:
            continue
        match = LINE.match(line)
        assert match, f"not Prometheus text: {line!r}"
        labels = frozenset(re.findall(r'(\w+)="([^"]*)"', match.group(2) or ""))
        samples[(match.group(1), labels)] = float(match.group(3))
    return samples


def value(samples, name, **labels):
    return samples.get((name, frozenset((k, str(v)) for k, v in labels.items())))


def total(samples, name, **labels):
    """The sum of the samples of `name` whose labels include `labels` (e.g. over versions)."""
    wanted = {(k, str(v)) for k, v in labels.items()}
    return sum(v for (n, ls), v in samples.items() if n == name and wanted <= ls)


def http_json(creek, path, method="GET", body=None):
    request = urllib.request.Request(creek.http + path, method=method, data=json.dumps(body).encode() if body is not None else None)
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def produce(bootstrap, topic, counts, size=100):
    producer = Producer({"bootstrap.servers": bootstrap, "acks": "all", "linger.ms": 5})
    for partition, count in counts.items():
        for i in range(count):
            producer.produce(topic, value=(f"{partition}:{i}:".encode() + b"x" * size)[:size], partition=partition)
    assert producer.flush(30) == 0


def test_metrics_after_a_scripted_workload(creek):
    admin = AdminClient({"bootstrap.servers": creek.bootstrap})
    admin.create_topics([NewTopic("metered", 3, 1)])["metered"].result(30)
    produce(creek.bootstrap, "metered", {0: 300, 1: 300, 2: 300})
    consumer = Consumer({"bootstrap.servers": creek.bootstrap, "group.id": "unused", "enable.auto.commit": False})
    consumer.assign([TopicPartition("metered", p, 0) for p in range(3)])
    read = 0
    while read < 900:
        message = consumer.poll(10)
        assert message is not None and not message.error(), message and message.error()
        read += 1
    consumer.close()
    assert admin.delete_topics(["ghost"])["ghost"].exception(30) is not None

    samples = scrape(creek)
    assert value(samples, "creek_topic_records_in_total", topic="metered") == 900
    for partition in range(3):
        assert value(samples, "creek_partition_high_watermark", topic="metered", partition=partition) == 300
        assert value(samples, "creek_partition_log_start_offset", topic="metered", partition=partition) == 0
        on_disk = sum(f.stat().st_size for f in (creek.data_dir / f"metered-{partition}").glob("*.log"))
        assert value(samples, "creek_partition_size_bytes", topic="metered", partition=partition) == on_disk
    bytes_in = value(samples, "creek_topic_bytes_in_total", topic="metered")
    assert bytes_in == sum(value(samples, "creek_partition_size_bytes", topic="metered", partition=p) for p in range(3))
    # Each record read once, so out equals in, record for record and byte for byte.
    assert value(samples, "creek_topic_records_out_total", topic="metered") == 900
    assert value(samples, "creek_topic_bytes_out_total", topic="metered") == bytes_in
    assert value(samples, "creek_request_errors_total", code="UNKNOWN_TOPIC_OR_PARTITION") == 1
    assert total(samples, "creek_requests_total", api="DeleteTopics") == 1
    assert total(samples, "creek_requests_total", api="CreateTopics") == 1
    assert total(samples, "creek_request_duration_seconds_count", api="CreateTopics") == 1
    assert value(samples, "creek_fsync_duration_seconds_count") > 0  # acks=all under the default policy
    assert value(samples, "creek_process_resident_memory_bytes") > 1 << 20
    assert value(samples, "creek_process_open_fds") >= 5
    assert 0 < value(samples, "creek_data_dir_free_bytes") <= value(samples, "creek_data_dir_total_bytes")


def test_lag_of_a_real_consumer_group(creek):
    admin = AdminClient({"bootstrap.servers": creek.bootstrap})
    admin.create_topics([NewTopic("lagged", 2, 1)])["lagged"].result(30)
    produce(creek.bootstrap, "lagged", {0: 100, 1: 50})
    consumer = Consumer({"bootstrap.servers": creek.bootstrap, "group.id": "lagging", "enable.auto.commit": False,
                         "auto.offset.reset": "earliest"})
    consumer.subscribe(["lagged"])
    seen = {0: 0, 1: 0}
    while seen[0] < 60 or seen[1] < 50:
        message = consumer.poll(10)
        assert message is not None and not message.error()
        if seen[message.partition()] < (60 if message.partition() == 0 else 50):
            seen[message.partition()] += 1
    consumer.commit(offsets=[TopicPartition("lagged", 0, 60), TopicPartition("lagged", 1, 50)], asynchronous=False)
    during = scrape(creek)
    assert value(during, "creek_group_members", group="lagging") == 1
    assert value(during, "creek_group_state", group="lagging", state="Stable") == 1
    consumer.close()

    produce(creek.bootstrap, "lagged", {1: 25})
    samples = scrape(creek)
    assert value(samples, "creek_group_committed_offset", group="lagging", topic="lagged", partition=0) == 60
    assert value(samples, "creek_group_lag", group="lagging", topic="lagged", partition=0) == 40
    assert value(samples, "creek_group_lag", group="lagging", topic="lagged", partition=1) == 25
    assert value(samples, "creek_group_lag_sum", group="lagging") == 65
    assert value(samples, "creek_group_members", group="lagging") == 0
    assert value(samples, "creek_group_state", group="lagging", state="Empty") == 1
    assert value(samples, "creek_group_state", group="lagging", state="Stable") is None

    status, group = http_json(creek, "/api/groups/lagging")
    assert status == 200 and group["lagSum"] == 65
    assert [(o["partition"], o["committed"], o["lag"]) for o in group["offsets"]] == [(0, 60, 40), (1, 50, 25)]


def test_health_and_read_only_console_api(creek):
    assert http_json(creek, "/health/live") == (200, {"status": "live", "reasons": []})
    assert http_json(creek, "/health/ready") == (200, {"status": "ready", "reasons": []})
    status, cluster = http_json(creek, "/api/cluster")
    assert status == 200 and cluster["readOnly"] and cluster["kafkaListener"] == creek.bootstrap
    status, refused = http_json(creek, "/api/topics", "POST", {"name": "nope"})
    assert status == 403 and "--http-admin" in refused["error"]
    assert http_json(creek, "/api/topics/none")[0] == 404


def test_console_actions_with_http_admin(creek_factory):
    creek = creek_factory("--http-admin", "--set", "group.initial.rebalance.delay.ms=0")
    assert http_json(creek, "/api/topics", "POST", {"name": "made", "partitions": 2})[0] == 201
    assert http_json(creek, "/api/topics", "POST", {"name": "made"})[0] == 409
    produce(creek.bootstrap, "made", {0: 10, 1: 4})
    status, reset = http_json(creek, "/api/groups/ops/reset-offsets", "POST", {"topic": "made", "to": "latest"})
    assert status == 200 and reset == [{"partition": 0, "offset": 10}, {"partition": 1, "offset": 4}]
    consumer = Consumer({"bootstrap.servers": creek.bootstrap, "group.id": "ops"})
    committed = consumer.committed([TopicPartition("made", 0), TopicPartition("made", 1)], timeout=10)
    consumer.close()
    assert [c.offset for c in committed] == [10, 4]
    assert http_json(creek, "/api/groups/ops/reset-offsets", "POST", {"topic": "made", "to": 3})[1][0] == {"partition": 0, "offset": 3}
    assert http_json(creek, "/api/topics/made", "DELETE")[0] == 200
    assert "made" not in AdminClient({"bootstrap.servers": creek.bootstrap}).list_topics(timeout=10).topics
