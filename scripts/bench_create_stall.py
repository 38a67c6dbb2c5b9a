#!/usr/bin/env python3
"""Produce latency while a 10,000-partition topic is created.

scripts/bench_create_stall.py [PARTITIONS] — starts the release `creek` (CREEK_BIN), runs a
confluent-kafka producer (acks=all, linger 0) at ~500 records/s on topic `steady`, and
after 3 s creates a topic with PARTITIONS partitions (default 10,000) through the admin
API. Prints the producer's latency percentiles before and during the creation, and how
long the creation took.
"""
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "compat"))
from conftest import Creek  # noqa: E402
from clients import create_topic  # noqa: E402

from confluent_kafka import Producer  # noqa: E402
from confluent_kafka.admin import AdminClient, NewTopic  # noqa: E402


def percentile(values, fraction):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))] if ordered else float("nan")


def main():
    partitions = int(sys.argv[1]) if len(sys.argv) > 1 else 10_000
    creek = Creek(Path(tempfile.mkdtemp(prefix="creek-stall-")) / "data")
    creek.start()
    try:
        create_topic(creek.bootstrap, "steady", 1)
        samples = []  # (sent_at, latency_ms)
        producer = Producer({"bootstrap.servers": creek.bootstrap, "acks": "all", "linger.ms": 0})
        stop = threading.Event()

        def run():
            while not stop.is_set():
                sent = time.monotonic()
                try:
                    producer.produce("steady", value=b"x" * 100, partition=0,
                                     on_delivery=lambda err, msg, sent=sent: samples.append((sent, (time.monotonic() - sent) * 1000)))
                except BufferError:
                    pass
                producer.poll(0)
                time.sleep(0.002)
            producer.flush(30)

        thread = threading.Thread(target=run)
        thread.start()
        time.sleep(3)
        admin = AdminClient({"bootstrap.servers": creek.bootstrap})
        began = time.monotonic()
        admin.create_topics([NewTopic("wide", partitions, 1)], operation_timeout=600, request_timeout=600)["wide"].result(600)
        ended = time.monotonic()
        time.sleep(1)
        stop.set()
        thread.join()
        before = [lat for sent, lat in samples if sent < began]
        during = [lat for sent, lat in samples if began <= sent <= ended]
        print(f"created {partitions} partitions in {ended - began:.1f} s")
        for label, values in (("before", before), ("during", during)):
            print(f"{label:>6}: {len(values)} records, p50 {statistics.median(values):.1f} ms, "
                  f"p99 {percentile(values, 0.99):.1f} ms, max {max(values):.1f} ms")
    finally:
        stop.set() if "stop" in dir() else None
        creek.stop()


if __name__ == "__main__":
    main()
