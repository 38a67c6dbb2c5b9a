"""SCRAM credentials, ACLs and client quotas shared by a three-broker cluster (PostgreSQL's
`creek_documents`): users only the first broker was started with log in at the others, an
ACL or a user added through one broker holds at every broker within seconds, and a broker
started on an empty data directory has them all."""
import shutil
import subprocess
import time

import pytest
from confluent_kafka import KafkaException, Producer
from confluent_kafka.admin import (AclBinding, AclBindingFilter, AclOperation, AclPermissionType, AdminClient, ResourcePatternType,
                                   ResourceType, ScramCredentialInfo, ScramMechanism, UserScramCredentialUpsertion)

from clients import create_topic
from conftest import Creek, creek_binary, free_port

USERS = ["--add-scram", "SCRAM-SHA-256=[name=admin,password=admin-secret]",
         "--add-scram", "SCRAM-SHA-256=[name=alice,password=alice-secret]"]


def start(broker, node, *extra):
    broker.start(["--node-id", str(node), "--set", "creek.cluster.lease.ms=2000",
                  "--set", f"listeners=PLAINTEXT://127.0.0.1:{broker.port},SASL_PLAINTEXT://127.0.0.1:{broker.sasl_port}",
                  "--set", "authorizer.class.name=creek", "--set", "super.users=User:admin;User:ANONYMOUS", *extra])


@pytest.fixture
def secured_cluster(tmp_path, postgres):
    url = postgres.create_database("secured")
    brokers = []
    for node in (1, 2, 3):
        broker = Creek(tmp_path / f"node{node}", storage_url=url)
        broker.sasl_port = free_port()
        # Only the first broker is told about users: the others get them from the cluster.
        start(broker, node, *(USERS if node == 1 else []))
        brokers.append(broker)
    yield brokers
    for broker in brokers:
        if broker.process is not None:
            broker.stop()


def sasl(broker, user, password):
    return {"bootstrap.servers": f"127.0.0.1:{broker.sasl_port}", "security.protocol": "SASL_PLAINTEXT",
            "sasl.mechanism": "SCRAM-SHA-256", "sasl.username": user, "sasl.password": password}


def logs_in(broker, user, password):
    try:
        AdminClient(sasl(broker, user, password)).list_topics(timeout=5)
        return True
    except KafkaException:
        return False


def produced(broker, user, password, topic):
    """Whether one record from `user` through `broker` is acknowledged."""
    reports = []
    producer = Producer({**sasl(broker, user, password), "message.timeout.ms": 4000})
    producer.produce(topic, b"v", on_delivery=lambda err, msg: reports.append(err))
    producer.flush(10)
    return len(reports) == 1 and reports[0] is None


def eventually(check, timeout=10):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(0.5)
    return check()


def cli(broker, *args):
    result = subprocess.run([creek_binary(), *args, "--brokers", broker.bootstrap], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_credentials_acls_and_quotas_are_the_clusters(secured_cluster, tmp_path):
    b1, b2, b3 = secured_cluster
    # Users from broker 1's command line log in at brokers 2 and 3.
    assert logs_in(b3, "alice", "alice-secret") and logs_in(b2, "admin", "admin-secret")
    assert not logs_in(b3, "alice", "wrong")

    # An ACL added through broker 1 holds at broker 3 (alice writes only once it exists).
    create_topic(b1.bootstrap, "shared", 3)
    assert not produced(b3, "alice", "alice-secret", "shared")
    binding = AclBinding(ResourceType.TOPIC, "shared", ResourcePatternType.LITERAL, "User:alice", "*",
                         AclOperation.WRITE, AclPermissionType.ALLOW)
    admin1 = AdminClient({"bootstrap.servers": b1.bootstrap})
    for future in admin1.create_acls([binding]).values():
        future.result(10)
    assert eventually(lambda: produced(b3, "alice", "alice-secret", "shared"))
    admin2 = AdminClient({"bootstrap.servers": b2.bootstrap})
    listed = admin2.describe_acls(AclBindingFilter(ResourceType.ANY, None, ResourcePatternType.ANY, None, None,
                                                   AclOperation.ANY, AclPermissionType.ANY)).result(10)
    assert binding in listed

    # A user created through broker 2 logs in at broker 1.
    upsert = UserScramCredentialUpsertion("bob", ScramCredentialInfo(ScramMechanism.SCRAM_SHA_256, 8192), b"bob-secret")
    for future in admin2.alter_user_scram_credentials([upsert]).values():
        future.result(10)
    assert eventually(lambda: logs_in(b1, "bob", "bob-secret"))

    # A quota set through broker 3 is listed by broker 1.
    cli(b3, "quota", "set", "--client-id", "slow", "--set", "producer_byte_rate=1024")
    assert eventually(lambda: "1024" in cli(b1, "quota", "list"))

    # Broker 3 again on an empty data directory: everything comes from the cluster.
    assert b3.stop() in (0, None)
    shutil.rmtree(b3.data_dir)
    start(b3, 3)
    assert logs_in(b3, "bob", "bob-secret")
    assert produced(b3, "alice", "alice-secret", "shared")
    assert "1024" in cli(b3, "quota", "list")
