"""`creek topic` and `creek cluster` driven as a script would: JSON parsed and checked,
exit codes checked (0 ok, 1 broker or connection error, 2 usage), and what they did
confirmed with another client (confluent-kafka's AdminClient)."""
import json
import time
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
    # Sizes (DescribeLogDirs) are the bytes of each partition's segment files.
    on_disk = [sum(f.stat().st_size for f in (creek.data_dir / f"marks-{p}").glob("*.log")) for p in (0, 1)]
    assert on_disk[0] == 0 and on_disk[1] > 0
    assert [p["sizeBytes"] for p in described["partitions"]] == on_disk
    text = run_creek(b, "topic", "describe", "marks").stdout
    assert "SIZE" in text and f"{on_disk[1]} B" in text and "\x1b[" not in text  # no colour when piped


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


def group_member_reads(bootstrap, topic, group, expected, timeout=30):
    """A confluent-kafka group member: the (partition, offset) of the first `expected`
    records it receives, committing synchronously, then it leaves."""
    from confluent_kafka import Consumer
    consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": group, "auto.offset.reset": "earliest",
                         "enable.auto.commit": False})
    consumer.subscribe([topic])
    seen = []
    deadline = time.monotonic() + timeout
    while len(seen) < expected and time.monotonic() < deadline:
        message = consumer.poll(0.5)
        if message is None or message.error():
            continue
        seen.append((message.partition(), message.offset()))
        consumer.commit(message=message, asynchronous=False)
    consumer.close()
    return seen


def test_group_describe_and_reset_offsets(creek):
    b = creek.bootstrap
    run_creek(b, "topic", "create", "jobs", "--partitions", "2")
    for partition in (0, 1):
        produced = subprocess.run([creek_binary(), "produce", "jobs", "--brokers", b, "--partition", str(partition)],
                                  input="".join(f"job{i}\n" for i in range(5)), capture_output=True, text=True, timeout=60)
        assert produced.returncode == 0, produced.stderr
    assert len(group_member_reads(b, "jobs", "workers", 10)) == 10

    listed = json.loads(run_creek(b, "group", "list", "--output", "json").stdout)
    assert [g["group"] for g in listed] == ["workers"]
    described = json.loads(run_creek(b, "group", "describe", "workers", "--output", "json").stdout)
    assert [(o["partition"], o["committed"], o["end"], o["lag"]) for o in described["offsets"]] == [(0, 5, 5, 0), (1, 5, 5, 0)]
    assert described["totalLag"] == 0 and described["members"] == []

    dry = json.loads(run_creek(b, "group", "reset-offsets", "workers", "--topic", "jobs", "--shift-by", "-2", "--output", "json").stdout)
    assert [(p["partition"], p["current"], p["new"]) for p in dry["partitions"]] == [(0, 5, 3), (1, 5, 3)]
    assert not dry["executed"]
    unchanged = json.loads(run_creek(b, "group", "describe", "workers", "--output", "json").stdout)
    assert [o["committed"] for o in unchanged["offsets"]] == [5, 5]

    run_creek(b, "group", "reset-offsets", "workers", "--topic", "jobs:1", "--to-offset", "99", "--output", "json")  # clamped, dry
    run_creek(b, "group", "reset-offsets", "workers", "--topic", "jobs", "--to-earliest", "--to-latest", check_code=2)

    done = json.loads(run_creek(b, "group", "reset-offsets", "workers", "--topic", "jobs:1", "--to-offset", "2", "--execute",
                                "--output", "json").stdout)
    assert done["executed"] and [(p["partition"], p["new"]) for p in done["partitions"]] == [(1, 2)]
    # The confluent-kafka member of the group resumes where the reset put it.
    resumed = group_member_reads(b, "jobs", "workers", 3)
    assert sorted(resumed) == [(1, 2), (1, 3), (1, 4)]


