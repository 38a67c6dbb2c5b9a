"""SASL listeners (SASL_PLAINTEXT and SASL_SSL with PLAIN, SCRAM-SHA-256 and SCRAM-SHA-512)
with confluent-kafka, kafka-python and aiokafka; SCRAM users managed through the admin API
and kept across restarts; re-authentication (KIP-368); and attacks by hand on a raw socket:
requests before the login, SaslAuthenticate before SaslHandshake, a replayed SCRAM exchange,
a flood of failed logins. Every failure ends in an error and a closed connection, and the
broker keeps serving everyone else."""
import asyncio
import socket
import threading
import time

import pytest
from confluent_kafka import Consumer, KafkaError, Producer
from confluent_kafka.admin import (AdminClient, ScramCredentialInfo, ScramMechanism, UserScramCredentialDeletion,
                                   UserScramCredentialUpsertion)

from conftest import Creek, free_port
from sasl_wire import ScramClient, authenticate, handshake
from test_bad_input import assert_closed, metadata_v1_no_topics, read_frame
from test_tls import pki  # noqa: F401  (fixture)

ALICE = ["--add-scram", "SCRAM-SHA-256=[name=alice,password=alice-secret]",
         "--add-scram", "SCRAM-SHA-512=[name=alice,password=alice-secret,iterations=4096]"]
MECHANISMS = ["PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"]


def start_sasl_broker(data_dir, pki, *extra):
    broker = Creek(data_dir)
    broker.port, broker.sasl_port, broker.sasl_ssl_port = free_port(), free_port(), free_port()
    broker.start([
        "--set", f"listeners=PLAINTEXT://127.0.0.1:{broker.port},SASL_PLAINTEXT://127.0.0.1:{broker.sasl_port},"
                 f"SASL_SSL://127.0.0.1:{broker.sasl_ssl_port}",
        "--set", f"ssl.keystore.location={pki['server'][0]}", "--set", "ssl.key.password=s3cret", *extra,
    ])
    return broker


@pytest.fixture
def sasl(tmp_path, pki):
    broker = start_sasl_broker(tmp_path / "data", pki, *ALICE)
    yield broker
    assert broker.stop() in (0, None), broker.log()


def confluent_config(broker, pki, mechanism, protocol="SASL_PLAINTEXT", user="alice", password="alice-secret", **extra):
    port = broker.sasl_port if protocol == "SASL_PLAINTEXT" else broker.sasl_ssl_port
    config = {"bootstrap.servers": f"127.0.0.1:{port}", "security.protocol": protocol, "sasl.mechanism": mechanism,
              "sasl.username": user, "sasl.password": password, **extra}
    if protocol == "SASL_SSL":
        config["ssl.ca.location"] = str(pki["ca"])
    return config


def confluent_round_trip(config, topic, count=20):
    errors = []
    producer = Producer({**config, "error_cb": errors.append})
    for i in range(count):
        producer.produce(topic, key=b"k%d" % i, value=b"v%d" % i)
    assert producer.flush(20) == 0, f"undelivered; errors: {errors}"
    consumer = Consumer({**config, "group.id": f"g-{topic}", "auto.offset.reset": "earliest"})
    consumer.subscribe([topic])
    values = []
    deadline = time.monotonic() + 30
    while len(values) < count and time.monotonic() < deadline:
        message = consumer.poll(0.5)
        if message is not None and message.error() is None:
            values.append(message.value())
    consumer.close()
    assert values == [b"v%d" % i for i in range(count)]


def assert_login_refused(config, topic="never-written"):
    """A producer with these settings gets an authentication error and delivers nothing."""
    errors, reports = [], []
    producer = Producer({**config, "error_cb": errors.append, "message.timeout.ms": 3000})
    producer.produce(topic, b"x", on_delivery=lambda err, msg: reports.append(err))
    producer.flush(10)
    assert len(reports) == 1 and reports[0] is not None, "the record must not be delivered"
    assert any(e.code() == KafkaError._AUTHENTICATION for e in errors), errors


def topic_names(broker):
    return set(AdminClient({"bootstrap.servers": broker.bootstrap}).list_topics(timeout=10).topics)


