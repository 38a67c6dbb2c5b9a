"""Durability across restarts: SIGTERM, SIGKILL under acks=all load, damaged segments."""
import glob
import os
import threading
import time

from confluent_kafka import Producer
from confluent_kafka.admin import AdminClient, ConfigResource

from clients import CONSUMERS, PRODUCERS, create_topic, make_records, watermarks


def describe_topic_config(bootstrap, topic):
    admin = AdminClient({"bootstrap.servers": bootstrap})
    [future] = admin.describe_configs([ConfigResource(ConfigResource.Type.TOPIC, topic)]).values()
    return {name: entry.value for name, entry in future.result(30).items()}


def test_sigterm_restart_keeps_topics_configs_and_records(creek):
    create_topic(creek.bootstrap, "kept", 3, {"retention.ms": "123456789", "segment.bytes": "100000"})
    records = make_records(5000)
    PRODUCERS["kafka-python"](creek.bootstrap, "kept", records)
    before = watermarks(creek.bootstrap, "kept", 3)
    assert creek.stop() == 0
    assert os.path.exists(creek.data_dir / ".creek-clean-shutdown")
    creek.start()
    assert "not clean" not in creek.log()
    assert watermarks(creek.bootstrap, "kept", 3) == before
    configs = describe_topic_config(creek.bootstrap, "kept")
    assert configs["retention.ms"] == "123456789"
    assert configs["segment.bytes"] == "100000"
    consumed = CONSUMERS["confluent"](creek.bootstrap, "kept", 3, len(records))
    assert sorted(m["value"] for m in consumed) == sorted(r["value"] for r in records)


def test_sigkill_during_acks_all_load_loses_no_acknowledged_record(creek):
    create_topic(creek.bootstrap, "acked", 2)
    acked = []
    failed = []
    stop = threading.Event()

    def produce():
        producer = Producer({"bootstrap.servers": creek.bootstrap, "acks": "all", "linger.ms": 2,
                             "message.timeout.ms": 4000, "retries": 0})

        def report(err, msg):
            (failed if err else acked).append(msg.value())

        i = 0
        while not stop.is_set():
            try:
                producer.produce("acked", value=f"r{i}".encode(), on_delivery=report)
                i += 1
            except BufferError:
                pass
            producer.poll(0)
            if i % 200 == 0:
                time.sleep(0.005)
        producer.flush(15)

    thread = threading.Thread(target=produce)
    thread.start()
    time.sleep(2.0)
    count_at_kill = len(acked)
    creek.kill()
    time.sleep(0.5)
    stop.set()
    thread.join(30)
    assert count_at_kill > 1000, f"only {count_at_kill} records acknowledged before the kill"
    creek.start()
    assert "not clean" in creek.log()
    marks = watermarks(creek.bootstrap, "acked", 2)
    total = sum(high for _, high in marks.values())
    consumed = CONSUMERS["confluent"](creek.bootstrap, "acked", 2, total)
    stored = {m["value"] for m in consumed}
    missing = [v for v in acked if v not in stored]
    assert not missing, f"{len(missing)} acknowledged records lost, e.g. {missing[:5]}"


def produce_batches(bootstrap, topic, batches, per_batch):
    producer = Producer({"bootstrap.servers": bootstrap, "linger.ms": 0, "acks": "all"})
    for b in range(batches):
        for i in range(per_batch):
            producer.produce(topic, value=f"b{b}-{i}".encode(), partition=0)
        assert producer.flush(10) == 0


def last_segment(data_dir, topic):
    return sorted(glob.glob(str(data_dir / f"{topic}-0" / "*.log")))[-1]


def batch_starts(path):
    """(position, base offset) of every batch in a segment, read from the file itself."""
    starts = []
    with open(path, "rb") as f:
        data = f.read()
    position = 0
    while position + 12 <= len(data):
        base = int.from_bytes(data[position:position + 8], "big")
        length = int.from_bytes(data[position + 8:position + 12], "big")
        starts.append((position, base))
        position += 12 + length
    assert position == len(data)
    return starts


def test_tail_cut_mid_batch_is_truncated(creek):
    create_topic(creek.bootstrap, "torn", 1)
    produce_batches(creek.bootstrap, "torn", 10, 100)
    assert watermarks(creek.bootstrap, "torn", 1)[0] == (0, 1000)
    creek.stop()
    path = last_segment(creek.data_dir, "torn")
    size = os.path.getsize(path)
    _, kept = batch_starts(path)[-1]
    assert 900 <= kept < 1000
    os.truncate(path, size - 7)
    creek.start()
    assert watermarks(creek.bootstrap, "torn", 1)[0] == (0, kept)
    consumed = CONSUMERS["confluent"](creek.bootstrap, "torn", 1, kept)
    assert [m["offset"] for m in consumed] == list(range(kept))
    produce_batches(creek.bootstrap, "torn", 1, 10)
    assert watermarks(creek.bootstrap, "torn", 1)[0] == (0, kept + 10)


def test_tail_overwritten_with_garbage_after_crash_is_truncated(creek):
    create_topic(creek.bootstrap, "garbage", 1)
    produce_batches(creek.bootstrap, "garbage", 10, 100)
    creek.kill()
    path = last_segment(creek.data_dir, "garbage")
    size = os.path.getsize(path)
    position, kept = batch_starts(path)[-1]
    # Overwrite the records of the last batch (its 61-byte header stays plausible; its CRC fails).
    assert size - position > 61
    with open(path, "r+b") as f:
        f.seek(position + 61)
        f.write(os.urandom(size - position - 61))
    creek.start()
    assert watermarks(creek.bootstrap, "garbage", 1)[0] == (0, kept)
    consumed = CONSUMERS["kafka-python"](creek.bootstrap, "garbage", 1, kept)
    assert [m["offset"] for m in sorted(consumed, key=lambda m: m["offset"])] == list(range(kept))
