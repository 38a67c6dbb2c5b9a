"""`creek topic` and `creek cluster` driven as a script would: JSON parsed and checked,
exit codes checked (0 ok, 1 broker or connection error, 2 usage), and what they did
confirmed with another client (confluent-kafka's AdminClient)."""
import json
import subprocess

from confluent_kafka.admin import AdminClient, ConfigResource

from conftest import creek_binary, free_port


def run_creek(bootstrap, *args, check_code=0):
    result = subprocess.run([creek_binary(), *args, "--brokers", bootstrap], capture_output=True, text=True, timeout=60)
    assert result.returncode == check_code, f"{args}: exit {result.returncode}, stderr {result.stderr}"
    return result


def test_topic_lifecycle_as_a_script(creek):
    b = creek.bootstrap
    run_creek(b, "topic", "create", "orders", "--partitions", "3", "--config", "retention.ms=3600000")
    failed = run_creek(b, "topic", "create", "orders", "--partitions", "3", check_code=1)
    assert "TOPIC_ALREADY_EXISTS" in failed.stderr

    listed = json.loads(run_creek(b, "topic", "list", "--output", "json").stdout)
    assert {"name": "orders", "partitions": 3, "isInternal": False} in listed

    admin = AdminClient({"bootstrap.servers": b})
    metadata = admin.list_topics(timeout=10)
    assert len(metadata.topics["orders"].partitions) == 3
    configs = admin.describe_configs([ConfigResource("topic", "orders")])
    [entries] = [future.result(timeout=10) for future in configs.values()]
    assert entries["retention.ms"].value == "3600000"

    run_creek(b, "topic", "add-partitions", "orders", "--total", "5")
    run_creek(b, "topic", "alter-config", "orders", "--set", "retention.ms=1000", "--set", "cleanup.policy=compact")
    described = json.loads(run_creek(b, "topic", "describe", "orders", "--output", "json").stdout)
    assert [p["partition"] for p in described["partitions"]] == [0, 1, 2, 3, 4]
    assert all(p["low"] == 0 and p["high"] == 0 for p in described["partitions"])
    settings = {c["name"]: c for c in described["configs"]}
    assert settings["retention.ms"]["value"] == "1000" and not settings["retention.ms"]["isDefault"]
    assert settings["cleanup.policy"]["value"] == "compact"
    assert settings["segment.bytes"]["isDefault"]

    run_creek(b, "topic", "delete", "orders")
    gone = run_creek(b, "topic", "describe", "orders", check_code=1)
    assert "UNKNOWN_TOPIC_OR_PARTITION" in gone.stderr and "creek topic list" in gone.stderr


def test_watermarks_follow_produced_records(creek):
    b = creek.bootstrap
    run_creek(b, "topic", "create", "marks", "--partitions", "2")
    produced = subprocess.run([creek_binary(), "produce", "marks", "--brokers", b, "--partition", "1"],
                              input="a\nb\nc\n", capture_output=True, text=True, timeout=60)
    assert produced.returncode == 0, produced.stderr
    described = json.loads(run_creek(b, "topic", "describe", "marks", "--output", "json").stdout)
    assert [(p["partition"], p["low"], p["high"]) for p in described["partitions"]] == [(0, 0, 0), (1, 0, 3)]


def test_usage_and_connection_errors_have_their_exit_codes(creek):
    b = creek.bootstrap
    usage = run_creek(b, "topic", "create", "x", "--config", "no-equals-sign", check_code=2)
    assert "NAME=VALUE" in usage.stderr
    run_creek(b, "topic", "frobnicate", check_code=2)
    unreachable = run_creek(f"127.0.0.1:{free_port()}", "topic", "list", check_code=1)
    assert "CREEK_BROKERS" in unreachable.stderr


def test_cluster_info(creek):
    info = json.loads(run_creek(creek.bootstrap, "cluster", "info", "--output", "json").stdout)
    assert [(broker["port"], broker["controller"]) for broker in info["brokers"]] == [(creek.port, True)]
    apis = {api["api"]: api for api in info["apis"]}
    assert apis["produce"]["key"] == 0 and apis["produce"]["max"] >= 9
    assert apis["fetch"]["max"] >= 12
    assert info["clusterId"]
