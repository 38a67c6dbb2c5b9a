"""Topic administration through the AdminClients of confluent-kafka and kafka-python."""
import pytest
from confluent_kafka import KafkaError, KafkaException, TopicPartition
from confluent_kafka.admin import (AdminClient, AlterConfigOpType, ConfigEntry, ConfigResource, NewPartitions,
                                   NewTopic)

from clients import CONSUMERS, PRODUCERS, make_records, watermarks


def admin(creek):
    return AdminClient({"bootstrap.servers": creek.bootstrap})


def error_code(future):
    with pytest.raises(KafkaException) as info:
        future.result(30)
    return info.value.args[0].code()


def test_create_topics_errors(creek):
    a = admin(creek)
    a.create_topics([NewTopic("orders", 4, 1)])["orders"].result(30)
    assert error_code(a.create_topics([NewTopic("orders", 4, 1)])["orders"]) == KafkaError.TOPIC_ALREADY_EXISTS
    assert error_code(a.create_topics([NewTopic("bad name!", 1, 1)])["bad name!"]) == KafkaError.TOPIC_EXCEPTION
    assert error_code(a.create_topics([NewTopic("zero", 0, 1)])["zero"]) == KafkaError.INVALID_PARTITIONS
    assert error_code(a.create_topics([NewTopic("rf3", 1, 3)])["rf3"]) == KafkaError.INVALID_REPLICATION_FACTOR
    assert error_code(a.create_topics([NewTopic("cfg", 1, 1, config={"retention.ms": "soon"})])["cfg"]) == \
        KafkaError.INVALID_CONFIG
    a.create_topics([NewTopic("dry", 2, 1)], validate_only=True)["dry"].result(30)
    topics = a.list_topics(timeout=10).topics
    assert "orders" in topics and len(topics["orders"].partitions) == 4
    assert "dry" not in topics and "zero" not in topics


def test_delete_topic_and_recreate(creek):
    a = admin(creek)
    a.create_topics([NewTopic("doomed", 2, 1)])["doomed"].result(30)
    PRODUCERS["confluent"](creek.bootstrap, "doomed", make_records(100))
    a.delete_topics(["doomed"])["doomed"].result(30)
    assert "doomed" not in a.list_topics(timeout=10).topics
    assert error_code(a.delete_topics(["doomed"])["doomed"]) == KafkaError.UNKNOWN_TOPIC_OR_PART
    a.create_topics([NewTopic("doomed", 1, 1)])["doomed"].result(30)
    assert watermarks(creek.bootstrap, "doomed", 1)[0] == (0, 0)


def test_kafka_python_admin(creek):
    from kafka.admin import KafkaAdminClient, NewTopic as KNewTopic
    from kafka.errors import TopicAlreadyExistsError
    a = KafkaAdminClient(bootstrap_servers=creek.bootstrap)
    a.create_topics([KNewTopic("kp", 3, 1)])
    with pytest.raises(TopicAlreadyExistsError):
        a.create_topics([KNewTopic("kp", 3, 1)])
    assert "kp" in a.list_topics()
    described = a.describe_topics(["kp"])
    assert len(described[0]["partitions"]) == 3
    cluster = a.describe_cluster()
    assert len(cluster["brokers"]) == len(getattr(creek, "brokers", [creek]))  # CREEK_TEST_CLUSTER: all of them
    a.delete_topics(["kp"])
    assert "kp" not in a.list_topics()
    a.close()


def test_create_partitions(creek):
    a = admin(creek)
    a.create_topics([NewTopic("grow", 2, 1)])["grow"].result(30)
    a.create_partitions([NewPartitions("grow", 5)])["grow"].result(30)
    assert len(a.list_topics(timeout=10).topics["grow"].partitions) == 5
    assert error_code(a.create_partitions([NewPartitions("grow", 3)])["grow"]) == KafkaError.INVALID_PARTITIONS
    PRODUCERS["confluent"](creek.bootstrap, "grow", [dict(r, partition=4) for r in make_records(10)])
    assert watermarks(creek.bootstrap, "grow", 5)[4] == (0, 10)


