"""Kafka's internal __consumer_offsets topic, read as a lag tool reads it: records decoded
by a reader driven by the schema files in compat/schemas (Kafka's key/value formats), and
checked against what a confluent-kafka group committed."""
import json
import struct
import time
from pathlib import Path

from confluent_kafka import Consumer, KafkaError, Producer, TopicPartition
from confluent_kafka.admin import AdminClient, NewTopic
import pytest

SCHEMAS = Path(__file__).parent / "schemas"


def in_versions(spec, version):
    """Whether `version` is in a schema version range: "3+", "0-3", "1"."""
    if spec.endswith("+"):
        return version >= int(spec[:-1])
    low, _, high = spec.partition("-")
    return int(low) <= version <= int(high or low)


class SchemaReader:
    """Decodes one non-flexible schema version from bytes, field by field."""

    def __init__(self, name):
        self.schema = json.loads((SCHEMAS / f"{name}.json").read_text())

    def read(self, data, version):
        self.data, self.at = data, 0
        value = self._fields(self.schema["fields"], version)
        assert self.at == len(data), f"{self.schema['name']} v{version}: {len(data) - self.at} bytes left over"
        return value

    def _take(self, fmt):
        size = struct.calcsize(fmt)
        (value,) = struct.unpack_from(fmt, self.data, self.at)
        self.at += size
        return value

    def _fields(self, fields, version):
        out = {}
        for field in fields:
            if not in_versions(field["versions"], version):
                out[field["name"]] = field.get("default")
                continue
            out[field["name"]] = self._value(field, version)
        return out

    def _value(self, field, version):
        kind = field["type"]
        if kind.startswith("[]"):
            return [self._fields(field["fields"], version) for _ in range(self._take(">i"))]
        if kind in ("int16", "int32", "int64"):
            return self._take({"int16": ">h", "int32": ">i", "int64": ">q"}[kind])
        if kind == "string":
            length = self._take(">h")
            if length < 0:
                assert in_versions(field.get("nullableVersions", "99"), version), f"null {field['name']}"
                return None
            text = self.data[self.at:self.at + length].decode()
            self.at += length
            return text
        if kind == "bytes":
            length = self._take(">i")
            raw = self.data[self.at:self.at + length]
            self.at += length
            return raw
        raise AssertionError(f"type {kind} not handled")


def decode(key, value):
    """(kind, key fields, value fields or None for a tombstone)."""
    (key_version,) = struct.unpack_from(">h", key)
    if key_version in (0, 1):
        kind, key_schema, value_schema = "offset", "OffsetCommitKey", "OffsetCommitValue"
    else:
        assert key_version == 2, key_version
        kind, key_schema, value_schema = "group", "GroupMetadataKey", "GroupMetadataValue"
    fields = SchemaReader(key_schema).read(key[2:], key_version)
    if value is None:
        return kind, fields, None
    (value_version,) = struct.unpack_from(">h", value)
    return kind, fields, SchemaReader(value_schema).read(value[2:], value_version)


def read_offsets_topic(bootstrap):
    """Every record of __consumer_offsets, decoded, in offset order per partition."""
    consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": "offsets-reader", "enable.auto.commit": False})
    metadata = consumer.list_topics("__consumer_offsets", timeout=10).topics["__consumer_offsets"]
    records = []
    for partition in metadata.partitions:
        low, high = consumer.get_watermark_offsets(TopicPartition("__consumer_offsets", partition), timeout=10)
        if high == low:
            continue
        consumer.assign([TopicPartition("__consumer_offsets", partition, low)])
        while True:
            message = consumer.poll(10)
            assert message is not None and not message.error(), message and message.error()
            records.append(decode(message.key(), message.value()))
            if message.offset() >= high - 1:
                break
    consumer.close()
    return records


def latest(records):
    """The last value per key (None: deleted), as compaction would leave it."""
    state = {}
    for kind, key, value in records:
        state[(kind, tuple(sorted(key.items())))] = value
    return state


def assignment_partitions(raw):
    """The topic → partitions of a ConsumerProtocolAssignment (version prefix first)."""
    at = 2
    (count,) = struct.unpack_from(">i", raw, at)
    at += 4
    out = {}
    for _ in range(count):
        (length,) = struct.unpack_from(">h", raw, at)
        topic = raw[at + 2:at + 2 + length].decode()
        at += 2 + length
        (n,) = struct.unpack_from(">i", raw, at)
        out[topic] = list(struct.unpack_from(f">{n}i", raw, at + 4))
        at += 4 + 4 * n
    return out


def wait_until(check, timeout=10):
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if result or time.monotonic() > deadline:
            return result
        time.sleep(0.2)


@pytest.fixture
def creek(creek_factory):
    """A broker with its default settings: the __consumer_offsets mirror is on."""
    return creek_factory("--set", "group.initial.rebalance.delay.ms=0")


