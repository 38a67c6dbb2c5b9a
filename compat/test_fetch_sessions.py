"""Incremental fetch sessions (KIP-227) with kafka-python, which uses them by default: a
consumer of several partitions keeps one session across polls while records keep arriving,
and receives every record exactly once, in order per partition."""
import time

from clients import PRODUCERS, create_topic, make_records


def test_kafka_python_consumes_through_a_session(creek):
    from kafka import KafkaConsumer, TopicPartition
    create_topic(creek.bootstrap, "sessions", 4)
    consumer = KafkaConsumer(bootstrap_servers=creek.bootstrap, group_id=None, enable_auto_commit=False,
                             auto_offset_reset="earliest", fetch_max_wait_ms=100)
    consumer.assign([TopicPartition("sessions", p) for p in range(4)])
    received = {p: [] for p in range(4)}
    sessions_seen = set()
    try:
        for round_number in range(4):
            records = make_records(50, base_ts=1_700_000_000_000 + round_number * 1000)
            for index, record in enumerate(records):
                record["partition"] = (index + round_number) % 4
                record["value"] = f"r{round_number}-{index}".encode()
            PRODUCERS["confluent"](creek.bootstrap, "sessions", records)
            expected = 50 * (round_number + 1)
            deadline = time.monotonic() + 30
            while sum(len(v) for v in received.values()) < expected and time.monotonic() < deadline:
                for tp, messages in consumer.poll(timeout_ms=500).items():
                    received[tp.partition].extend((m.offset, m.value) for m in messages)
                for handler in consumer._fetcher._session_handlers.values():
                    sessions_seen.add(handler.next_metadata.session_id)
            assert sum(len(v) for v in received.values()) == expected, f"round {round_number}"
    finally:
        consumer.close()
    for partition, messages in received.items():
        offsets = [offset for offset, _ in messages]
        assert offsets == list(range(len(offsets))), f"partition {partition} not contiguous: {offsets[:10]}"
    values = sorted(value for messages in received.values() for _, value in messages)
    assert values == sorted(f"r{r}-{i}".encode() for r in range(4) for i in range(50))
    # The broker granted a session (a non-zero id) and the client kept using it.
    assert len(sessions_seen - {0}) == 1, sessions_seen