def test_configs(creek):
    a = admin(creek)
    a.create_topics([NewTopic("conf", 1, 1, config={"retention.ms": "60000"})])["conf"].result(30)
    resource = ConfigResource(ConfigResource.Type.TOPIC, "conf")
    described = a.describe_configs([resource])[resource].result(30)
    assert described["retention.ms"].value == "60000"
    assert described["cleanup.policy"].value == "delete"
    assert described["segment.bytes"].value == "1073741824"
    change = ConfigResource(ConfigResource.Type.TOPIC, "conf", incremental_configs=[
        ConfigEntry("segment.bytes", "500000", incremental_operation=AlterConfigOpType.SET),
        ConfigEntry("retention.ms", None, incremental_operation=AlterConfigOpType.DELETE)])
    a.incremental_alter_configs([change])[change].result(30)
    described = a.describe_configs([resource])[resource].result(30)
    assert described["segment.bytes"].value == "500000"
    assert described["retention.ms"].value == str(7 * 24 * 3600 * 1000)
    bad = ConfigResource(ConfigResource.Type.TOPIC, "conf", incremental_configs=[
        ConfigEntry("cleanup.policy", "shred", incremental_operation=AlterConfigOpType.SET)])
    assert error_code(a.incremental_alter_configs([bad])[bad]) == KafkaError.INVALID_CONFIG
    compact = ConfigResource(ConfigResource.Type.TOPIC, "conf", incremental_configs=[
        ConfigEntry("cleanup.policy", "compact,delete", incremental_operation=AlterConfigOpType.SET)])
    a.incremental_alter_configs([compact])[compact].result(30)
    assert a.describe_configs([resource])[resource].result(30)["cleanup.policy"].value == "compact,delete"
    broker = ConfigResource(ConfigResource.Type.BROKER, "1")
    broker_configs = a.describe_configs([broker])[broker].result(30)
    assert broker_configs["num.partitions"].value == "1"
    assert broker_configs["num.partitions"].is_read_only


def test_delete_records(creek):
    a = admin(creek)
    a.create_topics([NewTopic("trim", 1, 1)])["trim"].result(30)
    PRODUCERS["confluent"](creek.bootstrap, "trim", [dict(r, partition=0) for r in make_records(100)])
    [result] = a.delete_records([TopicPartition("trim", 0, 40)]).values()
    assert result.result(30).low_watermark == 40
    assert watermarks(creek.bootstrap, "trim", 1)[0] == (40, 100)
    consumed = CONSUMERS["confluent"](creek.bootstrap, "trim", 1, 60)
    assert [m["offset"] for m in consumed] == list(range(40, 100))


def test_auto_create_on_metadata(creek):
    PRODUCERS["kafka-python"](creek.bootstrap, "implicit", make_records(10))
    assert watermarks(creek.bootstrap, "implicit", 1)[0] == (0, 10)


def test_kafka_python_describe_log_dirs(creek):
    """DescribeLogDirs: one log dir (the data directory) with each partition's bytes on disk
    and, at v4, the volume's total and usable bytes."""
    import shutil
    from kafka.admin import KafkaAdminClient
    a = admin(creek)
    a.create_topics([NewTopic("sized", 2, 1)])["sized"].result(30)
    PRODUCERS["confluent"](creek.bootstrap, "sized", make_records(300))
    k = KafkaAdminClient(bootstrap_servers=creek.bootstrap)
    try:
        [broker] = k.describe_log_dirs()
        [log_dir] = broker["log_dirs"]
    finally:
        k.close()
    assert log_dir["error_code"] == 0
    assert log_dir["log_dir"] == str(creek.data_dir.resolve())
    sizes = {(t["name"], p["partition_index"]): p["partition_size"] for t in log_dir["topics"] for p in t["partitions"]}
    for partition in (0, 1):
        if creek.storage_args:
            # The PostgreSQL engine: the partition's stored batches, none on local disk.
            assert sizes[("sized", partition)] > 0
            assert not (creek.data_dir / f"sized-{partition}").exists()
            continue
        on_disk = sum(f.stat().st_size for f in (creek.data_dir / f"sized-{partition}").glob("*.log"))
        assert sizes[("sized", partition)] == on_disk
    assert sum(sizes[("sized", p)] for p in (0, 1)) > 300
    usage = shutil.disk_usage(creek.data_dir)  # kafka-python 3 sends v4, which carries these
    assert log_dir["total_bytes"] == usage.total
    assert abs(log_dir["usable_bytes"] - usage.free) < 64 * 1024 * 1024


