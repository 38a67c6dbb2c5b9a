#!/usr/bin/env python3
"""Transactional produce against plain idempotent produce, on one Creek, interleaved.

Usage: scripts/bench_transactions.py [RECORDS] (default 300,000; 100-byte records)

Builds `creek` (release), starts it on a temporary data directory with its defaults
(`--flush acks-all`), and runs with confluent-kafka (librdkafka 2.16), 3 rounds each,
alternating: an idempotent producer (enable.idempotence=true, acks=all) sending RECORDS
records to a 1-partition topic, and a transactional producer sending the same in
transactions of 1,000 records each (begin, 1,000 produce calls, commit). Prints msgs/s
per run and the medians. Every process started here is stopped by PID.
"""
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RECORDS = int(sys.argv[1]) if len(sys.argv) > 1 else 300_000
PER_TRANSACTION = 1000
PAYLOAD = b"x" * 100


def send(producer, topic):
    """One record; waits for room when librdkafka's queue is full."""
    while True:
        try:
            producer.produce(topic, PAYLOAD, partition=0)
            return
        except BufferError:
            producer.poll(0.01)


def idempotent(bootstrap, topic):
    from confluent_kafka import Producer
    producer = Producer({"bootstrap.servers": bootstrap, "enable.idempotence": True, "linger.ms": 5})
    start = time.monotonic()
    for _ in range(RECORDS):
        send(producer, topic)
    assert producer.flush(120) == 0
    return RECORDS / (time.monotonic() - start)


def transactional(bootstrap, topic, run):
    from confluent_kafka import Producer
    producer = Producer({"bootstrap.servers": bootstrap, "transactional.id": f"bench-{run}", "linger.ms": 5})
    producer.init_transactions(30)
    start = time.monotonic()
    for _ in range(RECORDS // PER_TRANSACTION):
        producer.begin_transaction()
        for _ in range(PER_TRANSACTION):
            send(producer, topic)
        producer.commit_transaction(60)
    return RECORDS / (time.monotonic() - start)


def main():
    subprocess.run(["swift", "build", "-c", "release", "--product", "creek"], cwd=ROOT, check=True, capture_output=True)
    binary = Path(subprocess.run(["swift", "build", "-c", "release", "--show-bin-path"], cwd=ROOT, check=True,
                                 capture_output=True, text=True).stdout.strip()) / "creek"
    data = tempfile.mkdtemp(prefix="creek-bench-txn-")
    port = 29_500 + os.getpid() % 400
    bootstrap = f"127.0.0.1:{port}"
    creek = subprocess.Popen([str(binary), "serve", "--listen", bootstrap, "--data-dir", data],
                             stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    try:
        assert "creek ready" in creek.stdout.readline().decode()
        from confluent_kafka.admin import AdminClient, NewTopic
        admin = AdminClient({"bootstrap.servers": bootstrap})
        topics = [f"idem{r}" for r in range(3)] + [f"txn{r}" for r in range(3)]
        for future in admin.create_topics([NewTopic(t, num_partitions=1, replication_factor=1) for t in topics]).values():
            future.result(30)
        plain, txn = [], []
        for run in range(3):
            plain.append(idempotent(bootstrap, f"idem{run}"))
            txn.append(transactional(bootstrap, f"txn{run}", run))
            print(f"run {run}: idempotent {plain[-1]:,.0f} msgs/s, transactional {txn[-1]:,.0f} msgs/s", flush=True)
        print(f"median: idempotent {statistics.median(plain):,.0f} msgs/s, transactional (1,000 per transaction) "
              f"{statistics.median(txn):,.0f} msgs/s, ratio {statistics.median(txn) / statistics.median(plain):.2f}")
    finally:
        creek.send_signal(signal.SIGTERM)
        creek.wait(timeout=60)
        subprocess.run(["rm", "-rf", data])


if __name__ == "__main__":
    main()
