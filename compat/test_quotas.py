"""Client quotas (KIP-13/55/546): producer_byte_rate and consumer_byte_rate by client id and
user, set with `creek quota` (AlterClientQuotas), listed (DescribeClientQuotas), enforced on
confluent-kafka clients (throttle_time_ms in responses, the connection muted meanwhile), and
kept across a restart."""
import json
import subprocess
import time

from confluent_kafka import Consumer, Producer

from clients import create_topic
from conftest import creek_binary

RATE = 200_000  # bytes per second
PAYLOAD = b"x" * 10_000


def cli(broker, *args):
    result = subprocess.run([creek_binary(), *args, "--brokers", broker.bootstrap], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    return result.stdout


def produce_seconds(broker, client_id, count=120):
    """Seconds to deliver `count` 10 kB records (1.2 MB) and then one more, and the largest
    throttle reported. The broker accepts what it has read and answers at once with the
    throttle (KIP-219); it is the next request that waits, so the last record shows it."""
    throttles = []
    producer = Producer({"bootstrap.servers": broker.bootstrap, "client.id": client_id, "linger.ms": 5,
                         "statistics.interval.ms": 200,
                         "stats_cb": lambda s: throttles.append(max((b["throttle"]["max"] for b in json.loads(s)["brokers"].values()), default=0))})
    started = time.monotonic()
    for _ in range(count):
        producer.produce("quota-topic", PAYLOAD)
        producer.poll(0)
    assert producer.flush(60) == 0
    producer.produce("quota-topic", b"after")
    assert producer.flush(60) == 0
    elapsed = time.monotonic() - started
    producer.poll(0.5)
    return elapsed, max(throttles, default=0)


def test_producer_byte_rate_by_client_id_throttles_only_that_client(creek):
    create_topic(creek.bootstrap, "quota-topic", 1)
    cli(creek, "quota", "set", "--client-id", "slow", "--set", f"producer_byte_rate={RATE}")
    assert json.loads(cli(creek, "quota", "list", "--output", "json")) == [
        {"clientId": "slow", "key": "producer_byte_rate", "value": RATE}]
    fast, fast_throttle = produce_seconds(creek, "fast")
    slow, slow_throttle = produce_seconds(creek, "slow")
    # 1.2 MB at 200 kB/s with one second of burst: the last record waits ~5 s.
    assert slow >= 4.0, f"throttled producer took {slow:.1f}s"
    assert fast < 3.0 and fast_throttle == 0, f"unthrottled producer took {fast:.1f}s"
    assert slow_throttle > 0, "the broker reports throttle_time_ms"
    cli(creek, "quota", "set", "--client-id", "slow", "--remove", "producer_byte_rate")
    assert json.loads(cli(creek, "quota", "list", "--output", "json")) == []
    again, _ = produce_seconds(creek, "slow")
    assert again < 3.0


def test_consumer_byte_rate_for_the_default_user_and_restart(creek):
    create_topic(creek.bootstrap, "quota-topic", 1)
    produce_seconds(creek, "loader")
    # Every user without its own quota (PLAINTEXT clients are User:ANONYMOUS).
    cli(creek, "quota", "set", "--default-user", "--set", f"consumer_byte_rate={RATE}")
    creek.restart()
    assert json.loads(cli(creek, "quota", "list", "--output", "json")) == [
        {"user": "<default>", "key": "consumer_byte_rate", "value": RATE}]
    consumer = Consumer({"bootstrap.servers": creek.bootstrap, "group.id": "q", "auto.offset.reset": "earliest",
                         "fetch.max.bytes": 100_000, "max.partition.fetch.bytes": 100_000, "message.max.bytes": 100_000})
    consumer.subscribe(["quota-topic"])
    started = time.monotonic()
    read = 0
    while read < 121 and time.monotonic() - started < 60:
        message = consumer.poll(1)
        if message is not None and not message.error():
            read += 1
    elapsed = time.monotonic() - started
    consumer.close()
    assert read == 121
    assert elapsed >= 4.0, f"throttled consumer read 1.2 MB in {elapsed:.1f}s"
