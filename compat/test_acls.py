"""ACLs with Kafka's model, driven through confluent-kafka's and kafka-python's admin APIs
against a broker with the authorizer on (super user User:admin, users alice and bob logging
in with SCRAM): topics (read, write, describe, create, delete, alter, configs), groups,
the cluster, transactional ids; literal and prefixed patterns; deny beating allow; host
matching; Metadata hiding topics; ACLs kept across a restart."""
import time

import pytest
from confluent_kafka import Consumer, KafkaError, KafkaException, Producer
from confluent_kafka.admin import (AclBinding, AclBindingFilter, AclOperation, AclPermissionType, AdminClient,
                                   ConfigResource, NewTopic, ResourcePatternType, ResourceType)

from conftest import Creek, free_port

USERS = ["--add-scram", "SCRAM-SHA-256=[name=admin,password=admin-secret]",
         "--add-scram", "SCRAM-SHA-256=[name=alice,password=alice-secret]",
         "--add-scram", "SCRAM-SHA-256=[name=bob,password=bob-secret]"]


def start(data_dir, *extra):
    broker = Creek(data_dir)
    broker.port, broker.sasl_port = free_port(), free_port()
    broker.start(["--set", f"listeners=PLAINTEXT://127.0.0.1:{broker.port},SASL_PLAINTEXT://127.0.0.1:{broker.sasl_port}",
                  "--set", "authorizer.class.name=creek", "--set", "super.users=User:admin", *USERS, *extra])
    return broker


@pytest.fixture
def secured(tmp_path):
    broker = start(tmp_path / "data")
    yield broker
    assert broker.stop() in (0, None), broker.log()


def config(broker, user):
    return {"bootstrap.servers": f"127.0.0.1:{broker.sasl_port}", "security.protocol": "SASL_PLAINTEXT",
            "sasl.mechanism": "SCRAM-SHA-256", "sasl.username": user, "sasl.password": f"{user}-secret"}


def allow(admin, resource_type, name, operation, principal="User:alice", pattern=ResourcePatternType.LITERAL,
          permission=AclPermissionType.ALLOW, host="*"):
    binding = AclBinding(resource_type, name, pattern, principal, host, operation, permission)
    for future in admin.create_acls([binding]).values():
        future.result(10)
    return binding


def produce(broker, user, topic, count=5, **extra):
    """Returns (delivered count, error codes) for `count` records."""
    reports = []
    producer = Producer({**config(broker, user), "message.timeout.ms": 5000, **extra})
    for i in range(count):
        producer.produce(topic, b"v%d" % i, on_delivery=lambda err, msg: reports.append(err))
    producer.flush(15)
    return sum(1 for e in reports if e is None), {e.code() for e in reports if e is not None}


def consume(broker, user, topic, group, count, timeout=15):
    consumer = Consumer({**config(broker, user), "group.id": group, "auto.offset.reset": "earliest"})
    consumer.subscribe([topic])
    values, errors = [], set()
    deadline = time.monotonic() + timeout
    while len(values) < count and time.monotonic() < deadline and not errors:
        message = consumer.poll(0.5)
        if message is None:
            continue
        if message.error():
            errors.add(message.error().code())
        else:
            values.append(message.value())
    consumer.close()
    return values, errors


def setup_topics(broker, *names):
    admin = AdminClient(config(broker, "admin"))
    for future in admin.create_topics([NewTopic(name, 1, 1) for name in names]).values():
        future.result(20)
    return admin