@pytest.mark.parametrize("protocol", ["SASL_PLAINTEXT", "SASL_SSL"])
@pytest.mark.parametrize("mechanism", MECHANISMS)
def test_confluent_kafka_logs_in_and_round_trips(sasl, pki, mechanism, protocol):
    confluent_round_trip(confluent_config(sasl, pki, mechanism, protocol), f"c-{mechanism}-{protocol}".lower())


@pytest.mark.parametrize("mechanism,protocol", [("SCRAM-SHA-512", "SASL_PLAINTEXT"), ("PLAIN", "SASL_SSL"), ("SCRAM-SHA-256", "SASL_SSL")])
def test_kafka_python_logs_in_and_round_trips(sasl, pki, mechanism, protocol):
    from kafka import KafkaConsumer, KafkaProducer
    port = sasl.sasl_port if protocol == "SASL_PLAINTEXT" else sasl.sasl_ssl_port
    common = {"bootstrap_servers": f"127.0.0.1:{port}", "security_protocol": protocol, "sasl_mechanism": mechanism,
              "sasl_plain_username": "alice", "sasl_plain_password": "alice-secret"}
    if protocol == "SASL_SSL":
        common["ssl_cafile"] = str(pki["ca"])
    topic = f"kp-{mechanism}-{protocol}".lower()
    producer = KafkaProducer(**common)
    for i in range(10):
        producer.send(topic, b"v%d" % i).get(timeout=20)
    producer.close()
    consumer = KafkaConsumer(topic, group_id=f"g-{topic}", auto_offset_reset="earliest", consumer_timeout_ms=15000, **common)
    values = []
    for message in consumer:
        values.append(message.value)
        if len(values) == 10:
            break
    consumer.close()
    assert values == [b"v%d" % i for i in range(10)]


@pytest.mark.parametrize("mechanism,protocol", [("SCRAM-SHA-256", "SASL_SSL"), ("SCRAM-SHA-512", "SASL_PLAINTEXT"), ("PLAIN", "SASL_SSL")])
def test_aiokafka_logs_in(sasl, pki, mechanism, protocol):
    from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
    from aiokafka.helpers import create_ssl_context
    topic = f"aio-{mechanism}-{protocol}".lower()

    async def run():
        port = sasl.sasl_port if protocol == "SASL_PLAINTEXT" else sasl.sasl_ssl_port
        common = {"bootstrap_servers": f"127.0.0.1:{port}", "security_protocol": protocol, "sasl_mechanism": mechanism,
                  "sasl_plain_username": "alice", "sasl_plain_password": "alice-secret"}
        if protocol == "SASL_SSL":
            common["ssl_context"] = create_ssl_context(cafile=str(pki["ca"]))
        producer = AIOKafkaProducer(**common)
        await producer.start()
        try:
            for i in range(10):
                await producer.send_and_wait(topic, b"v%d" % i)
        finally:
            await producer.stop()
        consumer = AIOKafkaConsumer(topic, group_id=f"g-{topic}", auto_offset_reset="earliest", **common)
        await consumer.start()
        values = []
        try:
            deadline = time.monotonic() + 20
            while len(values) < 10 and time.monotonic() < deadline:
                for messages in (await consumer.getmany(timeout_ms=500)).values():
                    values.extend(m.value for m in messages)
        finally:
            await consumer.stop()
        return values

    assert asyncio.run(run()) == [b"v%d" % i for i in range(10)]


@pytest.mark.parametrize("mechanism", MECHANISMS)
def test_wrong_password_fails_with_no_data_access(sasl, pki, mechanism):
    assert_login_refused(confluent_config(sasl, pki, mechanism, password="guess"))
    assert "never-written" not in topic_names(sasl)
    assert "SASL_AUTHENTICATION_FAILED" in sasl.log()


def test_unknown_user_fails_like_a_wrong_password(sasl, pki):
    with socket.create_connection(("127.0.0.1", sasl.sasl_port), timeout=5) as s:
        assert handshake(s, "SCRAM-SHA-256")[0] == 0
        client = ScramClient("SCRAM-SHA-256", "nobody", "pw")
        error, _, server_first, _ = authenticate(s, client.first())
        assert error == 0 and b"s=" in server_first and b"i=4096" in server_first
        error, message, _, _ = authenticate(s, client.final(server_first), correlation_id=3)
        assert error == 58 and "Invalid username or password" in message
        assert_closed(s)


