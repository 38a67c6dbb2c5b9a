"""Compacted topics (cleanup.policy=compact) through real clients: the cleaner keeps the
latest record per key in every codec, tombstones go after delete.retention.ms, aborted
transactions never reappear, keyless records are refused, a SIGKILL during a cleaning pass
loses nothing, and ListOffsets by time finds records inside compressed batches."""
import time

import pytest
from confluent_kafka import Consumer, KafkaException, Producer, TopicPartition

from clients import CONSUMERS, create_topic, watermarks

CLEANER = ("--set", "log.cleaner.backoff.ms=200")
COMPACTED = {"cleanup.policy": "compact", "segment.bytes": "16384", "min.cleanable.dirty.ratio": "0.01",
             "delete.retention.ms": "2000"}


def read_all(bootstrap, topic, **config):
    """Every record of partition 0 up to the high watermark: (offset, key, value)."""
    conf = {"bootstrap.servers": bootstrap, "group.id": "compat-compaction", "enable.auto.commit": False,
            "enable.partition.eof": True}
    conf.update(config)
    consumer = Consumer(conf)
    consumer.assign([TopicPartition(topic, 0, 0)])
    out = []
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        msg = consumer.poll(1.0)
        if msg is None:
            continue
        if msg.error():
            if msg.error().code() == -191:  # _PARTITION_EOF
                break
            raise AssertionError(msg.error())
        out.append((msg.offset(), msg.key(), msg.value()))
    consumer.close()
    return out


def produce_rounds(bootstrap, topic, compression, rounds=5, keys=300, incompressible=False):
    """`rounds` updates of `keys` keys; every 10th key deleted (tombstone) in the last
    round. Returns the latest value of each key (None: deleted)."""
    import os
    producer = Producer({"bootstrap.servers": bootstrap, "compression.type": compression, "linger.ms": 5})
    latest = {}
    for round_number in range(rounds):
        for key in range(keys):
            name = f"key-{key}".encode()
            value = None if round_number == rounds - 1 and key % 10 == 0 else f"v{round_number}-{key}".encode() * 4
            if value is not None and incompressible:
                value += os.urandom(100).hex().encode()
            producer.produce(topic, key=name, value=value, partition=0)
            latest[name] = value
        assert producer.flush(30) == 0
    return latest


def fill(bootstrap, topic, count, tag):
    """Records with keys of their own, so the data before them lies in closed segments."""
    producer = Producer({"bootstrap.servers": bootstrap, "linger.ms": 5})
    for i in range(count):
        producer.produce(topic, key=f"{tag}-{i}".encode(), value=b"f" * 200, partition=0)
    assert producer.flush(30) == 0


def wait_for(condition, timeout=30):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = condition()
        if result:
            return result
        time.sleep(0.3)
    return condition()


@pytest.mark.parametrize("compression", ["none", "gzip", "snappy", "lz4", "zstd"])
def test_latest_value_per_key_in_every_codec(creek_factory, compression):
    creek = creek_factory(*CLEANER)
    create_topic(creek.bootstrap, "changelog", 1, COMPACTED)
    latest = produce_rounds(creek.bootstrap, "changelog", compression)
    fill(creek.bootstrap, "changelog", 100, "fill")
    high = watermarks(creek.bootstrap, "changelog", 1)[0][1]
    assert high == 1600

    def compacted():
        records = [r for r in read_all(creek.bootstrap, "changelog") if r[1].startswith(b"key-")]
        return records if len(records) == 300 else None

    records = wait_for(compacted)
    assert records, "the cleaner did not compact the topic"
    assert [r[0] for r in records] == sorted(r[0] for r in records)
    assert {r[1]: r[2] for r in records} == latest, "each key keeps its latest value (tombstones too, for now)"
    assert watermarks(creek.bootstrap, "changelog", 1)[0][1] == high, "compaction never moves the high watermark"

    # The other clients read the compacted (gapped, recompressed) batches the same way.
    expected = read_all(creek.bootstrap, "changelog")
    for client in ("kafka-python", "aiokafka"):
        got = CONSUMERS[client](creek.bootstrap, "changelog", 1, len(expected), timeout=30)
        assert [(m["offset"], m["key"], m["value"]) for m in got] == expected, client

    # Past delete.retention.ms, the next pass removes the tombstones.
    time.sleep(2.5)
    fill(creek.bootstrap, "changelog", 100, "more")

    def tombstones_gone():
        records = [r for r in read_all(creek.bootstrap, "changelog") if r[1].startswith(b"key-")]
        return records if len(records) == 270 else None

    records = wait_for(tombstones_gone)
    assert records, "tombstones were not removed after delete.retention.ms"
    assert all(value is not None and latest[key] == value for _, key, value in records)


