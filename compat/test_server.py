"""Long-poll fetches, acks=0 and concurrency between connections."""
import socket
import struct
import threading
import time

from confluent_kafka import Consumer, Producer, TopicPartition, OFFSET_BEGINNING

from clients import CONSUMERS, create_topic, watermarks
from test_bad_input import correlation, read_frame, request


def test_long_poll_wakes_when_data_arrives(creek):
    create_topic(creek.bootstrap, "wake", 1)
    consumer = Consumer({"bootstrap.servers": creek.bootstrap, "group.id": "unused",
                         "fetch.wait.max.ms": 5000, "fetch.min.bytes": 1,
                         "enable.auto.commit": False})
    consumer.assign([TopicPartition("wake", 0, OFFSET_BEGINNING)])
    consumer.poll(1.5)  # the consumer is now parked in a long-poll fetch
    producer = Producer({"bootstrap.servers": creek.bootstrap, "linger.ms": 0})
    sent = time.monotonic()
    producer.produce("wake", value=b"ping", partition=0)
    producer.flush(10)
    msg = None
    while msg is None and time.monotonic() - sent < 10:
        msg = consumer.poll(0.05)
    latency = time.monotonic() - sent
    consumer.close()
    assert msg is not None and msg.value() == b"ping"
    assert latency < 1.0, f"long poll woke after {latency:.2f}s"


def test_long_poll_does_not_delay_other_connections(creek):
    create_topic(creek.bootstrap, "idle", 1)
    stop = threading.Event()

    def park():
        c = Consumer({"bootstrap.servers": creek.bootstrap, "group.id": "unused", "fetch.wait.max.ms": 10000,
                      "enable.auto.commit": False})
        c.assign([TopicPartition("idle", 0, OFFSET_BEGINNING)])
        while not stop.is_set():
            c.poll(0.2)
        c.close()

    threads = [threading.Thread(target=park) for _ in range(4)]
    for t in threads:
        t.start()
    time.sleep(1.5)
    for i in range(5):
        with socket.create_connection(("127.0.0.1", creek.port), timeout=5) as s:
            started = time.monotonic()
            s.sendall(request(18, 0, 40 + i))
            assert correlation(read_frame(s)) == 40 + i
            assert time.monotonic() - started < 0.5
    stop.set()
    for t in threads:
        t.join(30)


def test_acks_zero_gets_no_response(creek):
    from kafka.record.default_records import DefaultRecordBatchBuilder
    create_topic(creek.bootstrap, "fire", 1)
    builder = DefaultRecordBatchBuilder(magic=2, compression_type=0, is_transactional=False,
                                        producer_id=-1, producer_epoch=-1, base_sequence=-1, batch_size=1 << 16)
    builder.append(0, timestamp=1_700_000_000_000, key=b"k", value=b"v", headers=[])
    batch = bytes(builder.build())
    # Produce v3: transactional_id null, acks 0, timeout, [topic [partition records]].
    body = struct.pack(">hhi", -1, 0, 1000)
    body += struct.pack(">i", 1) + struct.pack(">h", 4) + b"fire"
    body += struct.pack(">i", 1) + struct.pack(">ii", 0, len(batch)) + batch
    with socket.create_connection(("127.0.0.1", creek.port), timeout=5) as s:
        s.settimeout(5)
        s.sendall(request(0, 3, 11, body) + request(18, 0, 12))
        assert correlation(read_frame(s)) == 12  # the produce got no response
    deadline = time.monotonic() + 5
    while watermarks(creek.bootstrap, "fire", 1)[0] != (0, 1) and time.monotonic() < deadline:
        time.sleep(0.1)
    [m] = CONSUMERS["kafka-python"](creek.bootstrap, "fire", 1, 1)
    assert (m["key"], m["value"]) == (b"k", b"v")


def test_every_client_is_installed():
    """In CI a missing client is a failure, never a skip."""
    import shutil
    import aiokafka  # noqa: F401
    import confluent_kafka  # noqa: F401
    import kafka  # noqa: F401
    assert shutil.which("kcat"), "kcat is not installed"