def test_mechanism_not_enabled_is_refused(tmp_path, pki):
    broker = start_sasl_broker(tmp_path / "data", pki, *ALICE, "--set", "sasl.enabled.mechanisms=SCRAM-SHA-512")
    try:
        with socket.create_connection(("127.0.0.1", broker.sasl_port), timeout=5) as s:
            error, mechanisms = handshake(s, "PLAIN")
            assert error == 33 and mechanisms == ["SCRAM-SHA-512"]
            assert_closed(s)
        assert_login_refused(confluent_config(broker, pki, "SCRAM-SHA-256"))
        confluent_round_trip(confluent_config(broker, pki, "SCRAM-SHA-512"), "only-512")
    finally:
        broker.stop()


def test_requests_before_login_close_the_connection(sasl):
    with socket.create_connection(("127.0.0.1", sasl.sasl_port), timeout=5) as s:
        s.sendall(metadata_v1_no_topics(1))
        assert_closed(s)
    with socket.create_connection(("127.0.0.1", sasl.sasl_port), timeout=5) as s:
        error, message, _, _ = authenticate(s, b"\0alice\0alice-secret")
        assert error == 34, message
        assert_closed(s)
    with socket.create_connection(("127.0.0.1", sasl.sasl_port), timeout=5) as s:
        assert handshake(s, "PLAIN")[0] == 0
        s.sendall(metadata_v1_no_topics(2))
        assert_closed(s)
    assert "before SASL authentication" in sasl.log()


def test_replayed_scram_exchange_is_refused(sasl):
    with socket.create_connection(("127.0.0.1", sasl.sasl_port), timeout=5) as s:
        assert handshake(s, "SCRAM-SHA-512")[0] == 0
        client = ScramClient("SCRAM-SHA-512", "alice", "alice-secret")
        first = client.first()
        _, _, server_first, _ = authenticate(s, first)
        final = client.final(server_first)
        error, _, server_final, _ = authenticate(s, final, correlation_id=3)
        assert error == 0 and server_final.startswith(b"v=")
        assert server_final[2:] == __import__("base64").b64encode(client.server_signature)
    with socket.create_connection(("127.0.0.1", sasl.sasl_port), timeout=5) as s:
        assert handshake(s, "SCRAM-SHA-512")[0] == 0
        _, _, fresh_first, _ = authenticate(s, first)
        assert fresh_first != server_first, "the server nonce must change"
        error, _, _, _ = authenticate(s, final, correlation_id=3)
        assert error != 0
        assert_closed(s)


def test_flood_of_failed_logins_does_not_stop_others(sasl, pki):
    def guess():
        try:
            with socket.create_connection(("127.0.0.1", sasl.sasl_port), timeout=10) as s:
                handshake(s, "PLAIN")
                assert authenticate(s, b"\0alice\0wrong")[0] == 58
                assert_closed(s)
        except (ConnectionError, OSError):
            pass

    started = time.monotonic()
    threads = [threading.Thread(target=guess) for _ in range(40)]
    for thread in threads:
        thread.start()
    confluent_round_trip(confluent_config(sasl, pki, "SCRAM-SHA-256"), "during-flood")
    for thread in threads:
        thread.join(30)
    assert time.monotonic() - started < 30
    with socket.create_connection(("127.0.0.1", sasl.sasl_port), timeout=5) as s:
        assert handshake(s, "PLAIN")[0] == 0
        began = time.monotonic()
        assert authenticate(s, b"\0alice\0wrong")[0] == 58
        assert time.monotonic() - began >= 0.09, "failed logins are answered after the delay"


