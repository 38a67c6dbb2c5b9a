"""Raw-socket bad input: each case is answered (in order) or closed promptly, and other
connections keep being served."""
import os
import socket
import struct
import time

import pytest


def request(api_key, version, correlation_id, body=b"", client_id=b"raw"):
    header = struct.pack(">hhih", api_key, version, correlation_id, len(client_id)) + client_id
    payload = header + body
    return struct.pack(">i", len(payload)) + payload


def api_versions_v0(correlation_id):
    return request(18, 0, correlation_id)


def metadata_v1_no_topics(correlation_id):
    return request(3, 1, correlation_id, struct.pack(">i", 0))


def connect(creek):
    s = socket.create_connection(("127.0.0.1", creek.port), timeout=5)
    s.settimeout(5)
    return s


def read_frame(s):
    def exactly(n):
        data = b""
        while len(data) < n:
            chunk = s.recv(n - len(data))
            if not chunk:
                raise ConnectionError("closed")
            data += chunk
        return data
    (length,) = struct.unpack(">i", exactly(4))
    return exactly(length)


def correlation(frame):
    return struct.unpack(">i", frame[:4])[0]


def assert_closed(s, timeout=5):
    s.settimeout(timeout)
    started = time.monotonic()
    try:
        while True:
            data = s.recv(4096)
            if not data:
                break
    except ConnectionResetError:
        pass
    assert time.monotonic() - started < timeout


def assert_served(creek):
    with connect(creek) as s:
        s.sendall(api_versions_v0(99))
        assert correlation(read_frame(s)) == 99


@pytest.mark.parametrize("payload", [
    os.urandom(64),
    struct.pack(">i", -5) + b"xxxx",
    struct.pack(">i", 0x7FFFFFFF) + b"xxxx",
    request(999, 0, 1),
    request(3, 99, 1, struct.pack(">i", 0)),
    request(3, 1, 1, b"\xff"),
], ids=["garbage", "negative-length", "huge-length", "unknown-api-key", "unsupported-version", "malformed-body"])
def test_bad_frames_close_the_connection(creek, payload):
    with connect(creek) as s:
        s.sendall(payload)
        assert_closed(s)
    assert_served(creek)


def test_unsupported_api_versions_version_gets_v0_error(creek):
    with connect(creek) as s:
        s.sendall(request(18, 99, 7, b"\x00\x00\x00"))
        frame = read_frame(s)
        assert correlation(frame) == 7
        error_code, count = struct.unpack(">hi", frame[4:10])
        assert error_code == 35
        key, low, high = struct.unpack(">hhh", frame[10:16])
        assert (count, key, low) == (1, 18, 0) and high >= 3


def test_one_byte_writes(creek):
    with connect(creek) as s:
        for byte in api_versions_v0(5):
            s.sendall(bytes([byte]))
        assert correlation(read_frame(s)) == 5


def test_pipelined_requests_answered_in_order(creek):
    with connect(creek) as s:
        s.sendall(b"".join([api_versions_v0(1), metadata_v1_no_topics(2), api_versions_v0(3),
                            metadata_v1_no_topics(4)]))
        assert [correlation(read_frame(s)) for _ in range(4)] == [1, 2, 3, 4]


def test_truncated_frame_does_not_block_others(creek):
    stuck = connect(creek)
    stuck.sendall(api_versions_v0(1)[:-3])
    for _ in range(3):
        assert_served(creek)
    stuck.close()
    assert_served(creek)


def test_unserved_old_fetch_version_gets_unsupported_version(creek):
    # Fetch v3: replica_id, max_wait, min_bytes, max_bytes, [topic [partition offset max_bytes]].
    body = struct.pack(">iiii", -1, 0, 1, 1000) + struct.pack(">i", 1) + struct.pack(">h", 1) + b"t"
    body += struct.pack(">i", 1) + struct.pack(">iqi", 0, 0, 1000)
    with connect(creek) as s:
        s.sendall(request(1, 3, 21, body))
        frame = read_frame(s)
        assert correlation(frame) == 21
        # throttle_time_ms, [topic: name, [partition: index, error_code ...]]
        throttle, topics, name_len = struct.unpack(">iih", frame[4:14])
        assert (topics, frame[14:14 + name_len]) == (1, b"t")
        offset = 14 + name_len
        partitions, index, error = struct.unpack(">iih", frame[offset:offset + 10])
        assert (partitions, index, error) == (1, 0, 35)


@pytest.mark.parametrize("args, message", [
    (["--set", "no.such.setting=1"], "unknown setting"),
    (["--set", "num.partitions=zero"], "must be an integer"),
    (["--set", "log.retention.ms=-5"], "between"),
    (["--flush", "sometimes"], "os, acks-all or always"),
    (["--listen", "nowhere"], "HOST:PORT"),
    (["--add-scram", "SCRAM-SHA-1=[name=a,password=b]"], "SCRAM-SHA-256 or SCRAM-SHA-512"),
    (["--add-scram", "SCRAM-SHA-256=[name=a]"], "password= is required"),
    (["--add-scram", "SCRAM-SHA-256=[name=a,password=b,iterations=10]"], "iterations must be 4096-16384"),
])
def test_bad_settings_stop_startup(tmp_path, args, message):
    import subprocess
    from conftest import creek_binary
    result = subprocess.run([creek_binary(), "serve", "--data-dir", str(tmp_path / "d"), *args],
                            capture_output=True, text=True, timeout=30)
    assert result.returncode != 0
    assert message in result.stderr, result.stderr


def test_apis_creek_does_not_serve_get_an_error_response_not_a_closed_connection(creek):
    """UIs call optional admin APIs: the ACL APIs without an authorizer answer
    SECURITY_DISABLED (as Kafka does); APIs Creek does not serve whose response has a
    top-level error code answer UNSUPPORTED_VERSION; the connection stays usable."""
    with connect(creek) as s:
        # DescribeAcls v1: resource type filter ANY, name/pattern null, principal/host null,
        # operation ANY, permission ANY.
        body = struct.pack(">bhbhhbb", 1, -1, 3, -1, -1, 1, 1)
        s.sendall(request(29, 1, 7, body))
        frame = read_frame(s)
        assert correlation(frame) == 7
        throttle, code = struct.unpack(">ih", frame[4:10])
        assert code == 54  # SECURITY_DISABLED
        # DescribeDelegationToken v0 (not served): owners null; the error code comes first.
        s.sendall(request(41, 0, 8, struct.pack(">i", -1)))
        frame = read_frame(s)
        assert correlation(frame) == 8 and struct.unpack(">h", frame[4:6])[0] == 35  # UNSUPPORTED_VERSION
        s.sendall(metadata_v1_no_topics(9))
        assert correlation(read_frame(s)) == 9