def test_record_without_key_is_refused(creek):
    create_topic(creek.bootstrap, "keyed-only", 1, {"cleanup.policy": "compact"})
    producer = Producer({"bootstrap.servers": creek.bootstrap, "linger.ms": 0, "retries": 0})
    outcomes = []
    producer.produce("keyed-only", value=b"no key", partition=0, on_delivery=lambda err, msg: outcomes.append(err))
    producer.flush(10)  # its own batch: Kafka refuses the whole batch that holds a keyless record
    producer.produce("keyed-only", key=b"k", value=b"keyed", partition=0, on_delivery=lambda err, msg: outcomes.append(err))
    producer.flush(10)
    assert outcomes[0] is not None and outcomes[0].name() == "INVALID_RECORD", outcomes
    assert outcomes[1] is None
    assert watermarks(creek.bootstrap, "keyed-only", 1)[0] == (0, 1)


def test_aborted_transactions_never_reappear(creek_factory):
    creek = creek_factory(*CLEANER)
    create_topic(creek.bootstrap, "txn-changelog", 1, COMPACTED)
    producer = Producer({"bootstrap.servers": creek.bootstrap, "transactional.id": "compaction-txn",
                         "compression.type": "zstd"})
    producer.init_transactions(10)
    for round_number in range(4):
        producer.begin_transaction()
        for key in range(50):
            producer.produce("txn-changelog", key=f"k{key}".encode(),
                             value=f"{'aborted' if round_number % 2 else 'committed'}-{round_number}".encode(), partition=0)
        if round_number % 2:
            producer.abort_transaction(10)
        else:
            producer.commit_transaction(10)
    fill(creek.bootstrap, "txn-changelog", 150, "fill")

    def compacted():
        records = [r for r in read_all(creek.bootstrap, "txn-changelog", **{"isolation.level": "read_uncommitted"})
                   if r[1].startswith(b"k")]
        return records if len(records) == 50 else None

    records = wait_for(compacted)
    assert records, "not compacted"
    assert {value for _, _, value in records} == {b"committed-2"}, "even read_uncommitted sees no aborted data"
    committed = [r for r in read_all(creek.bootstrap, "txn-changelog", **{"isolation.level": "read_committed"})
                 if r[1].startswith(b"k")]
    assert committed == records


def test_sigkill_during_cleaning_loses_nothing(creek_factory):
    # A slow cleaner (200 KB/s) so the kill lands inside a pass.
    creek = creek_factory(*CLEANER, "--set", "log.cleaner.io.max.bytes.per.second=200000")
    create_topic(creek.bootstrap, "slow-clean", 1, COMPACTED)
    latest = produce_rounds(creek.bootstrap, "slow-clean", "lz4", rounds=8, keys=400, incompressible=True)
    fill(creek.bootstrap, "slow-clean", 100, "fill")
    high = watermarks(creek.bootstrap, "slow-clean", 1)[0][1]
    assert wait_for(lambda: list((creek.data_dir / "slow-clean-0").glob("cleaning/*")), timeout=20), "no pass started: " + creek.log()[-3000:]
    time.sleep(0.5)
    creek.kill()
    creek.start()
    records = [r for r in read_all(creek.bootstrap, "slow-clean") if r[1].startswith(b"key-")]
    seen = {}
    for _, key, value in records:
        seen[key] = value
    assert seen == latest, "after the kill every key still reads its latest value"
    assert watermarks(creek.bootstrap, "slow-clean", 1)[0][1] == high

    def each_key_once():
        keys = [r[1] for r in read_all(creek.bootstrap, "slow-clean") if r[1].startswith(b"key-")]
        return len(keys) == len(set(keys)) and set(keys) >= {k for k, v in latest.items() if v is not None}

    assert wait_for(each_key_once, timeout=60), "the cleaner finishes after the restart"


@pytest.mark.parametrize("compression", ["gzip", "zstd"])
def test_list_offsets_by_time_inside_compressed_batch(creek, compression):
    create_topic(creek.bootstrap, "timed", 1)
    producer = Producer({"bootstrap.servers": creek.bootstrap, "compression.type": compression, "linger.ms": 100})
    base = 1_700_000_000_000
    for i in range(100):
        producer.produce("timed", key=b"k", value=b"x" * 50, timestamp=base + i * 10, partition=0)
    assert producer.flush(10) == 0
    consumer = Consumer({"bootstrap.servers": creek.bootstrap, "group.id": "compat-timed"})
    found = consumer.offsets_for_times([TopicPartition("timed", 0, base + 505)], timeout=10)
    consumer.close()
    assert found[0].offset == 51, "the first record at or after the time, not the batch's first"
