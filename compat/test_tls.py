"""SSL listeners (Kafka's names: listeners with SSL in listener.security.protocol.map,
ssl.keystore.location / ssl.truststore.location as PEM, ssl.client.auth) with certificates
the test makes with openssl: confluent-kafka, kafka-python and aiokafka over TLS; mutual TLS;
untrusted certificates, missing client certificates and plaintext clients fail with no data;
certificates reload on SIGHUP without dropping connections."""
import asyncio
import signal
import socket
import ssl
import subprocess
import time

import pytest
from confluent_kafka import Consumer, KafkaException, Producer
from confluent_kafka.admin import AdminClient

from conftest import Creek, free_port


def openssl(*args, cwd):
    subprocess.run(["openssl", *args], cwd=cwd, check=True, capture_output=True)


def make_ca(directory, name):
    openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", f"{name}.key", "-out", f"{name}.pem", "-days", "30",
            "-subj", f"/CN={name}", cwd=directory)
    return directory / f"{name}.pem"


def make_cert(directory, ca, name, common_name, password=None):
    """A certificate for `common_name` (SAN localhost and 127.0.0.1) signed by `ca`; returns
    (keystore with key and chain, certificate, key)."""
    openssl("req", "-newkey", "rsa:2048", "-nodes", "-keyout", f"{name}.key", "-out", f"{name}.csr", "-subj", f"/CN={common_name}", cwd=directory)
    (directory / f"{name}.ext").write_text("subjectAltName=DNS:localhost,IP:127.0.0.1\n")
    openssl("x509", "-req", "-in", f"{name}.csr", "-CA", f"{ca}.pem", "-CAkey", f"{ca}.key", "-CAcreateserial", "-out", f"{name}.pem",
            "-days", "30", "-extfile", f"{name}.ext", cwd=directory)
    key = directory / f"{name}.key"
    if password:
        openssl("pkcs8", "-topk8", "-v2", "aes-256-cbc", "-in", f"{name}.key", "-out", f"{name}.enc.key", "-passout", f"pass:{password}", cwd=directory)
        key = directory / f"{name}.enc.key"
    keystore = directory / f"{name}.keystore.pem"
    keystore.write_text(key.read_text() + (directory / f"{name}.pem").read_text())
    return keystore, directory / f"{name}.pem", directory / f"{name}.key"


@pytest.fixture
def pki(tmp_path):
    certs = tmp_path / "certs"
    certs.mkdir()
    ca = make_ca(certs, "ca")
    server = make_cert(certs, "ca", "server", "localhost", password="s3cret")
    client = make_cert(certs, "ca", "client", "alice")
    other_ca = make_ca(certs, "rogue")
    rogue_client = make_cert(certs, "rogue", "rogue-client", "mallory")
    return {"dir": certs, "ca": ca, "server": server, "client": client, "other_ca": other_ca, "rogue_client": rogue_client}


def tls_broker(tmp_path, pki, client_auth="none"):
    plain, secure = free_port(), free_port()
    broker = Creek(tmp_path / f"data-{client_auth}")
    broker.port = plain
    broker.secure_port = secure
    broker.start([
        "--set", f"listeners=PLAINTEXT://127.0.0.1:{plain},SSL://127.0.0.1:{secure}",
        "--set", f"ssl.keystore.location={pki['server'][0]}", "--set", "ssl.key.password=s3cret",
        "--set", f"ssl.truststore.location={pki['ca']}", "--set", f"ssl.client.auth={client_auth}",
    ])
    return broker


@pytest.fixture
def secure(tmp_path, pki):
    broker = tls_broker(tmp_path, pki)
    yield broker
    assert broker.stop() in (0, None), broker.log()


def confluent_ssl(broker, pki, **extra):
    return {"bootstrap.servers": f"127.0.0.1:{broker.secure_port}", "security.protocol": "SSL", "ssl.ca.location": str(pki["ca"]), **extra}


def round_trip_confluent(config, topic, count=50):
    producer = Producer(config)
    for i in range(count):
        producer.produce(topic, value=b"secret %d" % i)
    assert producer.flush(30) == 0
    consumer = Consumer({**config, "group.id": f"{topic}-readers", "auto.offset.reset": "earliest"})
    consumer.subscribe([topic])
    values = []
    while len(values) < count:
        message = consumer.poll(10)
        assert message is not None and not message.error(), message and message.error()
        values.append(message.value())
    consumer.close()
    return values