def test_reset_offsets_refused_while_the_group_has_members(creek):
    from confluent_kafka import Consumer
    b = creek.bootstrap
    run_creek(b, "topic", "create", "busy", "--partitions", "1")
    subprocess.run([creek_binary(), "produce", "busy", "--brokers", b], input="one\n", text=True, check=True, capture_output=True, timeout=60)
    consumer = Consumer({"bootstrap.servers": b, "group.id": "busy-group", "auto.offset.reset": "earliest",
                         "enable.auto.commit": False})
    try:
        consumer.subscribe(["busy"])
        deadline = time.monotonic() + 30
        message = None
        while message is None and time.monotonic() < deadline:
            message = consumer.poll(0.2)
        assert message is not None and not message.error()
        consumer.commit(message=message, asynchronous=False)
        members = json.loads(run_creek(b, "group", "describe", "busy-group", "--output", "json").stdout)["members"]
        assert len(members) == 1 and members[0]["assignment"] == ["busy-0"]
        refused = run_creek(b, "group", "reset-offsets", "busy-group", "--topic", "busy", "--to-earliest", "--execute", check_code=1)
        assert "active member" in refused.stderr
        run_creek(b, "group", "delete", "busy-group", check_code=1)
    finally:
        consumer.close()
    run_creek(b, "group", "delete", "busy-group")
    assert json.loads(run_creek(b, "group", "list", "--output", "json").stdout) == []


def test_binary_round_trip_is_byte_exact(creek):
    import base64
    import random
    b = creek.bootstrap
    run_creek(b, "topic", "create", "blobs", "--partitions", "3")
    rng = random.Random(7)
    sent = [(bytes(rng.randrange(256) for _ in range(rng.randrange(0, 300))), bytes(rng.randrange(256) for _ in range(rng.randrange(1, 2000))))
            for _ in range(200)]
    lines = "".join(json.dumps({"key": base64.b64encode(k).decode(), "value": base64.b64encode(v).decode(),
                                "headers": [["bin", base64.b64encode(v[:8]).decode()]]}) + "\n" for k, v in sent)
    produced = subprocess.run([creek_binary(), "produce", "blobs", "--brokers", b, "--format", "json"], input=lines,
                              capture_output=True, text=True, timeout=60)
    assert produced.returncode == 0, produced.stderr
    consumed = run_creek(b, "consume", "blobs", "--output", "json").stdout.splitlines()
    received = [json.loads(line) for line in consumed]
    assert sorted((base64.b64decode(r["key"]), base64.b64decode(r["value"])) for r in received) == sorted(sent)
    assert all(base64.b64decode(r["headers"][0][1]) == base64.b64decode(r["value"])[:8] for r in received)


def test_templates_in_and_out(creek, tmp_path):
    b = creek.bootstrap
    run_creek(b, "topic", "create", "lines", "--partitions", "2")
    source = tmp_path / "in.tsv"
    source.write_text("".join(f"k{i}\tv{i}\tn={i}\t{1_700_000_000_000 + i}\t{i % 2}\n" for i in range(6)))
    run_creek(b, "produce", "lines", "--file", str(source), "--format", "%k\\t%v\\t%h\\t%T\\t%p")
    out = run_creek(b, "consume", "lines", "--partition", "1", "--format", "%p:%o:%k=%v:%h:%T\\n").stdout
    assert out.splitlines() == [f"1:{n}:k{i}=v{i}:n={i}:{1_700_000_000_000 + i}" for n, i in enumerate((1, 3, 5))]
    last = run_creek(b, "consume", "lines", "--from", "-1", "--format", "%p %v\\n").stdout
    assert sorted(last.splitlines()) == ["0 v4", "1 v5"]
    bad = subprocess.run([creek_binary(), "produce", "lines", "--brokers", b, "--format", "%k\\t%v"], input="no tab here\n",
                         capture_output=True, text=True, timeout=60)
    assert bad.returncode == 1 and "does not match" in bad.stderr


def test_bench_e2e_progress_on_a_terminal_and_json_when_piped(creek):
    b = creek.bootstrap
    piped = run_creek(b, "bench", "e2e", "lat", "--rate", "500", "--duration", "1", "--json")
    result = json.loads(piped.stdout)
    assert result["records"] == 500
    assert 0 < result["latencyMs"]["p50"] <= result["latencyMs"]["p99"] <= result["latencyMs"]["max"]
    assert "\r" not in piped.stderr and "ETA" not in piped.stderr

    # On a (pseudo-)terminal: a live line rewritten in place, then the final table.
    code, text = run_on_terminal(["bench", "e2e", "lat", "--rate", "500", "--duration", "2", "--brokers", b])
    assert code == 0, text
    assert text.count("\r\x1b[2K") >= 3 and "records" in text and "ETA" in text
    assert "P99.9 MS" in text and "1000" in text.split("P99.9 MS")[1]


