"""The old fixed versions kafka-go's consumer-group Reader sends (FindCoordinator v0,
OffsetCommit v2, OffsetFetch v1, Heartbeat v0, LeaveGroup v0, ListOffsets v1), encoded by
hand on a raw socket, since kafka-go itself (Go) is not installable on the CI machines."""
import socket
import struct

from clients import PRODUCERS, create_topic
from test_bad_input import correlation, read_frame, request


def string(text):
    data = text.encode()
    return struct.pack(">h", len(data)) + data


def read_string(frame, offset):
    (length,) = struct.unpack(">h", frame[offset:offset + 2])
    return frame[offset + 2:offset + 2 + length].decode(), offset + 2 + length


def test_kafka_go_group_versions(creek):
    create_topic(creek.bootstrap, "kgo", 1)
    PRODUCERS["confluent"](creek.bootstrap, "kgo", [
        {"key": None, "value": b"v", "headers": [], "timestamp": 1_700_000_000_000 + i, "partition": 0} for i in range(5)])
    with socket.create_connection(("127.0.0.1", creek.port), timeout=5) as s:
        s.settimeout(5)
        # FindCoordinator v0: the coordinator is this broker.
        s.sendall(request(10, 0, 1, string("kgo-group")))
        frame = read_frame(s)
        error, node = struct.unpack(">hi", frame[4:10])
        host, offset = read_string(frame, 10)
        (port,) = struct.unpack(">i", frame[offset:offset + 4])
        assert (error, host, port) == (0, "127.0.0.1", creek.port) and node >= 0

        # OffsetCommit v2 from outside the group (generation -1, no member id).
        body = string("kgo-group") + struct.pack(">i", -1) + string("") + struct.pack(">q", -1)
        body += struct.pack(">i", 1) + string("kgo") + struct.pack(">i", 1) + struct.pack(">iq", 0, 3) + string("go")
        s.sendall(request(8, 2, 2, body))
        frame = read_frame(s)
        assert correlation(frame) == 2
        (topics,) = struct.unpack(">i", frame[4:8])
        name, offset = read_string(frame, 8)
        partitions, index, error = struct.unpack(">iih", frame[offset:offset + 10])
        assert (topics, name, partitions, index, error) == (1, "kgo", 1, 0, 0)

        # OffsetFetch v1 reads it back, metadata included.
        body = string("kgo-group") + struct.pack(">i", 1) + string("kgo") + struct.pack(">ii", 1, 0)
        s.sendall(request(9, 1, 3, body))
        frame = read_frame(s)
        name, offset = read_string(frame, 8)
        partitions, index, committed = struct.unpack(">iiq", frame[offset:offset + 16])
        metadata, offset = read_string(frame, offset + 16)
        (error,) = struct.unpack(">h", frame[offset:offset + 2])
        assert (name, index, committed, metadata, error) == ("kgo", 0, 3, "go", 0)

        # Heartbeat v0 and LeaveGroup v0 for a member the group does not know.
        s.sendall(request(12, 0, 4, string("kgo-group") + struct.pack(">i", 1) + string("ghost")))
        assert struct.unpack(">h", read_frame(s)[4:6]) == (25,)
        s.sendall(request(13, 0, 5, string("kgo-group") + string("ghost")))
        assert struct.unpack(">h", read_frame(s)[4:6]) == (25,)

        # ListOffsets v1: latest (-1) and earliest (-2).
        for correlation_id, timestamp, expected in [(6, -1, 5), (7, -2, 0)]:
            body = struct.pack(">i", -1) + struct.pack(">i", 1) + string("kgo") + struct.pack(">i", 1)
            body += struct.pack(">iq", 0, timestamp)
            s.sendall(request(2, 1, correlation_id, body))
            frame = read_frame(s)
            name, offset = read_string(frame, 8)
            partitions, index, error, ts, found = struct.unpack(">iihqq", frame[offset:offset + 26])
            assert (name, index, error, found) == ("kgo", 0, 0, expected)