def test_three_clients_over_tls(secure, pki):
    assert sorted(round_trip_confluent(confluent_ssl(secure, pki), "confluent-tls")) == sorted(b"secret %d" % i for i in range(50))

    from kafka import KafkaConsumer, KafkaProducer
    producer = KafkaProducer(bootstrap_servers=f"127.0.0.1:{secure.secure_port}", security_protocol="SSL", ssl_cafile=str(pki["ca"]))
    for i in range(20):
        producer.send("python-tls", b"kp %d" % i)
    producer.flush()
    producer.close()
    consumer = KafkaConsumer("python-tls", bootstrap_servers=f"127.0.0.1:{secure.secure_port}", security_protocol="SSL",
                             ssl_cafile=str(pki["ca"]), auto_offset_reset="earliest", consumer_timeout_ms=10000)
    assert sorted(m.value for m in consumer) == sorted(b"kp %d" % i for i in range(20))
    consumer.close()

    async def aio():
        from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
        from aiokafka.helpers import create_ssl_context
        context = create_ssl_context(cafile=str(pki["ca"]))
        common = {"bootstrap_servers": f"127.0.0.1:{secure.secure_port}", "security_protocol": "SSL", "ssl_context": context}
        producer = AIOKafkaProducer(**common)
        await producer.start()
        for i in range(20):
            await producer.send_and_wait("aio-tls", b"aio %d" % i)
        await producer.stop()
        consumer = AIOKafkaConsumer("aio-tls", auto_offset_reset="earliest", **common)
        await consumer.start()
        got = []
        async for message in consumer:
            got.append(message.value)
            if len(got) == 20:
                break
        await consumer.stop()
        return got
    assert sorted(asyncio.run(aio())) == sorted(b"aio %d" % i for i in range(20))

    # Records written over TLS are the same records on the plaintext listener.
    plain = Consumer({"bootstrap.servers": secure.bootstrap, "group.id": "plain-reader", "auto.offset.reset": "earliest"})
    plain.subscribe(["python-tls"])
    message = plain.poll(10)
    plain.close()
    assert message is not None and message.value().startswith(b"kp ")


def test_tls_1_2_and_1_3_and_no_older(secure):
    for version in (ssl.TLSVersion.TLSv1_2, ssl.TLSVersion.TLSv1_3):
        context = ssl.create_default_context()
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
        context.minimum_version = context.maximum_version = version
        with socket.create_connection(("127.0.0.1", secure.secure_port), timeout=5) as raw:
            with context.wrap_socket(raw) as tls:
                assert tls.version() == {ssl.TLSVersion.TLSv1_2: "TLSv1.2", ssl.TLSVersion.TLSv1_3: "TLSv1.3"}[version]
    old = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    old.check_hostname = False
    old.verify_mode = ssl.CERT_NONE
    old.minimum_version = old.maximum_version = ssl.TLSVersion.TLSv1_1
    with socket.create_connection(("127.0.0.1", secure.secure_port), timeout=5) as raw:
        with pytest.raises(ssl.SSLError):
            old.wrap_socket(raw)


def expect_no_access(config):
    admin = AdminClient({**config, "socket.timeout.ms": 3000})
    with pytest.raises(KafkaException):
        admin.list_topics(timeout=5)


def test_untrusted_server_and_plaintext_clients_fail_cleanly(secure, pki):
    expect_no_access(confluent_ssl(secure, pki, **{"ssl.ca.location": str(pki["other_ca"])}))
    expect_no_access({"bootstrap.servers": f"127.0.0.1:{secure.secure_port}"})  # plaintext on the TLS port
    assert round_trip_confluent(confluent_ssl(secure, pki), "still-served", count=5)
    assert "TLS" in secure.log() or "SSL" in secure.log() or "handshake" in secure.log().lower()


def test_mutual_tls(tmp_path, pki):
    broker = tls_broker(tmp_path, pki, client_auth="required")
    try:
        expect_no_access(confluent_ssl(broker, pki))  # no client certificate
        rogue_keystore, rogue_cert, rogue_key = pki["rogue_client"]
        expect_no_access(confluent_ssl(broker, pki, **{"ssl.certificate.location": str(rogue_cert), "ssl.key.location": str(rogue_key)}))
        _, cert, key = pki["client"]
        with_cert = confluent_ssl(broker, pki, **{"ssl.certificate.location": str(cert), "ssl.key.location": str(key)})
        assert len(round_trip_confluent(with_cert, "mtls", count=10)) == 10
        # kafka-python and aiokafka with the same client certificate.
        from kafka import KafkaConsumer, KafkaProducer
        kp = {"bootstrap_servers": f"127.0.0.1:{broker.secure_port}", "security_protocol": "SSL", "ssl_cafile": str(pki["ca"]),
              "ssl_certfile": str(cert), "ssl_keyfile": str(key)}
        producer = KafkaProducer(**kp)
        producer.send("mtls-kp", b"from kafka-python").get(timeout=20)
        producer.close()
        consumer = KafkaConsumer("mtls-kp", auto_offset_reset="earliest", consumer_timeout_ms=10000, **kp)
        assert [m.value for m in consumer][:1] == [b"from kafka-python"]
        consumer.close()

        async def aio():
            from aiokafka import AIOKafkaProducer
            from aiokafka.helpers import create_ssl_context
            context = create_ssl_context(cafile=str(pki["ca"]), certfile=str(cert), keyfile=str(key))
            producer = AIOKafkaProducer(bootstrap_servers=f"127.0.0.1:{broker.secure_port}", security_protocol="SSL", ssl_context=context)
            await producer.start()
            try:
                return await producer.send_and_wait("mtls-aio", b"from aiokafka")
            finally:
                await producer.stop()
        assert asyncio.run(aio()).offset == 0
    finally:
        broker.stop()


