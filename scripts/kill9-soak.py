#!/usr/bin/env python3
"""kill -9 soak: scripts/kill9-soak.py [CYCLES] (default 100).

Each cycle starts the real `creek` binary (default flush policy, acks-all), runs a
confluent-kafka producer with acks=all on 4 partitions for about a second, SIGKILLs the
broker mid-load, restarts it, and checks that every record whose delivery was
acknowledged in any cycle is still there at its offset with its value. Prints one line
per cycle and exits non-zero at the first loss.
"""
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "compat"))
from conftest import Creek  # noqa: E402
from clients import create_topic  # noqa: E402

from confluent_kafka import Consumer, Producer, TopicPartition  # noqa: E402

PARTITIONS = 4


def load(bootstrap, acked, stop, cycle):
    producer = Producer({"bootstrap.servers": bootstrap, "acks": "all", "linger.ms": 2,
                         "message.timeout.ms": 3000, "retries": 2})

    def report(err, msg):
        if err is None:
            acked[(msg.partition(), msg.offset())] = msg.value()

    i = 0
    while not stop.is_set():
        try:
            producer.produce("soak", value=b"c%d-%d" % (cycle, i), partition=i % PARTITIONS, on_delivery=report)
            i += 1
        except BufferError:
            pass
        producer.poll(0)
        time.sleep(0.0005)  # a steady ~1,500 records a second, so each check stays short
    producer.flush(5)


def check(bootstrap, acked):
    consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": "soak-check", "enable.auto.commit": False})
    consumer.assign([TopicPartition("soak", p, 0) for p in range(PARTITIONS)])
    wanted = dict(acked)
    found = {}
    matched = 0
    deadline = time.monotonic() + 120
    while matched < len(wanted) and time.monotonic() < deadline:
        message = consumer.poll(0.5)
        if message is not None and message.error() is None:
            key = (message.partition(), message.offset())
            if key not in found and key in wanted:
                matched += 1
            found[key] = message.value()
    consumer.close()
    lost = [k for k, v in wanted.items() if found.get(k) != v]
    for key in sorted(lost)[:3]:
        print(f"  {key}: acknowledged {wanted[key]!r}, read {found.get(key)!r}", flush=True)
    return lost


def main():
    cycles = int(sys.argv[1]) if len(sys.argv) > 1 else 100
    work = Path(tempfile.mkdtemp(prefix="creek-kill9-"))
    creek = Creek(work / "data")
    creek.start()
    create_topic(creek.bootstrap, "soak", PARTITIONS)
    acked = {}
    started = time.monotonic()
    for cycle in range(cycles):
        stop = threading.Event()
        thread = threading.Thread(target=load, args=(creek.bootstrap, acked, stop, cycle))
        thread.start()
        time.sleep(0.4 + (cycle % 5) * 0.1)
        os.kill(creek.process.pid, signal.SIGKILL)
        creek.process.wait()
        creek.process = None
        stop.set()
        thread.join()
        creek.start()
        lost = check(creek.bootstrap, acked)
        print(f"cycle {cycle + 1}/{cycles}: {len(acked)} acknowledged records so far, {len(lost)} lost", flush=True)
        if lost:
            print(f"LOST: {sorted(lost)[:10]}; data dir {work}", flush=True)
            creek.stop()
            sys.exit(1)
    creek.stop()
    print(f"kill -9 soak: {cycles} cycles, {len(acked)} acknowledged records, none lost, {time.monotonic() - started:.0f} s")


if __name__ == "__main__":
    main()