def test_topic_and_group_acls(secured):
    admin = setup_topics(secured, "orders", "payments")
    assert produce(secured, "alice", "orders") == (0, {KafkaError.TOPIC_AUTHORIZATION_FAILED})
    alice = AdminClient(config(secured, "alice"))
    assert set(alice.list_topics(timeout=10).topics) == set(), "topics alice may not describe are hidden"
    allow(admin, ResourceType.TOPIC, "orders", AclOperation.WRITE)
    assert produce(secured, "alice", "orders") == (5, set())
    assert set(alice.list_topics(timeout=10).topics) == {"orders"}, "WRITE implies DESCRIBE"
    values, errors = consume(secured, "alice", "orders", "g-alice", 5)
    assert values == [] and errors & {KafkaError.TOPIC_AUTHORIZATION_FAILED, KafkaError.GROUP_AUTHORIZATION_FAILED}
    allow(admin, ResourceType.TOPIC, "orders", AclOperation.READ)
    allow(admin, ResourceType.GROUP, "g-alice", AclOperation.READ)
    values, errors = consume(secured, "alice", "orders", "g-alice", 5)
    assert (values, errors) == ([b"v%d" % i for i in range(5)], set())
    values, errors = consume(secured, "alice", "orders", "g-other", 5, timeout=10)
    assert values == [] and KafkaError.GROUP_AUTHORIZATION_FAILED in errors
    assert produce(secured, "bob", "orders") == (0, {KafkaError.TOPIC_AUTHORIZATION_FAILED}), "ACLs are per principal"
    plain = Producer({"bootstrap.servers": secured.bootstrap, "message.timeout.ms": 4000})
    reports = []
    plain.produce("orders", b"x", on_delivery=lambda err, msg: reports.append(err))
    plain.flush(10)
    assert reports[0] is not None and reports[0].code() == KafkaError.TOPIC_AUTHORIZATION_FAILED, "User:ANONYMOUS on PLAINTEXT"
    assert "authorization denied" in secured.log()


def test_prefixed_allow_and_literal_deny(secured):
    admin = setup_topics(secured, "logs.app", "logs.audit", "other")
    allow(admin, ResourceType.TOPIC, "logs.", AclOperation.ALL, pattern=ResourcePatternType.PREFIXED)
    allow(admin, ResourceType.TOPIC, "logs.audit", AclOperation.WRITE, permission=AclPermissionType.DENY)
    assert produce(secured, "alice", "logs.app") == (5, set())
    assert produce(secured, "alice", "logs.audit") == (0, {KafkaError.TOPIC_AUTHORIZATION_FAILED}), "deny wins"
    assert produce(secured, "alice", "other") == (0, {KafkaError.TOPIC_AUTHORIZATION_FAILED})
    allow(admin, ResourceType.GROUP, "g-", AclOperation.READ, pattern=ResourcePatternType.PREFIXED)
    assert consume(secured, "alice", "logs.app", "g-logs", 5) == ([b"v%d" % i for i in range(5)], set())
    # An ACL for another host does not apply to 127.0.0.1.
    allow(admin, ResourceType.TOPIC, "other", AclOperation.WRITE, host="10.9.8.7")
    assert produce(secured, "alice", "other") == (0, {KafkaError.TOPIC_AUTHORIZATION_FAILED})
    allow(admin, ResourceType.TOPIC, "other", AclOperation.WRITE, host="127.0.0.1")
    assert produce(secured, "alice", "other") == (5, set())


def test_cluster_topic_admin_and_config_acls(secured):
    admin = setup_topics(secured, "shared")
    alice = AdminClient(config(secured, "alice"))
    with pytest.raises(KafkaException, match="TOPIC_AUTHORIZATION_FAILED"):
        alice.create_topics([NewTopic("mine", 1, 1)])["mine"].result(10)
    allow(admin, ResourceType.BROKER, "kafka-cluster", AclOperation.CREATE)
    alice.create_topics([NewTopic("mine", 1, 1)])["mine"].result(10)
    with pytest.raises(KafkaException, match="TOPIC_AUTHORIZATION_FAILED"):
        alice.delete_topics(["shared"])["shared"].result(10)
    with pytest.raises(KafkaException, match="TOPIC_AUTHORIZATION_FAILED"):
        alice.describe_configs([ConfigResource(ConfigResource.Type.TOPIC, "shared")])[ConfigResource(ConfigResource.Type.TOPIC, "shared")].result(10)
    allow(admin, ResourceType.TOPIC, "shared", AclOperation.DESCRIBE_CONFIGS)
    described = alice.describe_configs([ConfigResource(ConfigResource.Type.TOPIC, "shared")])
    assert "retention.ms" in list(described.values())[0].result(10)
    allow(admin, ResourceType.TOPIC, "shared", AclOperation.DELETE)
    alice.delete_topics(["shared"])["shared"].result(10)
    with pytest.raises(KafkaException, match="CLUSTER_AUTHORIZATION_FAILED"):
        for future in alice.create_acls([AclBinding(ResourceType.TOPIC, "x", ResourcePatternType.LITERAL, "User:alice", "*",
                                                    AclOperation.ALL, AclPermissionType.ALLOW)]).values():
            future.result(10)