def server_common_name(port):
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    with socket.create_connection(("127.0.0.1", port), timeout=5) as raw:
        with context.wrap_socket(raw) as tls:
            der = tls.getpeercert(binary_form=True)
    text = subprocess.run(["openssl", "x509", "-inform", "DER", "-noout", "-subject"], input=der, capture_output=True, check=True).stdout
    return text.decode().strip()


def test_certificates_reload_on_sighup_without_dropping_connections(secure, pki):
    producer = Producer(confluent_ssl(secure, pki))
    producer.produce("reloading", value=b"before")
    assert producer.flush(30) == 0
    assert "CN = localhost" in server_common_name(secure.secure_port)

    renewed, _, _ = make_cert(pki["dir"], "ca", "renewed", "localhost-renewed", password="s3cret")
    pki["server"][0].write_text(renewed.read_text())
    secure.process.send_signal(signal.SIGHUP)
    deadline = time.monotonic() + 10
    while "localhost-renewed" not in server_common_name(secure.secure_port):
        assert time.monotonic() < deadline, "the new certificate was not served"
        time.sleep(0.2)
    # The producer's connection from before the reload still works.
    producer.produce("reloading", value=b"after")
    assert producer.flush(30) == 0
    assert "reloaded TLS certificates" in secure.log()


def expired_cert(directory, ca_name, name, common_name):
    """A certificate signed by the CA that expired yesterday (made with `cryptography`,
    since openssl's x509 command cannot backdate)."""
    import datetime
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import rsa
    from cryptography.x509.oid import NameOID
    ca_key = serialization.load_pem_private_key((directory / f"{ca_name}.key").read_bytes(), password=None)
    ca_cert = x509.load_pem_x509_certificate((directory / f"{ca_name}.pem").read_bytes())
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)]))
            .issuer_name(ca_cert.subject).public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(days=30)).not_valid_after(now - datetime.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([x509.DNSName("localhost"), x509.IPAddress(__import__("ipaddress").ip_address("127.0.0.1"))]), critical=False)
            .sign(ca_key, hashes.SHA256()))
    key_path, cert_path = directory / f"{name}.key", directory / f"{name}.pem"
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL, serialization.NoEncryption()))
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    keystore = directory / f"{name}.keystore.pem"
    keystore.write_bytes(key_path.read_bytes() + cert_path.read_bytes())
    return keystore, cert_path, key_path


def test_expired_certificates_fail_cleanly(tmp_path, pki):
    # An expired client certificate on a mutual-TLS listener: no access.
    broker = tls_broker(tmp_path, pki, client_auth="required")
    try:
        _, cert, key = expired_cert(pki["dir"], "ca", "expired-client", "alice")
        expect_no_access(confluent_ssl(broker, pki, **{"ssl.certificate.location": str(cert), "ssl.key.location": str(key)}))
        _, good_cert, good_key = pki["client"]
        assert len(round_trip_confluent(confluent_ssl(broker, pki, **{"ssl.certificate.location": str(good_cert), "ssl.key.location": str(good_key)}), "after-expired", count=3)) == 3
    finally:
        broker.stop()
    # A broker whose own certificate expired: clients refuse it.
    keystore, _, _ = expired_cert(pki["dir"], "ca", "expired-server", "localhost")
    stale = Creek(tmp_path / "data-stale")
    plain, secure_port = free_port(), free_port()
    stale.port, stale.secure_port = plain, secure_port
    stale.start(["--set", f"listeners=PLAINTEXT://127.0.0.1:{plain},SSL://127.0.0.1:{secure_port}",
                 "--set", f"ssl.keystore.location={keystore}"])
    try:
        expect_no_access(confluent_ssl(stale, pki))
    finally:
        stale.stop()
