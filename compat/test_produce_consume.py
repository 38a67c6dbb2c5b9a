"""Each client produces 10,000 records to a 6-partition topic and reads them back."""
import time

import pytest

from clients import CONSUMERS, PRODUCERS, create_topic, make_records, watermarks

COUNT = 10_000
PARTITIONS = 6


def check_partition_offsets(consumed, partitions):
    per_partition = {}
    for m in consumed:
        per_partition.setdefault(m["partition"], []).append(m["offset"])
    for p, offsets in per_partition.items():
        assert sorted(offsets) == list(range(len(offsets))), f"partition {p} offsets are not contiguous from 0"
    return {p: len(o) for p, o in per_partition.items()}


@pytest.mark.parametrize("client", ["confluent", "kafka-python", "aiokafka"])
def test_round_trip(creek, client):
    topic = f"round-trip-{client}"
    create_topic(creek.bootstrap, topic, PARTITIONS)
    records = make_records(COUNT)
    PRODUCERS[client](creek.bootstrap, topic, records)
    consumed = CONSUMERS[client](creek.bootstrap, topic, PARTITIONS, COUNT)
    assert len(consumed) == COUNT, f"read {len(consumed)} of {COUNT}"
    by_value = {m["value"]: m for m in consumed}
    assert len(by_value) == COUNT, "some record was read twice"
    for r in records:
        m = by_value[r["value"]]
        assert m["key"] == r["key"], (r, m)
        assert [(k, bytes(v) if v is not None else None) for k, v in m["headers"]] == r["headers"]
        assert m["timestamp"] == r["timestamp"]
    counts = check_partition_offsets(consumed, PARTITIONS)
    marks = watermarks(creek.bootstrap, topic, PARTITIONS)
    for p in range(PARTITIONS):
        assert marks[p] == (0, counts.get(p, 0)), f"partition {p}: watermarks {marks[p]}"
    assert len([p for p in counts if counts[p] > 0]) > 1, "records were not spread across partitions"


def test_round_trip_kcat(creek):
    """kcat (librdkafka 2.0.2): keys including null and empty, values and a header.
    kcat cannot set per-record timestamps; its records carry their send time."""
    topic = "round-trip-kcat"
    create_topic(creek.bootstrap, topic, PARTITIONS)
    records = make_records(COUNT)
    before = int(time.time() * 1000)
    PRODUCERS["kcat"](creek.bootstrap, topic, records)
    after = int(time.time() * 1000)
    consumed = CONSUMERS["kcat"](creek.bootstrap, topic, PARTITIONS, COUNT)
    assert len(consumed) == COUNT
    by_value = {m["value"]: m for m in consumed}
    assert len(by_value) == COUNT
    for r in records:
        m = by_value[r["value"]]
        assert m["key"] == r["key"], (r, m)
        assert m["headers"] == [("source", b"kcat")]
        assert before - 1000 <= m["timestamp"] <= after + 1000
    counts = check_partition_offsets(consumed, PARTITIONS)
    marks = watermarks(creek.bootstrap, topic, PARTITIONS)
    for p in range(PARTITIONS):
        assert marks[p] == (0, counts.get(p, 0))


@pytest.mark.parametrize("codec", ["gzip", "snappy", "lz4", "zstd"])
def test_compressed_batches(creek, codec):
    """confluent-kafka writes compressed batches; Creek stores them untouched; both
    confluent-kafka and kafka-python decompress them on read."""
    topic = f"compressed-{codec}"
    create_topic(creek.bootstrap, topic, 3)
    records = make_records(3000)
    PRODUCERS["confluent"](creek.bootstrap, topic, records, **{"compression.type": codec, "linger.ms": 50})
    for reader in ["confluent", "kafka-python"]:
        consumed = CONSUMERS[reader](creek.bootstrap, topic, 3, len(records))
        assert sorted(m["value"] for m in consumed) == sorted(r["value"] for r in records), reader
        by_value = {m["value"]: m for m in consumed}
        for r in records[:200]:
            assert by_value[r["value"]]["key"] == r["key"]
            assert by_value[r["value"]]["timestamp"] == r["timestamp"]


def test_same_key_same_partition_across_clients(creek):
    """murmur2 partitioning: confluent-kafka (murmur2_random) and kafka-python agree, and
    order within a partition is kept."""
    topic = "keyed"
    create_topic(creek.bootstrap, topic, 6)
    keys = [f"user-{i}".encode() for i in range(50)]
    first = [{"key": k, "value": f"c-{k.decode()}-{n}".encode(), "headers": [], "timestamp": 1_700_000_000_000 + n}
             for n in range(5) for k in keys]
    second = [{"key": k, "value": f"p-{k.decode()}-{n}".encode(), "headers": [], "timestamp": 1_700_000_100_000 + n}
              for n in range(5) for k in keys]
    PRODUCERS["confluent"](creek.bootstrap, topic, first)
    PRODUCERS["kafka-python"](creek.bootstrap, topic, second)
    consumed = CONSUMERS["kafka-python"](creek.bootstrap, topic, 6, len(first) + len(second))
    assert len(consumed) == len(first) + len(second)
    partition_of = {}
    for m in consumed:
        assert partition_of.setdefault(m["key"], m["partition"]) == m["partition"], f"key {m['key']} in two partitions"
    for key in keys:
        mine = sorted((m for m in consumed if m["key"] == key), key=lambda m: m["offset"])
        values = [m["value"].decode() for m in mine]
        expected = [f"c-{key.decode()}-{n}" for n in range(5)] + [f"p-{key.decode()}-{n}" for n in range(5)]
        assert values == expected


def test_pipelined_requests_keep_send_order(creek):
    """librdkafka pipelines many small Produce requests on one connection; they must be
    appended in the order sent (ordering within a partition)."""
    create_topic(creek.bootstrap, "ordered", 2)
    records = [{"key": None, "value": str(i).encode(), "headers": [], "timestamp": 1_700_000_000_000 + i,
                "partition": i % 2} for i in range(20_000)]
    PRODUCERS["confluent"](creek.bootstrap, "ordered", records,
                           **{"linger.ms": 0, "batch.num.messages": 5, "max.in.flight": 1000})
    consumed = CONSUMERS["confluent"](creek.bootstrap, "ordered", 2, len(records))
    assert len(consumed) == len(records)
    for p in (0, 1):
        mine = sorted((m for m in consumed if m["partition"] == p), key=lambda m: m["offset"])
        assert [int(m["value"]) for m in mine] == list(range(p, 20_000, 2))
