"""Large records: 900 KB round-trips; a record over max.message.bytes fails fast."""
import time

from confluent_kafka import KafkaError, Producer

from clients import CONSUMERS, create_topic


def test_900kb_record_round_trips(creek):
    create_topic(creek.bootstrap, "big", 1)
    value = bytes(range(256)) * (900_000 // 256)
    producer = Producer({"bootstrap.servers": creek.bootstrap, "message.max.bytes": 2_000_000})
    producer.produce("big", value=value, key=b"big", partition=0)
    assert producer.flush(30) == 0
    for client in ["confluent", "kafka-python"]:
        [m] = CONSUMERS[client](creek.bootstrap, "big", 1, 1)
        assert m["value"] == value and m["key"] == b"big"


def test_record_over_max_message_bytes_is_refused(creek):
    create_topic(creek.bootstrap, "limited", 1, {"max.message.bytes": "100000"})
    producer = Producer({"bootstrap.servers": creek.bootstrap, "message.max.bytes": 2_000_000,
                         "linger.ms": 0, "retries": 0})
    results = []
    producer.produce("limited", value=b"x" * 200_000, partition=0,
                     on_delivery=lambda err, msg: results.append(err))
    started = time.monotonic()
    producer.flush(30)
    assert time.monotonic() - started < 10
    assert results and results[0] is not None
    assert results[0].code() == KafkaError.MSG_SIZE_TOO_LARGE
    # The producer keeps working.
    results.clear()
    producer.produce("limited", value=b"small", partition=0, on_delivery=lambda err, msg: results.append(err))
    producer.flush(30)
    assert results == [None]
    [m] = CONSUMERS["confluent"](creek.bootstrap, "limited", 1, 1)
    assert m["value"] == b"small" and m["offset"] == 0
