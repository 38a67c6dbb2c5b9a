"""The Swift client (CreekClient, through `creek produce` and `creek consume`) against the
third-party clients on the real broker: records written by one are read identically by the
others — key, value, headers, timestamp, partition — in every codec, and keyed records land
in the partition confluent-kafka (murmur2_random) and kafka-python choose."""
import base64
import json
import subprocess

import pytest

from clients import CONSUMERS, PRODUCERS, create_topic, make_records
from conftest import creek_binary

CODECS = ["none", "gzip", "snappy", "lz4", "zstd"]


def b64(data):
    return None if data is None else base64.b64encode(data).decode()


def unb64(text):
    return None if text is None else base64.b64decode(text)


def swift_produce(bootstrap, topic, records, *args):
    lines = []
    for r in records:
        line = {"key": b64(r["key"]), "value": b64(r["value"]), "timestamp": r["timestamp"],
                "headers": [[k, b64(v)] for k, v in r["headers"]]}
        if "partition" in r:
            line["partition"] = r["partition"]
        lines.append(json.dumps(line))
    result = subprocess.run([creek_binary(), "produce", topic, "--brokers", bootstrap, "--format", "json", *args],
                            input="\n".join(lines) + "\n", capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr


def swift_consume(bootstrap, topic, *args):
    result = subprocess.run([creek_binary(), "consume", topic, "--brokers", bootstrap, "--output", "json", *args],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    out = []
    for line in result.stdout.splitlines():
        r = json.loads(line)
        out.append({"partition": r["partition"], "offset": r["offset"], "key": unb64(r.get("key")), "value": unb64(r.get("value")),
                    "headers": [(h[0], unb64(h[1] if len(h) > 1 else None)) for h in r.get("headers", [])], "timestamp": r["timestamp"]})
    return out


def comparable(records):
    return sorted((r["partition"], r["offset"], r["key"], r["value"], tuple(r["headers"]), r["timestamp"]) for r in records)


@pytest.mark.parametrize("codec", CODECS)
def test_swift_producer_read_by_every_client(creek, codec):
    create_topic(creek.bootstrap, "from-swift", 3)
    records = make_records(300)
    swift_produce(creek.bootstrap, "from-swift", records, "--compression", codec)
    reference = swift_consume(creek.bootstrap, "from-swift")
    assert len(reference) == 300
    by_value = {r["value"]: r for r in reference}
    for original in records:
        got = by_value[original["value"]]
        assert (got["key"], got["headers"], got["timestamp"]) == (original["key"], original["headers"], original["timestamp"])
    for client in ("confluent", "kafka-python", "aiokafka"):
        assert comparable(CONSUMERS[client](creek.bootstrap, "from-swift", 3, 300, timeout=30)) == comparable(reference), client


@pytest.mark.parametrize("codec", CODECS)
def test_swift_consumer_reads_confluent(creek, codec):
    create_topic(creek.bootstrap, "to-swift", 3)
    records = make_records(300)
    PRODUCERS["confluent"](creek.bootstrap, "to-swift", records, **{"compression.type": codec})
    expected = CONSUMERS["confluent"](creek.bootstrap, "to-swift", 3, 300, timeout=30)
    got = swift_consume(creek.bootstrap, "to-swift")
    assert comparable(got) == comparable(expected)


def test_keyed_records_land_where_other_clients_put_them(creek):
    create_topic(creek.bootstrap, "keys-swift", 6)
    create_topic(creek.bootstrap, "keys-confluent", 6)
    create_topic(creek.bootstrap, "keys-python", 6)
    records = [{"key": f"customer-{i}".encode(), "value": b"v", "headers": [], "timestamp": 1_700_000_000_000 + i}
               for i in range(200)]
    swift_produce(creek.bootstrap, "keys-swift", records)
    PRODUCERS["confluent"](creek.bootstrap, "keys-confluent", records)
    PRODUCERS["kafka-python"](creek.bootstrap, "keys-python", records)
    where = {}
    for topic in ("keys-swift", "keys-confluent", "keys-python"):
        where[topic] = {r["key"]: r["partition"] for r in CONSUMERS["confluent"](creek.bootstrap, topic, 6, 200, timeout=30)}
    assert len(set(where["keys-swift"].values())) > 3
    assert where["keys-swift"] == where["keys-confluent"] == where["keys-python"]


def test_consume_from_timestamp_and_offset(creek):
    create_topic(creek.bootstrap, "positions", 1)
    records = [{"key": None, "value": f"r{i}".encode(), "headers": [], "timestamp": 1_000_000 + i * 10, "partition": 0}
               for i in range(50)]
    swift_produce(creek.bootstrap, "positions", records)
    assert [r["offset"] for r in swift_consume(creek.bootstrap, "positions", "--from", "@1000205")][:1] == [21]
    assert [r["offset"] for r in swift_consume(creek.bootstrap, "positions", "--from", "45")] == [45, 46, 47, 48, 49]
    assert swift_consume(creek.bootstrap, "positions", "--from", "end") == []


@pytest.mark.parametrize("strategy", ["range", "cooperative-sticky"])
def test_swift_and_confluent_consumers_share_a_group(creek, strategy):
    """A Swift member (`creek consume --group`) and a confluent-kafka member split one
    topic's partitions — with the eager range assignor and with cooperative-sticky
    (KIP-429), where the Swift member first holds all four and gives up only two: each
    partition is read by exactly one of them, every record once."""
    from confluent_kafka.admin import AdminClient
    from groups import Member, wait_for

    topic, group = f"shared-{strategy}", f"mixed-{strategy}"
    create_topic(creek.bootstrap, topic, 4)
    swift = subprocess.Popen([creek_binary(), "consume", topic, "--brokers", creek.bootstrap, "--group", group,
                              "--assignor", strategy, "--output", "json", "--timeout-ms", "15000"],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    confluent = Member(creek.bootstrap, topic, group, "confluent-member", client=f"confluent:{strategy}")
    admin = AdminClient({"bootstrap.servers": creek.bootstrap})
    try:
        def stable_with_both():
            described = admin.describe_consumer_groups([group])[group].result()
            return (str(described.state).endswith("STABLE") and len(described.members) == 2
                    and len(confluent.assignment) == 2)
        wait_for(stable_with_both, 60, "both members in a stable group")
        records = [{"key": None, "value": f"v{i}".encode(), "headers": [], "timestamp": 1_700_000_000_000 + i,
                    "partition": i % 4} for i in range(400)]
        swift_produce(creek.bootstrap, topic, records)
        confluent_records = lambda: {(r["partition"], r["offset"]) for r in confluent.records}
        wait_for(lambda: len(confluent_records()) >= 200, 60, "the confluent member read its half")
        confluent.close()
        out, err = swift.communicate(timeout=90)
    finally:
        confluent.stop()
        if swift.poll() is None:
            swift.kill()
            swift.wait()
    swift_records = [json.loads(line) for line in out.splitlines()]
    swift_keys = {(r["partition"], r["offset"]) for r in swift_records}
    assert len(swift_keys) == len(swift_records), "the Swift member read a record twice"
    assert len(swift_keys) == 200, err[-2000:]
    assert {p for p, _ in swift_keys}.isdisjoint({p for p, _ in confluent_records()})
    assert swift_keys | confluent_records() == {(i % 4, i // 4) for i in range(400)}