def test_scram_users_managed_through_admin_api_and_kept_across_restarts(tmp_path, pki):
    broker = start_sasl_broker(tmp_path / "data", pki, *ALICE)
    try:
        admin = AdminClient(confluent_config(broker, pki, "SCRAM-SHA-256"))
        upsert = UserScramCredentialUpsertion("bob", ScramCredentialInfo(ScramMechanism.SCRAM_SHA_256, 8192), b"bob-secret")
        for future in admin.alter_user_scram_credentials([upsert]).values():
            future.result(10)
        described = admin.describe_user_scram_credentials().result(10)
        assert {user: sorted((i.mechanism, i.iterations) for i in d.scram_credential_infos) for user, d in described.items()} == {
            "alice": [(ScramMechanism.SCRAM_SHA_256, 8192), (ScramMechanism.SCRAM_SHA_512, 4096)],
            "bob": [(ScramMechanism.SCRAM_SHA_256, 8192)],
        }
        confluent_round_trip(confluent_config(broker, pki, "SCRAM-SHA-256", user="bob", password="bob-secret"), "bobs")
        confluent_round_trip(confluent_config(broker, pki, "PLAIN", user="bob", password="bob-secret"), "bobs-plain")
        missing = admin.describe_user_scram_credentials(["carol"])["carol"]
        with pytest.raises(Exception, match="RESOURCE_NOT_FOUND|does not exist"):
            missing.result(10)
        broker.stop()
        broker.start(broker.extra_args[:-4])  # without --add-scram: alice and bob come from the data directory
        confluent_round_trip(confluent_config(broker, pki, "SCRAM-SHA-512"), "after-restart")
        admin = AdminClient(confluent_config(broker, pki, "SCRAM-SHA-512"))
        deletion = UserScramCredentialDeletion("bob", ScramMechanism.SCRAM_SHA_256)
        for future in admin.alter_user_scram_credentials([deletion]).values():
            future.result(10)
        assert_login_refused(confluent_config(broker, pki, "SCRAM-SHA-256", user="bob", password="bob-secret"), "bobs")
    finally:
        broker.stop()


def test_reauthentication_keeps_the_connection(tmp_path, pki):
    broker = start_sasl_broker(tmp_path / "data", pki, *ALICE, "--set", "connections.max.reauth.ms=1500")
    try:
        with socket.create_connection(("127.0.0.1", broker.sasl_port), timeout=5) as s:
            assert handshake(s, "PLAIN")[0] == 0
            error, _, _, lifetime = authenticate(s, b"\0alice\0alice-secret")
            assert error == 0 and 0 < lifetime <= 1500
            time.sleep(1.7)
            s.sendall(metadata_v1_no_topics(5))
            assert_closed(s)
        assert "re-authentication" in broker.log()
        errors = []
        producer = Producer({**confluent_config(broker, pki, "SCRAM-SHA-256"), "error_cb": errors.append})
        delivered = []
        deadline = time.monotonic() + 5
        i = 0
        while time.monotonic() < deadline:
            producer.produce("reauth", b"v%d" % i, on_delivery=lambda err, msg: delivered.append(err))
            producer.poll(0.05)
            i += 1
        assert producer.flush(20) == 0
        assert len(delivered) == i and all(err is None for err in delivered), errors
        assert broker.log().count("SASL session expired") == 1, "librdkafka re-authenticated in time"
    finally:
        broker.stop()


@pytest.mark.parametrize("mechanism,protocol", [("SCRAM-SHA-512", "SASL_SSL"), ("SCRAM-SHA-256", "SASL_PLAINTEXT"), ("PLAIN", "SASL_SSL")])
def test_creek_cli_logs_in(sasl, pki, tmp_path, mechanism, protocol):
    """The creek CLI (the Swift client) over SASL and TLS, configured as Kafka's tools are."""
    import json
    import subprocess
    from conftest import creek_binary
    port = sasl.sasl_port if protocol == "SASL_PLAINTEXT" else sasl.sasl_ssl_port
    settings = tmp_path / "client.properties"
    settings.write_text(f"security.protocol={protocol}\nsasl.mechanism={mechanism}\n"
                        'sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required username="alice" password="alice-secret";\n'
                        f"ssl.ca.location={pki['ca']}\n")

    def cli(*args, stdin=None, config=settings, check=True):
        result = subprocess.run([creek_binary(), *args, "--brokers", f"127.0.0.1:{port}", "--command-config", str(config)],
                                input=stdin, capture_output=True, text=True, timeout=60)
        assert not check or result.returncode == 0, result.stderr
        return result

    cli("topic", "create", "cli-secure", "--partitions", "2")
    assert "cli-secure" in cli("topic", "list").stdout
    cli("produce", "cli-secure", stdin="one\ntwo\nthree\n")
    consumed = cli("consume", "cli-secure", "--from", "beginning", "--count", "3", "--format", "%v\n").stdout.split()
    assert sorted(consumed) == ["one", "three", "two"]
    wrong = tmp_path / "wrong.properties"
    wrong.write_text(settings.read_text().replace("alice-secret", "guess"))
    failed = cli("topic", "list", config=wrong, check=False)
    assert failed.returncode == 1 and "SASL_AUTHENTICATION_FAILED" in failed.stderr
