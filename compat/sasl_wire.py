"""A raw-socket SASL client for the attacker tests: Kafka frames for SaslHandshake v1 and
SaslAuthenticate v1, and a SCRAM client (RFC 5802) to drive them by hand."""
import base64
import hashlib
import hmac
import os
import struct

from test_bad_input import read_frame, request


def handshake(sock, mechanism, correlation_id=1):
    name = mechanism.encode()
    sock.sendall(request(17, 1, correlation_id, struct.pack(">h", len(name)) + name))
    frame = read_frame(sock)
    (error,) = struct.unpack(">h", frame[4:6])
    (count,) = struct.unpack(">i", frame[6:10])
    mechanisms, at = [], 10
    for _ in range(count):
        (length,) = struct.unpack(">h", frame[at:at + 2])
        mechanisms.append(frame[at + 2:at + 2 + length].decode())
        at += 2 + length
    return error, mechanisms


def authenticate(sock, token, correlation_id=2):
    """SaslAuthenticate v1: returns (error code, error message, auth bytes, session lifetime ms)."""
    sock.sendall(request(36, 1, correlation_id, struct.pack(">i", len(token)) + token))
    frame = read_frame(sock)
    (error,) = struct.unpack(">h", frame[4:6])
    (message_length,) = struct.unpack(">h", frame[6:8])
    at = 8
    message = None
    if message_length >= 0:
        message = frame[at:at + message_length].decode()
        at += message_length
    (token_length,) = struct.unpack(">i", frame[at:at + 4])
    auth = frame[at + 4:at + 4 + token_length]
    (lifetime,) = struct.unpack(">q", frame[at + 4 + token_length:at + 12 + token_length])
    return error, message, auth, lifetime


class ScramClient:
    """The client side of one SCRAM exchange."""

    def __init__(self, mechanism, user, password):
        self.hash = hashlib.sha256 if mechanism == "SCRAM-SHA-256" else hashlib.sha512
        self.user, self.password = user, password
        self.nonce = base64.b64encode(os.urandom(18)).decode()
        self.first_bare = f"n={user},r={self.nonce}"

    def first(self):
        return f"n,,{self.first_bare}".encode()

    def final(self, server_first):
        fields = dict(part.split("=", 1) for part in server_first.decode().split(","))
        salted = hashlib.pbkdf2_hmac(self.hash().name, self.password.encode(), base64.b64decode(fields["s"]), int(fields["i"]))
        client_key = hmac.new(salted, b"Client Key", self.hash).digest()
        stored_key = self.hash(client_key).digest()
        without_proof = f"c=biws,r={fields['r']}"
        auth_message = f"{self.first_bare},{server_first.decode()},{without_proof}".encode()
        signature = hmac.new(stored_key, auth_message, self.hash).digest()
        proof = bytes(a ^ b for a, b in zip(client_key, signature))
        self.server_signature = hmac.new(hmac.new(salted, b"Server Key", self.hash).digest(), auth_message, self.hash).digest()
        return f"{without_proof},p={base64.b64encode(proof).decode()}".encode()