def test_transactional_id_acls(secured):
    admin = setup_topics(secured, "ledger")
    allow(admin, ResourceType.TOPIC, "ledger", AclOperation.WRITE)
    producer = Producer({**config(secured, "alice"), "transactional.id": "tx-1"})
    with pytest.raises(KafkaException, match="TRANSACTIONAL_ID_AUTHORIZATION_FAILED|Transactional Id authorization failed"):
        producer.init_transactions(10)
    allow(admin, ResourceType.TRANSACTIONAL_ID, "tx-", AclOperation.WRITE, pattern=ResourcePatternType.PREFIXED)
    producer = Producer({**config(secured, "alice"), "transactional.id": "tx-1"})
    producer.init_transactions(15)
    producer.begin_transaction()
    producer.produce("ledger", b"committed")
    producer.commit_transaction(15)


def test_acl_apis_filters_delete_and_restart(tmp_path):
    broker = start(tmp_path / "data")
    try:
        admin = setup_topics(broker, "t1")
        created = [
            allow(admin, ResourceType.TOPIC, "t1", AclOperation.READ),
            allow(admin, ResourceType.TOPIC, "t", AclOperation.WRITE, pattern=ResourcePatternType.PREFIXED, principal="User:bob"),
            allow(admin, ResourceType.GROUP, "g", AclOperation.READ),
        ]
        everything = AclBindingFilter(ResourceType.ANY, None, ResourcePatternType.ANY, None, None, AclOperation.ANY, AclPermissionType.ANY)
        assert sorted(map(str, admin.describe_acls(everything).result(10))) == sorted(map(str, created))
        bobs = AclBindingFilter(ResourceType.ANY, None, ResourcePatternType.ANY, "User:bob", None, AclOperation.ANY, AclPermissionType.ANY)
        assert [str(b) for b in admin.describe_acls(bobs).result(10)] == [str(created[1])]
        matching_t1 = AclBindingFilter(ResourceType.TOPIC, "t1", ResourcePatternType.MATCH, None, None, AclOperation.ANY, AclPermissionType.ANY)
        assert sorted(map(str, admin.describe_acls(matching_t1).result(10))) == sorted(map(str, created[:2]))
        broker.stop()
        broker.start()
        admin = AdminClient(config(broker, "admin"))
        assert len(admin.describe_acls(everything).result(10)) == 3, "ACLs survive a restart"
        assert produce(broker, "bob", "t1") == (5, set())
        deleted = list(admin.delete_acls([bobs]).values())[0].result(10)
        assert [str(b) for b in deleted] == [str(created[1])]
        assert produce(broker, "bob", "t1") == (0, {KafkaError.TOPIC_AUTHORIZATION_FAILED})
    finally:
        broker.stop()


def test_kafka_python_admin_creates_and_lists_acls(secured):
    from kafka.admin import ACL, ACLFilter, ACLOperation, ACLPermissionType, KafkaAdminClient, ResourcePattern
    from kafka.admin import ResourceType as KPResourceType
    setup_topics(secured, "kp")
    admin = KafkaAdminClient(bootstrap_servers=f"127.0.0.1:{secured.sasl_port}", security_protocol="SASL_PLAINTEXT",
                             sasl_mechanism="SCRAM-SHA-256", sasl_plain_username="admin", sasl_plain_password="admin-secret")
    acl = ACL("User:alice", "*", ACLOperation.WRITE, ACLPermissionType.ALLOW, ResourcePattern(KPResourceType.TOPIC, "kp"))
    result = admin.create_acls([acl])
    assert not result["failed"]
    found, error = admin.describe_acls(ACLFilter("User:alice", None, ACLOperation.ANY, ACLPermissionType.ANY,
                                                 ResourcePattern(KPResourceType.TOPIC, "kp")))
    assert [a.operation for a in found] == [ACLOperation.WRITE]
    admin.close()
    assert produce(secured, "alice", "kp") == (5, set())


