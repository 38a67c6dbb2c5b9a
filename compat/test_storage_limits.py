"""Storage faults and broker-side bounds against the real binary: a full disk (a small
tmpfs as the data dir), a compressed batch claiming 2^31 records, a Fetch asking for 2 GB,
10,000 distinct group ids, and a connection flood beyond max.connections."""
import os
import struct
import subprocess
import time
import urllib.request

import pytest

from clients import create_topic, watermarks
from conftest import Creek
from test_bad_input import connect, read_frame, request, assert_closed

KAFKA_STORAGE_ERROR = 56
INVALID_RECORD = 87
INVALID_SESSION_TIMEOUT = 26


def _crc32c_table():
    table = []
    for i in range(256):
        crc = i
        for _ in range(8):
            crc = (crc >> 1) ^ 0x82F63B78 if crc & 1 else crc >> 1
        table.append(crc)
    return table


CRC_TABLE = _crc32c_table()


def crc32c(data):
    crc = 0xFFFFFFFF
    for byte in data:
        crc = CRC_TABLE[(crc ^ byte) & 0xFF] ^ (crc >> 8)
    return crc ^ 0xFFFFFFFF


def batch(attributes, last_offset_delta, count, payload, ts=1_700_000_000_000):
    after_crc = struct.pack(">hiqqqhii", attributes, last_offset_delta, ts, ts, -1, -1, -1, count) + payload
    body = struct.pack(">ib", 0, 2) + struct.pack(">I", crc32c(after_crc)) + after_crc
    return struct.pack(">qi", 0, len(body)) + body


def produce_v3(topic, records, acks=-1):
    topic_bytes = topic.encode()
    body = struct.pack(">hhi", -1, acks, 30000) + struct.pack(">i", 1)
    body += struct.pack(">h", len(topic_bytes)) + topic_bytes + struct.pack(">i", 1)
    body += struct.pack(">ii", 0, len(records)) + records
    return request(0, 3, 7, body)


def produce_error(frame):
    # v3 response: correlation, [topic name, [partition, error, base offset, log append time]]
    offset = 4 + 4
    (name_length,) = struct.unpack(">h", frame[offset:offset + 2])
    offset += 2 + name_length + 4
    _, error = struct.unpack(">ih", frame[offset:offset + 6])
    return error


def test_compressed_batch_claiming_two_billion_records_is_refused(creek):
    create_topic(creek.bootstrap, "claims", 1)
    s = connect(creek)
    lie = batch(attributes=3, last_offset_delta=2**31 - 2, count=2**31 - 1, payload=bytes(40))
    s.sendall(produce_v3("claims", lie))
    assert produce_error(read_frame(s)) == INVALID_RECORD
    honest = batch(attributes=0, last_offset_delta=0, count=1,
                   payload=bytes([0x0E, 0, 0, 0, 1, 0x02, 0x41, 0]))
    s.sendall(produce_v3("claims", honest))
    assert produce_error(read_frame(s)) == 0
    assert watermarks(creek.bootstrap, "claims", 1)[0] == (0, 1)


def test_fetch_of_two_gigabytes_is_capped_by_fetch_max_bytes(creek_factory):
    creek = creek_factory("--set", "fetch.max.bytes=4096")
    create_topic(creek.bootstrap, "big", 1)
    s = connect(creek)
    value = b"x" * 1000
    record = bytes([0, 0, 0]) + bytes([1]) + bytes([0xD0, 0x0F]) + value + bytes([0])  # attrs, ts, offset, key -1, len 1000
    framed = bytes([len(record) * 2]) if len(record) * 2 < 128 else bytes([(len(record) * 2) & 0x7F | 0x80, (len(record) * 2) >> 7])
    for _ in range(30):
        s.sendall(produce_v3("big", batch(0, 0, 1, framed + record)))
        assert produce_error(read_frame(s)) == 0
    topic = b"big"
    body = struct.pack(">iiiib", -1, 100, 1, 2**31 - 1, 0) + struct.pack(">i", 1)
    body += struct.pack(">h", len(topic)) + topic + struct.pack(">i", 1) + struct.pack(">iqi", 0, 0, 2**31 - 1)
    s.sendall(request(1, 4, 9, body))
    frame = read_frame(s)
    assert len(frame) <= 4096 + 200, f"fetch response of {len(frame)} bytes exceeds fetch.max.bytes"
    assert len(frame) > 1000, "at least one batch is returned"


def test_ten_thousand_rejected_group_ids_leave_nothing_behind(creek):
    s = connect(creek)
    protocol = struct.pack(">h", 5) + b"range" + struct.pack(">i", 0)
    for i in range(10_000):
        group = f"g-{i}".encode()
        body = struct.pack(">h", len(group)) + group + struct.pack(">i", 100)  # session timeout 100 ms
        body += struct.pack(">h", 0) + struct.pack(">h", 8) + b"consumer" + struct.pack(">i", 1) + protocol
        s.sendall(request(11, 0, i, body))
        frame = read_frame(s)
        assert struct.unpack(">ih", frame[:6]) == (i, INVALID_SESSION_TIMEOUT)
    s.sendall(request(16, 0, 99_999))
    frame = read_frame(s)
    error, count = struct.unpack(">hi", frame[4:10])
    assert (error, count) == (0, 0), "rejected joins must not create groups"


