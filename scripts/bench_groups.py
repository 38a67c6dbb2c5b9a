#!/usr/bin/env python3
"""Group-join benchmark: ten confluent-kafka consumers subscribe to one 10-partition topic
at the same moment; prints how long after the last subscribe every member holds its
assignment. Creek runs with group.initial.rebalance.delay.ms=0.

Usage: scripts/bench_groups.py [ROUNDS]   (each round uses a fresh group; bounded waits)
"""
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from confluent_kafka import Consumer
from confluent_kafka.admin import AdminClient, NewTopic

ROOT = Path(__file__).resolve().parent.parent
ROUNDS = int(sys.argv[1]) if len(sys.argv) > 1 else 5
MEMBERS = 10
HEARTBEAT_MS = int(os.environ.get("HEARTBEAT_MS", "3000"))


def run_round(bootstrap, group):
    start = threading.Barrier(MEMBERS)
    subscribed, assigned = [0.0] * MEMBERS, [None] * MEMBERS
    stop = threading.Event()

    def member(i):
        consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": group, "client.id": f"m{i}",
                             "session.timeout.ms": 10000, "heartbeat.interval.ms": HEARTBEAT_MS})

        def on_assign(c, partitions):
            assigned[i] = (time.monotonic(), len(partitions))

        start.wait()
        subscribed[i] = time.monotonic()
        consumer.subscribe(["join-bench"], on_assign=on_assign)
        deadline = time.monotonic() + 60
        while not stop.is_set() and time.monotonic() < deadline:
            consumer.poll(0.05)
        consumer.close()

    threads = [threading.Thread(target=member, args=(i,)) for i in range(MEMBERS)]
    for t in threads:
        t.start()
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        final = [a for a in assigned if a is not None]
        if len(final) == MEMBERS and all(n == 1 for _, n in final):
            break
        time.sleep(0.01)
    stop.set()
    for t in threads:
        t.join()
    if any(a is None or a[1] != 1 for a in assigned):
        return None
    return max(t for t, _ in assigned) - max(subscribed)


def main():
    subprocess.run(["swift", "build", "-c", "release", "--product", "creek"], cwd=ROOT, check=True, capture_output=True)
    binary = Path(subprocess.run(["swift", "build", "-c", "release", "--show-bin-path"], cwd=ROOT, check=True,
                                 capture_output=True, text=True).stdout.strip()) / "creek"
    data = tempfile.mkdtemp(prefix="creek-join-")
    port = 31_000 + os.getpid() % 1000
    creek = subprocess.Popen([str(binary), "serve", "--listen", f"127.0.0.1:{port}", "--data-dir", data,
                              "--set", "group.initial.rebalance.delay.ms=0"], stdout=subprocess.PIPE,
                             stderr=subprocess.DEVNULL)
    try:
        assert "creek ready" in creek.stdout.readline().decode()
        bootstrap = f"127.0.0.1:{port}"
        admin = AdminClient({"bootstrap.servers": bootstrap})
        admin.create_topics([NewTopic("join-bench", num_partitions=MEMBERS, replication_factor=1)])["join-bench"].result(30)
        times = []
        for r in range(ROUNDS):
            elapsed = run_round(bootstrap, f"join-{r}")
            times.append(elapsed)
            print(f"round {r}: every member assigned {elapsed:.3f} s after the last subscribe" if elapsed is not None
                  else f"round {r}: not every member got one partition within 60 s")
        good = sorted(t for t in times if t is not None)
        if good:
            print(f"{MEMBERS} consumers, heartbeat.interval.ms={HEARTBEAT_MS}: median {good[len(good) // 2]:.3f} s, "
                  f"worst {good[-1]:.3f} s over {len(good)} rounds")
    finally:
        creek.send_signal(signal.SIGTERM)
        creek.wait(timeout=30)
        subprocess.run(["rm", "-rf", data])


if __name__ == "__main__":
    main()