def test_dynamic_broker_configs_change_defaults_and_survive_a_restart(creek):
    """kafka-configs.sh --entity-type brokers --alter, through confluent-kafka: the dynamic
    settings change the defaults of every topic without an override, at once and after a
    restart; static settings are refused."""
    a = admin(creek)
    a.create_topics([NewTopic("plain", 1, 1), NewTopic("own", 1, 1, config={"retention.ms": "60000"})])["plain"].result(30)
    broker = ConfigResource(ConfigResource.Type.BROKER, "1", incremental_configs=[
        ConfigEntry("log.retention.ms", "3600000", incremental_operation=AlterConfigOpType.SET),
        ConfigEntry("message.max.bytes", "2000", incremental_operation=AlterConfigOpType.SET)])
    a.incremental_alter_configs([broker])[broker].result(30)

    def topic_config(name, key):
        resource = ConfigResource(ConfigResource.Type.TOPIC, name)
        return a.describe_configs([resource])[resource].result(30)[key].value

    assert topic_config("plain", "retention.ms") == "3600000"
    assert topic_config("own", "retention.ms") == "60000"
    assert topic_config("plain", "max.message.bytes") == "2000"
    described = a.describe_configs([ConfigResource(ConfigResource.Type.BROKER, "1")])
    entries = list(described.values())[0].result(30)
    assert entries["log.retention.ms"].value == "3600000" and not entries["log.retention.ms"].is_read_only
    assert entries["log.retention.ms"].source == 2  # DYNAMIC_BROKER_CONFIG
    assert entries["num.partitions"].is_read_only

    from confluent_kafka import Producer
    errors = []
    producer = Producer({"bootstrap.servers": creek.bootstrap, "message.send.max.retries": 0})
    producer.produce("plain", value=b"x" * 5000, on_delivery=lambda err, msg: errors.append(err))
    producer.flush(30)
    assert errors and errors[0] is not None and errors[0].code() == KafkaError.MSG_SIZE_TOO_LARGE

    static = ConfigResource(ConfigResource.Type.BROKER, "1", incremental_configs=[
        ConfigEntry("num.partitions", "4", incremental_operation=AlterConfigOpType.SET)])
    assert error_code(a.incremental_alter_configs([static])[static]) == KafkaError.INVALID_REQUEST
    bad = ConfigResource(ConfigResource.Type.BROKER, "1", incremental_configs=[
        ConfigEntry("log.retention.ms", "soon", incremental_operation=AlterConfigOpType.SET)])
    assert error_code(a.incremental_alter_configs([bad])[bad]) == KafkaError.INVALID_CONFIG

    creek.restart()
    a = admin(creek)
    assert topic_config("plain", "retention.ms") == "3600000"
    reset = ConfigResource(ConfigResource.Type.BROKER, "1", incremental_configs=[
        ConfigEntry("log.retention.ms", None, incremental_operation=AlterConfigOpType.DELETE)])
    a.incremental_alter_configs([reset])[reset].result(30)
    assert topic_config("plain", "retention.ms") == str(7 * 24 * 3600 * 1000)
