"""Idempotent producers through a fault-injecting proxy: every record exactly once, in
send order within each partition, also across broker restarts."""
import base64
import json
import re
import subprocess
import threading
import time

import pytest

from clients import CONSUMERS, create_topic
from conftest import Creek, creek_binary, free_port
from fault_proxy import FaultProxy

COUNT = 50_000
PARTITIONS = 3


def produce_kafka_python(bootstrap, topic, count, progress):
    from kafka import KafkaProducer
    producer = KafkaProducer(bootstrap_servers=bootstrap, linger_ms=5, request_timeout_ms=10_000, batch_size=4096,
                             retry_backoff_ms=50, reconnect_backoff_ms=50)  # defaults otherwise: idempotent, acks=all
    futures = []
    for i in range(count):
        futures.append(producer.send(topic, value=str(i).encode(), partition=i % PARTITIONS))
        progress[0] = i
    producer.flush(180)
    failed = [f for f in futures if f.failed()]
    producer.close(10)
    return len(failed)


def produce_confluent(bootstrap, topic, count, progress):
    from confluent_kafka import Producer
    producer = Producer({"bootstrap.servers": bootstrap, "enable.idempotence": True, "linger.ms": 5,
                         "batch.num.messages": 500,
                         "retry.backoff.ms": 50, "reconnect.backoff.ms": 50, "socket.timeout.ms": 10_000})
    failed = []
    for i in range(count):
        while True:
            try:
                producer.produce(topic, value=str(i).encode(), partition=i % PARTITIONS,
                                 on_delivery=lambda err, msg: err and failed.append(err))
                break
            except BufferError:
                producer.poll(0.05)
        progress[0] = i
        if i % 1000 == 0:
            producer.poll(0)
    assert producer.flush(180) == 0
    return len(failed)


def produce_swift(bootstrap, topic, count, progress):
    """The Swift client (`creek produce`, idempotent with acks=all) fed one JSON line per
    record; small batches so that many Produce requests meet the proxy's faults."""
    process = subprocess.Popen([creek_binary(), "produce", topic, "--brokers", bootstrap, "--format", "json",
                                "--batch-size", "4096"],
                               stdin=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    for i in range(count):
        process.stdin.write(json.dumps({"value": base64.b64encode(str(i).encode()).decode(), "partition": i % PARTITIONS}) + "\n")
        progress[0] = i
    process.stdin.close()
    stderr = process.stderr.read()
    process.wait(240)
    assert process.returncode == 0, stderr
    sent = re.search(r"(\d+) of (\d+) records sent", stderr)
    assert sent, stderr
    return int(sent.group(2)) - int(sent.group(1))


PRODUCE = {"kafka-python": produce_kafka_python, "confluent": produce_confluent, "swift": produce_swift}


@pytest.mark.parametrize("client", ["kafka-python", "confluent", "swift"])
@pytest.mark.parametrize("restart", [None, "sigterm", "sigkill"])
def test_exactly_once_in_order_through_faults(tmp_path, client, restart):
    proxy_port = free_port()
    flags = ["--advertise", f"127.0.0.1:{proxy_port}"] + (["--flush", "always"] if restart == "sigkill" else [])
    creek = Creek(tmp_path / "data", flags)
    creek.start()
    proxy = FaultProxy(proxy_port, creek.port, drop_rate=0.1).start()
    try:
        topic = "idem"
        create_topic(creek.bootstrap, topic, PARTITIONS)
        progress = [0]
        result = {}
        thread = threading.Thread(target=lambda: result.setdefault(
            "failed", PRODUCE[client](f"127.0.0.1:{proxy_port}", topic, COUNT, progress)))
        thread.start()
        if restart:
            deadline = time.monotonic() + 60
            while progress[0] < COUNT // 2 and time.monotonic() < deadline:
                time.sleep(0.01)
            if restart == "sigterm":
                creek.stop()
            else:
                creek.kill()
            creek.start()
        thread.join(240)
        assert not thread.is_alive(), "producer did not finish"
        assert result.get("failed") == 0, f"{result.get('failed')} records failed"
        assert proxy.faults > 0, "no fault was injected"
        consumed = CONSUMERS["confluent"](creek.bootstrap, topic, PARTITIONS, COUNT, timeout=90)
        for p in range(PARTITIONS):
            values = [int(m["value"]) for m in sorted((m for m in consumed if m["partition"] == p),
                                                       key=lambda m: m["offset"])]
            assert values == list(range(p, COUNT, PARTITIONS)), \
                f"partition {p}: {len(values)} records, first problems near " \
                f"{[v for a, v in zip(values, values[1:]) if v != a + PARTITIONS][:5]}"
    finally:
        proxy.stop()
        creek.stop()
