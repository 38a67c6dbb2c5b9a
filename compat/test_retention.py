"""Retention by time deletes old segments; a fetch below the log start is out of range."""
import time

import pytest
from confluent_kafka import Producer
from kafka import KafkaConsumer, TopicPartition
from kafka.errors import OffsetOutOfRangeError

from clients import CONSUMERS, create_topic, watermarks


def test_retention_advances_low_watermark(creek_factory):
    creek = creek_factory("--set", "log.retention.check.interval.ms=300")
    create_topic(creek.bootstrap, "short", 1, {"retention.ms": "2000", "segment.bytes": "2000"})
    producer = Producer({"bootstrap.servers": creek.bootstrap, "linger.ms": 0})
    for b in range(10):
        for i in range(20):
            producer.produce("short", value=f"{b}-{i}".encode() * 5, partition=0)
        producer.flush(10)
    assert watermarks(creek.bootstrap, "short", 1)[0] == (0, 200)
    deadline = time.monotonic() + 15
    low = 0
    while time.monotonic() < deadline:
        low, high = watermarks(creek.bootstrap, "short", 1)[0]
        if low > 0:
            break
        time.sleep(0.3)
    assert 0 < low <= 200, f"low watermark did not advance: {low}"
    assert high == 200
    # The topic is quiet: its active segment expires too, and retention empties it
    # (as Kafka rolls an expired active segment and deletes the old one).
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline and low < 200:
        low, high = watermarks(creek.bootstrap, "short", 1)[0]
        time.sleep(0.3)
    assert (low, high) == (200, 200), "a quiet topic past retention.ms is emptied"

    # A fetch below the log start: OFFSET_OUT_OF_RANGE, surfaced by kafka-python when
    # it may not reset...
    consumer = KafkaConsumer(bootstrap_servers=creek.bootstrap, group_id=None, auto_offset_reset="none")
    tp = TopicPartition("short", 0)
    consumer.assign([tp])
    consumer.seek(tp, 0)
    with pytest.raises(OffsetOutOfRangeError):
        for _ in range(20):
            consumer.poll(timeout_ms=500)
    consumer.close()
    # ...and a client that may reset (earliest) continues from the new log start.
    for i in range(5):
        producer.produce("short", value=b"late-%d" % i, partition=0)
    producer.flush(10)
    consumed = CONSUMERS["confluent"](creek.bootstrap, "short", 1, 5, start={0: 0})
    assert [m["offset"] for m in consumed] == list(range(200, 205))