def test_commands_against_librdkafka_mock_cluster():
    """A second, independent Kafka implementation: librdkafka's mock cluster (through
    confluent-kafka), for the APIs it has (no CreateTopics: topics are auto-created)."""
    from confluent_kafka import Producer
    holder = Producer({"test.mock.num.brokers": 1, "bootstrap.servers": ""})
    broker = list(holder.list_topics(timeout=10).brokers.values())[0]
    b = f"{broker.host}:{broker.port}"
    info = json.loads(run_creek(b, "cluster", "info", "--output", "json").stdout)
    assert [x["port"] for x in info["brokers"]] == [broker.port]
    assert {api["api"] for api in info["apis"]} >= {"produce", "fetch", "metadata"}

    produced = subprocess.run([creek_binary(), "produce", "mocked", "--brokers", b, "--format", "%k=%v"],
                              input="a=1\nb=2\nc=3\n", capture_output=True, text=True, timeout=60)
    assert produced.returncode == 0, produced.stderr
    listed = json.loads(run_creek(b, "topic", "list", "--output", "json").stdout)
    assert "mocked" in [t["name"] for t in listed]
    described = json.loads(run_creek(b, "topic", "describe", "mocked", "--output", "json").stdout)
    assert sum(p["high"] - p["low"] for p in described["partitions"]) == 3
    out = run_creek(b, "consume", "mocked", "--format", "%k=%v\\n").stdout
    assert sorted(out.splitlines()) == ["a=1", "b=2", "c=3"]
    unsupported = run_creek(b, "topic", "create", "other", check_code=1)
    assert "createTopics" in unsupported.stderr


def run_on_terminal(args, timeout=60, env=None, stdout_path=None):
    """Runs creek on a pseudo-terminal (TERM=xterm plus `env`; standard output to
    `stdout_path` when given); its exit code and everything it wrote to the terminal."""
    import os
    import pty
    environment = {**os.environ, "TERM": "xterm", **(env or {})}
    environment.pop("NO_COLOR", None) if "NO_COLOR" not in (env or {}) else None
    pid, fd = pty.fork()
    if pid == 0:
        if stdout_path is not None:
            os.dup2(os.open(str(stdout_path), os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644), 1)
        os.execve(creek_binary(), [creek_binary(), *args], environment)
    output = b""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            chunk = os.read(fd, 4096)
        except OSError:
            break
        if not chunk:
            break
        output += chunk
    _, status = os.waitpid(pid, 0)
    os.close(fd)
    return os.waitstatus_to_exitcode(status), output.decode(errors="replace")


def test_colour_only_on_a_terminal_without_no_color(creek):
    b = creek.bootstrap
    run_creek(b, "topic", "create", "hues")
    code, text = run_on_terminal(["topic", "describe", "hues", "--brokers", b])
    assert code == 0, text
    assert "\x1b[1mPARTITION" in text and "\x1b[2mdefault\x1b[0m" in text
    code, text = run_on_terminal(["topic", "describe", "hues", "--brokers", b], env={"NO_COLOR": "1"})
    assert code == 0 and "PARTITION" in text and "\x1b[" not in text
    code, text = run_on_terminal(["topic", "describe", "nope", "--brokers", b])
    assert code == 1 and "\x1b[31merror: \x1b[0m" in text
    piped = run_creek(b, "topic", "describe", "nope", check_code=1)
    assert "\x1b[" not in piped.stderr and "creek: error: " in piped.stderr


def test_consume_to_a_file_reports_progress_on_the_terminal(creek, tmp_path):
    b = creek.bootstrap
    run_creek(b, "bench", "produce", "dump", "--count", "20000", "--size", "50", "--partitions", "2", "--json")
    dump = tmp_path / "dump.txt"
    code, text = run_on_terminal(["consume", "dump", "--brokers", b], stdout_path=dump)
    assert code == 0, text
    assert "creek consume: 20001 records" in text and "MB/s" in text  # the bench's warm-up record too
    assert len(dump.read_bytes().splitlines()) == 20001 and b"\x1b" not in dump.read_bytes()
    piped = run_creek(b, "consume", "dump")
    assert len(piped.stdout.splitlines()) == 20001 and "creek consume:" not in piped.stderr