def test_mutual_tls_principal_with_mapping_rules(tmp_path):
    from test_tls import make_ca, make_cert
    certs = tmp_path / "certs"
    certs.mkdir()
    ca = make_ca(certs, "ca")
    server = make_cert(certs, "ca", "server", "localhost")
    alice = make_cert(certs, "ca", "alice", "Alice")
    mallory = make_cert(certs, "ca", "mallory", "mallory")
    broker = Creek(tmp_path / "data")
    broker.port, broker.ssl_port = free_port(), free_port()
    broker.start(["--set", f"listeners=PLAINTEXT://127.0.0.1:{broker.port},SSL://127.0.0.1:{broker.ssl_port}",
                  "--set", f"ssl.keystore.location={server[0]}", "--set", f"ssl.truststore.location={ca}",
                  "--set", "ssl.client.auth=required", "--set", "ssl.principal.mapping.rules=RULE:^CN=(.*?)$/$1/L,DEFAULT",
                  "--set", "authorizer.class.name=creek", "--set", "super.users=User:ANONYMOUS"])
    try:
        # The PLAINTEXT listener is User:ANONYMOUS, a super user here: the operator's side door.
        admin = setup_topics_plain(broker, "certs")
        allow(admin, ResourceType.TOPIC, "certs", AclOperation.WRITE, principal="User:alice")

        def tls(cert):
            return {"bootstrap.servers": f"127.0.0.1:{broker.ssl_port}", "security.protocol": "SSL", "ssl.ca.location": str(ca),
                    "ssl.certificate.location": str(cert[1]), "ssl.key.location": str(cert[2])}

        def produce_with(cert):
            reports = []
            producer = Producer({**tls(cert), "message.timeout.ms": 5000})
            producer.produce("certs", b"x", on_delivery=lambda err, msg: reports.append(err))
            producer.flush(15)
            return reports

        assert produce_with(alice) == [None], "CN=Alice maps to User:alice"
        # The creek CLI with the same certificate (ssl.certificate.location / ssl.key.location).
        import subprocess
        from conftest import creek_binary
        settings = tmp_path / "alice.properties"
        settings.write_text(f"security.protocol=SSL\nssl.ca.location={ca}\nssl.certificate.location={alice[1]}\nssl.key.location={alice[2]}\n")
        listed = subprocess.run([creek_binary(), "topic", "list", "--brokers", f"127.0.0.1:{broker.ssl_port}", "--command-config", str(settings)],
                                capture_output=True, text=True, timeout=60)
        assert listed.returncode == 0 and "certs" in listed.stdout.split(), listed.stderr
        [error] = produce_with(mallory)
        assert error is not None and error.code() == KafkaError.TOPIC_AUTHORIZATION_FAILED
        assert "principal=User:mallory" in broker.log()
    finally:
        broker.stop()


def setup_topics_plain(broker, *names):
    admin = AdminClient({"bootstrap.servers": broker.bootstrap})
    for future in admin.create_topics([NewTopic(name, 1, 1) for name in names]).values():
        future.result(20)
    return admin