def test_connections_beyond_max_connections_are_closed(creek_factory):
    creek = creek_factory("--set", "max.connections=10")
    # The fixture's readiness probe holds a slot until the broker has seen it close.
    deadline = time.monotonic() + 10
    while "creek_connections_active 0" not in urllib.request.urlopen(creek.http + "/metrics", timeout=5).read().decode():
        assert time.monotonic() < deadline, "the readiness probe's connection never closed"
        time.sleep(0.05)
    sockets = [connect(creek) for _ in range(30)]
    answered = 0
    for index, s in enumerate(sockets):
        try:
            s.sendall(request(18, 0, index))
            read_frame(s)
            answered += 1
        except (ConnectionError, OSError):
            pass
    assert answered == 10
    for s in sockets:
        s.close()
    time.sleep(0.3)
    fresh = connect(creek)
    fresh.sendall(request(18, 0, 1))
    assert struct.unpack(">i", read_frame(fresh)[:4])[0] == 1
    assert "max.connections (10) reached" in creek.log()


@pytest.fixture
def small_disk(tmp_path):
    if os.geteuid() != 0:
        pytest.fail("the disk-full test mounts a tmpfs and must run as root (CI does)")
    mount = tmp_path / "small"
    mount.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=3m", "tmpfs", str(mount)], check=True)
    yield mount
    subprocess.run(["umount", "-l", str(mount)], check=False)


def test_full_disk_refuses_produce_keeps_serving_and_recovers(small_disk):
    from confluent_kafka import Consumer, Producer, TopicPartition
    from confluent_kafka.admin import AdminClient
    creek = Creek(small_disk / "data")
    creek.start(["--set", "log.segment.bytes=131072"])
    try:
        create_topic(creek.bootstrap, "fill", 1)
        acked, errors = [], []

        def report(err, msg):
            if err is None:
                acked.append((msg.offset(), msg.value()))
            else:
                errors.append(err)

        producer = Producer({"bootstrap.servers": creek.bootstrap, "acks": "all", "retries": 0, "linger.ms": 0,
                             "message.timeout.ms": 10000})
        for i in range(400):
            producer.produce("fill", value=(b"%06d" % i) * 2000, partition=0, on_delivery=report)
            producer.flush(10)
            if errors:
                break
        assert errors, "the 3 MiB disk never filled"
        assert errors[0].code() == KAFKA_STORAGE_ERROR, errors[0]
        assert creek.process.poll() is None, "the broker must stay up"
        # Everything acknowledged is served.
        consumer = Consumer({"bootstrap.servers": creek.bootstrap, "group.id": "check", "enable.auto.commit": False})
        consumer.assign([TopicPartition("fill", 0, 0)])
        seen = []
        deadline = time.monotonic() + 30
        while len(seen) < len(acked) and time.monotonic() < deadline:
            message = consumer.poll(0.5)
            if message is not None and message.error() is None:
                seen.append((message.offset(), message.value()))
        consumer.close()
        assert seen[:len(acked)] == acked
        # Free space: DeleteRecords up to the end drops the old segments.
        end = watermarks(creek.bootstrap, "fill", 1)[0][1]
        admin = AdminClient({"bootstrap.servers": creek.bootstrap})
        [result] = admin.delete_records([TopicPartition("fill", 0, end)]).values()
        assert result.result(30).low_watermark == end
        errors.clear()
        before = len(acked)
        for i in range(5):
            producer.produce("fill", value=b"after-%d" % i, partition=0, on_delivery=report)
        producer.flush(10)
        assert not errors, errors
        assert [offset for offset, _ in acked[before:]] == list(range(end, end + 5))
    finally:
        code = creek.stop()
        assert code == 0, creek.log()


def test_failed_acks0_produce_closes_the_connection(creek):
    """acks=0 gets no response, so a failure closes the connection (as Kafka does) and
    the client notices; a successful acks=0 produce keeps it open."""
    create_topic(creek.bootstrap, "quiet", 1)
    record = batch(attributes=0, last_offset_delta=0, count=1, payload=bytes([0x0E, 0, 0, 0, 1, 0x02, 0x41, 0]))
    s = connect(creek)
    s.sendall(produce_v3("quiet", record, acks=0))
    s.sendall(request(18, 0, 5))
    assert struct.unpack(">i", read_frame(s)[:4])[0] == 5, "a good acks=0 produce keeps the connection"
    s.sendall(produce_v3("no-such-topic", record, acks=0))
    assert_closed(s)
    assert watermarks(creek.bootstrap, "quiet", 1)[0] == (0, 1)