def test_no_internal_topic_when_disabled(creek_factory):
    plain = creek_factory("--set", "creek.offsets.topic.enable=false", "--set", "group.initial.rebalance.delay.ms=0")
    consumer = Consumer({"bootstrap.servers": plain.bootstrap, "group.id": "g"})
    consumer.subscribe(["anything"])
    consumer.poll(2)
    topics = consumer.list_topics(timeout=10).topics
    consumer.close()
    assert "__consumer_offsets" not in topics


def test_commits_and_group_metadata_of_a_confluent_group(creek):
    admin = AdminClient({"bootstrap.servers": creek.bootstrap})
    admin.create_topics([NewTopic("ledger", 2, 1)])["ledger"].result(30)
    producer = Producer({"bootstrap.servers": creek.bootstrap})
    for i in range(40):
        producer.produce("ledger", value=b"entry %d" % i, partition=i % 2)
    assert producer.flush(30) == 0

    consumer = Consumer({"bootstrap.servers": creek.bootstrap, "group.id": "auditors", "client.id": "auditor-1",
                         "enable.auto.commit": False, "auto.offset.reset": "earliest"})
    consumer.subscribe(["ledger"])
    read = 0
    while read < 40:
        message = consumer.poll(10)
        assert message is not None and not message.error()
        read += 1
    consumer.commit(offsets=[TopicPartition("ledger", 0, 12), TopicPartition("ledger", 1, 20)], asynchronous=False)
    committed = consumer.committed([TopicPartition("ledger", 0), TopicPartition("ledger", 1)], timeout=10)

    def group_record():
        value = latest(read_offsets_topic(creek.bootstrap)).get(("group", (("group", "auditors"),)))
        return value if value and value["members"] else None
    group = wait_until(group_record)
    assert group, "no group-metadata record with members"
    assert group["protocolType"] == "consumer" and group["generation"] >= 1 and group["protocol"] in ("range", "roundrobin")
    [member] = group["members"]
    assert member["clientId"] == "auditor-1" and group["leader"] == member["memberId"]
    assert assignment_partitions(member["assignment"]) == {"ledger": [0, 1]}
    assert b"ledger" in member["subscription"]

    # The mirror is written in the background: wait until every committed offset is in it.
    keys = [("offset", (("group", "auditors"), ("partition", tp.partition), ("topic", "ledger"))) for tp in committed]
    def mirrored():
        current = latest(read_offsets_topic(creek.bootstrap))
        return current if all(key in current for key in keys) else None
    state = wait_until(mirrored)
    assert state, "committed offsets never reached __consumer_offsets"
    for tp in committed:
        value = state[("offset", (("group", "auditors"), ("partition", tp.partition), ("topic", "ledger")))]
        assert value["offset"] == tp.offset and value["metadata"] == "" and value["commitTimestamp"] > 0
    assert [tp.offset for tp in committed] == [12, 20]
    consumer.close()

    # Leaving empties the group; deleting it leaves tombstones for the group and its offsets.
    emptied = wait_until(lambda: (v := latest(read_offsets_topic(creek.bootstrap)).get(("group", (("group", "auditors"),)))) is not None and not v["members"])
    assert emptied
    admin.delete_consumer_groups(["auditors"])["auditors"].result(30)
    gone = wait_until(lambda: all(v is None for (kind, key), v in latest(read_offsets_topic(creek.bootstrap)).items()
                                  if dict(key).get("group") == "auditors"))
    assert gone


def test_the_topic_is_internal_and_only_the_broker_writes_it(creek):
    from kafka.admin import KafkaAdminClient
    # Created, as in Kafka, once a group exists.
    seeding = AdminClient({"bootstrap.servers": creek.bootstrap})
    seeding.create_topics([NewTopic("seed", 1, 1)])["seed"].result(30)
    consumer = Consumer({"bootstrap.servers": creek.bootstrap, "group.id": "first"})
    consumer.commit(offsets=[TopicPartition("seed", 0, 0)], asynchronous=False)
    consumer.close()
    assert wait_until(lambda: "__consumer_offsets" in AdminClient({"bootstrap.servers": creek.bootstrap}).list_topics(timeout=10).topics)
    k = KafkaAdminClient(bootstrap_servers=creek.bootstrap)
    try:
        [described] = k.describe_topics(["__consumer_offsets"])
    finally:
        k.close()
    assert described["is_internal"] is True and described["error_code"] == 0
    failures = []
    producer = Producer({"bootstrap.servers": creek.bootstrap, "message.send.max.retries": 0})
    producer.produce("__consumer_offsets", value=b"forged", partition=0, on_delivery=lambda err, msg: failures.append(err))
    producer.flush(30)
    assert failures and failures[0] is not None and failures[0].code() == KafkaError.TOPIC_EXCEPTION
    admin = AdminClient({"bootstrap.servers": creek.bootstrap})
    refused = admin.delete_topics(["__consumer_offsets"])["__consumer_offsets"].exception(30)
    assert refused is not None and refused.args[0].code() == KafkaError.TOPIC_EXCEPTION