def test_cli_manages_users_and_acls(tmp_path):
    import json
    import subprocess
    from conftest import creek_binary
    broker = Creek(tmp_path / "data")
    broker.port, broker.sasl_port = free_port(), free_port()
    # The loopback PLAINTEXT listener is the operator's: User:ANONYMOUS is a super user.
    broker.start(["--set", f"listeners=PLAINTEXT://127.0.0.1:{broker.port},SASL_PLAINTEXT://127.0.0.1:{broker.sasl_port}",
                  "--set", "authorizer.class.name=creek", "--set", "super.users=User:ANONYMOUS"])

    def cli(*args, stdin=None):
        result = subprocess.run([creek_binary(), *args, "--brokers", broker.bootstrap], input=stdin, capture_output=True,
                                text=True, timeout=60)
        assert result.returncode == 0, result.stderr
        return result.stdout

    try:
        assert "SCRAM-SHA-512 credential of carol" in cli("user", "set", "carol", "--mechanism", "SCRAM-SHA-512", "--iterations", "4096", stdin="carol-secret\n")
        assert json.loads(cli("user", "list", "--output", "json")) == [{"user": "carol", "mechanism": "SCRAM-SHA-512", "iterations": 4096}]
        setup_topics_plain(broker, "cli-topic")
        carol = {"bootstrap.servers": f"127.0.0.1:{broker.sasl_port}", "security.protocol": "SASL_PLAINTEXT",
                 "sasl.mechanism": "SCRAM-SHA-512", "sasl.username": "carol", "sasl.password": "carol-secret", "message.timeout.ms": 5000}

        def produce_as_carol():
            reports = []
            producer = Producer(carol)
            producer.produce("cli-topic", b"x", on_delivery=lambda err, msg: reports.append(err))
            producer.flush(15)
            return reports[0]

        assert produce_as_carol().code() == KafkaError.TOPIC_AUTHORIZATION_FAILED
        cli("acl", "add", "--principal", "User:carol", "--operation", "write", "--operation", "describe", "--topic", "cli-", "--prefixed")
        listed = json.loads(cli("acl", "list", "--principal", "User:carol", "--output", "json"))
        assert sorted((a["resource"], a["pattern"], a["operation"], a["permission"]) for a in listed) == [
            ("topic:cli-", "prefixed", "describe", "allow"), ("topic:cli-", "prefixed", "write", "allow")]
        assert produce_as_carol() is None
        assert "removed 2 ACL(s)" in cli("acl", "remove", "--principal", "User:carol")
        assert produce_as_carol().code() == KafkaError.TOPIC_AUTHORIZATION_FAILED
        cli("user", "delete", "carol", "--mechanism", "SCRAM-SHA-512")
        assert json.loads(cli("user", "list", "--output", "json")) == []
    finally:
        broker.stop()


def test_idempotent_writes_and_alter_configs(secured):
    from confluent_kafka.admin import AlterConfigOpType, ConfigEntry
    admin = setup_topics(secured, "idem")
    allow(admin, ResourceType.TOPIC, "idem", AclOperation.READ)
    # An idempotent producer needs IDEMPOTENT_WRITE on the cluster or WRITE on some topic (KIP-679).
    refused = Producer({**config(secured, "alice"), "enable.idempotence": True, "message.timeout.ms": 4000})
    refused.produce("idem", b"x")
    for _ in range(2):
        try:
            refused.flush(5)  # librdkafka raises its fatal InitProducerId error here (sooner or later)
        except KafkaException:
            pass
    assert "operation=idempotentWrite" in secured.log() and "api=InitProducerId" in secured.log()
    low, high = Consumer({**config(secured, "admin"), "group.id": "w"}).get_watermark_offsets(
        __import__("confluent_kafka").TopicPartition("idem", 0), timeout=10)
    assert high == 0, "nothing was written without the ACL"
    allow(admin, ResourceType.TOPIC, "idem", AclOperation.WRITE)
    assert produce(secured, "alice", "idem", **{"enable.idempotence": True}) == (5, set())
    alice = AdminClient(config(secured, "alice"))
    resource = ConfigResource(ConfigResource.Type.TOPIC, "idem",
                              incremental_configs=[ConfigEntry("retention.ms", "3600000", incremental_operation=AlterConfigOpType.SET)])
    with pytest.raises(KafkaException, match="TOPIC_AUTHORIZATION_FAILED"):
        list(alice.incremental_alter_configs([resource]).values())[0].result(10)
    allow(admin, ResourceType.TOPIC, "idem", AclOperation.ALTER_CONFIGS)
    list(alice.incremental_alter_configs([resource]).values())[0].result(10)