def test_consume_isolation_hides_open_and_aborted_transactions(creek):
    from confluent_kafka import Producer
    b = creek.bootstrap
    run_creek(b, "topic", "create", "txns")
    plain = subprocess.run([creek_binary(), "produce", "txns", "--brokers", b], input="before\n", capture_output=True, text=True, timeout=60)
    assert plain.returncode == 0, plain.stderr
    producer = Producer({"bootstrap.servers": b, "transactional.id": "cli-isolation"})
    producer.init_transactions(30)
    producer.begin_transaction()
    producer.produce("txns", b"aborted")
    producer.flush(30)
    producer.abort_transaction(30)
    producer.begin_transaction()
    producer.produce("txns", b"open")
    producer.flush(30)

    def values(*args):
        return run_creek(b, "consume", "txns", *args).stdout.splitlines()  # stops at the end (LSO when committed)

    assert values("--isolation", "read_uncommitted") == ["before", "aborted", "open"]
    assert values("--isolation", "read_committed") == ["before"]
    producer.commit_transaction(30)
    assert values("--isolation", "read_committed") == ["before", "open"]
    bad = run_creek(b, "consume", "txns", "--isolation", "serializable", check_code=2)
    assert "read_committed" in bad.stderr


def test_version():
    result = subprocess.run([creek_binary(), "--version"], capture_output=True, text=True, timeout=30)
    assert result.returncode == 0 and result.stdout.strip().count(".") == 2


def test_shell_completion_scripts():
    for shell, marker in (("bash", "-F _creek creek"), ("zsh", "#compdef creek"), ("fish", "complete -c 'creek'")):
        script = subprocess.run([creek_binary(), "--generate-completion-script", shell], capture_output=True, text=True, timeout=30)
        assert script.returncode == 0 and marker in script.stdout, (shell, script.stderr)
        for word in ("topic", "reset-offsets", "to-earliest", "bench"):
            assert word in script.stdout, (shell, word)


def test_produce_from_a_file_shows_progress_only_on_a_terminal(creek, tmp_path):
    b = creek.bootstrap
    source = tmp_path / "many.txt"
    source.write_text("".join(f"line {i}\n" for i in range(5000)))
    code, text = run_on_terminal(["produce", "bulk", "--file", str(source), "--brokers", b])
    assert code == 0, text
    assert "\r\x1b[2K" in text and "records sent" in text and "5000 of 5000 records sent" in text
    piped = run_creek(b, "produce", "bulk", "--file", str(source))
    assert "\r" not in piped.stderr and "5000 of 5000 records sent" in piped.stderr
    described = json.loads(run_creek(b, "topic", "describe", "bulk", "--output", "json").stdout)
    assert sum(p["high"] for p in described["partitions"]) == 10000


def test_bench_produce_and_consume_report_what_happened(creek):
    b = creek.bootstrap
    produced = json.loads(run_creek(b, "bench", "produce", "load", "--count", "3000", "--partitions", "3", "--size", "64", "--json").stdout)
    assert produced["records"] == 3000 and produced["failed"] == 0 and produced["bytes"] == 3000 * 64
    assert 0 < produced["latencyMs"]["p50"] <= produced["latencyMs"]["max"]
    described = json.loads(run_creek(b, "topic", "describe", "load", "--output", "json").stdout)
    assert [p["high"] for p in described["partitions"]] == [1001, 1000, 1000]  # one warm-up record on partition 0
    consumed = json.loads(run_creek(b, "bench", "consume", "load", "--json").stdout)
    assert consumed["records"] == 3001 and consumed["complete"]
    figures = run_creek(b, "bench", "consume", "load", "--count", "3001", "--figures").stdout
    assert figures.startswith("msgs=3001 ") and "complete=1" in figures
    code, text = run_on_terminal(["bench", "produce", "load", "--count", "20000", "--brokers", b])
    assert code == 0, text
    assert "\r\x1b[2K" in text and "records sent" in text and "P99 MS" in text
