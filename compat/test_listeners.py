"""Several named listeners (Kafka's listeners / advertised.listeners /
listener.security.protocol.map): each client is told the advertised address of the
listener it connected to, and records written through one are read through the other."""
import subprocess

import pytest
from confluent_kafka import Consumer, Producer, TopicPartition
from kafka.admin import KafkaAdminClient

from conftest import Creek, creek_binary, free_port


@pytest.fixture
def two_listeners(tmp_path):
    internal, external = free_port(), free_port()
    broker = Creek(tmp_path / "data")
    broker.port = internal
    broker.start([
        "--set", f"listeners=INTERNAL://127.0.0.1:{internal},EXTERNAL://127.0.0.1:{external}",
        "--set", f"advertised.listeners=INTERNAL://127.0.0.1:{internal},EXTERNAL://localhost:{external}",
        "--set", "listener.security.protocol.map=INTERNAL:PLAINTEXT,EXTERNAL:PLAINTEXT",
        "--set", "inter.broker.listener.name=INTERNAL",
    ])
    yield broker, internal, external
    assert broker.stop() in (0, None), broker.log()


def advertised(port):
    admin = KafkaAdminClient(bootstrap_servers=f"127.0.0.1:{port}")
    try:
        return [(b["host"], b["port"]) for b in admin.describe_cluster()["brokers"]]
    finally:
        admin.close()


def test_each_listener_advertises_its_own_address(two_listeners):
    broker, internal, external = two_listeners
    assert advertised(internal) == [("127.0.0.1", internal)]
    assert advertised(external) == [("localhost", external)]
    consumer = Consumer({"bootstrap.servers": f"127.0.0.1:{external}", "group.id": "x"})
    metadata = consumer.list_topics(timeout=10)
    consumer.close()
    assert [(b.host, b.port) for b in metadata.brokers.values()] == [("localhost", external)]


def test_written_through_one_listener_read_through_the_other(two_listeners):
    broker, internal, external = two_listeners
    producer = Producer({"bootstrap.servers": f"localhost:{external}"})
    for i in range(100):
        producer.produce("crossing", key=b"k%d" % i, value=b"v%d" % i)
    assert producer.flush(30) == 0
    consumer = Consumer({"bootstrap.servers": f"127.0.0.1:{internal}", "group.id": "crossers", "auto.offset.reset": "earliest"})
    consumer.subscribe(["crossing"])
    values = []
    while len(values) < 100:
        message = consumer.poll(10)
        assert message is not None and not message.error()
        values.append(message.value())
    consumer.close()
    assert sorted(values) == sorted(b"v%d" % i for i in range(100))


@pytest.mark.parametrize("settings, message", [
    (["listeners=A://127.0.0.1:0,B://127.0.0.1:0"], "listener A has no security protocol"),
    (["listeners=PLAINTEXT://127.0.0.1:0", "advertised.listeners=OTHER://h:1"], "OTHER is not one of the listeners"),
    (["listeners=SSL://127.0.0.1:0"], "set ssl.keystore.location"),
    (["listeners=SASL_SSL://127.0.0.1:0"], "listener SASL_SSL is SASL_SSL: set ssl.keystore.location"),
    (["listeners=SASL_PLAINTEXT://127.0.0.1:0", "sasl.enabled.mechanisms=GSSAPI"], "GSSAPI is not served"),
    (["listeners=SASL_PLAINTEXT://127.0.0.1:0", "connections.max.reauth.ms=-1"], "connections.max.reauth.ms"),
    (["listeners=A://127.0.0.1:9,B://127.0.0.1:9"], "port 9 appears twice"),
])
def test_inconsistent_listener_settings_stop_startup(tmp_path, settings, message):
    args = [creek_binary(), "serve", "--data-dir", str(tmp_path / "d"), "--http", "off"]
    for setting in settings:
        args += ["--set", setting]
    result = subprocess.run(args, capture_output=True, text=True, timeout=30)
    assert result.returncode != 0 and message in result.stderr, result.stderr
