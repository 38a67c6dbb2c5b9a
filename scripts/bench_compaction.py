#!/usr/bin/env python3
"""The log cleaner's rate and what it does to produce latency while it runs.

Usage: scripts/bench_compaction.py [RECORDS] (default 1,000,000 records of 200 bytes over
100,000 keys: ~220 MB to clean)

Builds `creek` (release) and the load generator (bench/creek-load.c, Debian's librdkafka),
then, once with the cleaner unthrottled and once with log.cleaner.io.max.bytes.per.second
at 20 MB/s: starts Creek (defaults, plus log.cleaner.backoff.ms=500), writes RECORDS keyed
records (confluent-kafka) to a 1-partition topic with cleanup.policy=delete and 16 MiB
segments, measures end-to-end latency at 10,000 msgs/s for 10 s on another topic (the
baseline), switches the topic to cleanup.policy=compact (IncrementalAlterConfigs) and
measures the same latency again while the cleaner compacts. Prints the pass from Creek's
log (bytes read and written, records removed, duration → MB/s) and p50/p99 baseline vs
during. Every process started here is stopped by PID.
"""
import os
import re
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RECORDS = int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000
KEYS = 100_000
VALUE = b"v" * 200


def run(args, **kwargs):
    return subprocess.run(args, check=True, text=True, capture_output=True, **kwargs).stdout


def build():
    run(["swift", "build", "-c", "release", "--product", "creek"], cwd=ROOT)
    creek = Path(run(["swift", "build", "-c", "release", "--show-bin-path"], cwd=ROOT).strip()) / "creek"
    load = Path(tempfile.gettempdir()) / "creek-load-debian"
    run(["gcc", "-O2", "-Wall", "-o", str(load), str(ROOT / "bench" / "creek-load.c"), "-lrdkafka", "-lpthread"])
    return creek, load


def latency(load, bootstrap, topic):
    line = run([str(load), "latency", bootstrap, topic, "10000", "10"], timeout=120).strip().splitlines()[-1]
    return {k: float(v) for k, v in (part.split("=") for part in line.split())}


def fill(bootstrap):
    from confluent_kafka import Producer
    producer = Producer({"bootstrap.servers": bootstrap, "linger.ms": 20})
    for i in range(RECORDS):
        while True:
            try:
                producer.produce("changelog", key=b"key-%d" % (i % KEYS), value=VALUE, partition=0)
                break
            except BufferError:
                producer.poll(0.01)
    assert producer.flush(120) == 0


def one(creek_bin, load, throttle):
    data = tempfile.mkdtemp(prefix="creek-bench-compaction-")
    log_path = Path(data + ".log")
    port = 29_900 + os.getpid() % 90
    bootstrap = f"127.0.0.1:{port}"
    args = [str(creek_bin), "serve", "--listen", bootstrap, "--data-dir", data, "--set", "log.cleaner.backoff.ms=500"]
    if throttle:
        args += ["--set", f"log.cleaner.io.max.bytes.per.second={throttle}"]
    with open(log_path, "wb") as log:
        creek = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=log)
    try:
        assert "creek ready" in creek.stdout.readline().decode()
        from confluent_kafka.admin import AdminClient, AlterConfigOpType, ConfigEntry, ConfigResource, NewTopic
        admin = AdminClient({"bootstrap.servers": bootstrap})
        for future in admin.create_topics([
            NewTopic("lat-before", num_partitions=1, replication_factor=1),
            NewTopic("lat-during", num_partitions=1, replication_factor=1),
            NewTopic("changelog", num_partitions=1, replication_factor=1,
                     config={"cleanup.policy": "delete", "segment.bytes": str(16 << 20)}),
        ]).values():
            future.result(30)
        started = time.monotonic()
        fill(bootstrap)
        print(f"  wrote {RECORDS:,} keyed records in {time.monotonic() - started:.1f} s", flush=True)
        baseline = latency(load, bootstrap, "lat-before")
        resource = ConfigResource("topic", "changelog", incremental_configs=[
            ConfigEntry("cleanup.policy", "compact", incremental_operation=AlterConfigOpType.SET)])
        for future in admin.incremental_alter_configs([resource]).values():
            future.result(30)
        during = latency(load, bootstrap, "lat-during")
        deadline = time.monotonic() + 300
        passes = []
        while time.monotonic() < deadline and not passes:
            passes = [line for line in log_path.read_text().splitlines() if "log cleaner pass" in line and "changelog" in line]
            time.sleep(0.5)
        label = f"{throttle / 1e6:.0f} MB/s limit" if throttle else "unthrottled"
        if passes:
            fields = dict(re.findall(r"(\w+)=(\S+)", passes[0]))
            read, written, seconds = int(fields["bytesRead"]), int(fields["bytesWritten"]), float(fields["duration"])
            print(f"  cleaner ({label}): read {read / 1e6:.0f} MB, wrote {written / 1e6:.1f} MB, removed "
                  f"{int(fields['recordsRemoved']):,} records in {seconds:.2f} s = {read / 1e6 / seconds:.0f} MB/s read")
        else:
            print(f"  cleaner ({label}): no pass finished within 300 s")
        print(f"  produce latency at 10,000 msgs/s: baseline p50 {baseline['p50_ms']:.2f} / p99 {baseline['p99_ms']:.2f} ms; "
              f"during cleaning p50 {during['p50_ms']:.2f} / p99 {during['p99_ms']:.2f} ms", flush=True)
    finally:
        creek.send_signal(signal.SIGTERM)
        creek.wait(timeout=60)
        subprocess.run(["rm", "-rf", data, str(log_path)])


def main():
    creek, load = build()
    print(f"{os.cpu_count()} cores; {RECORDS:,} records of {len(VALUE)} B over {KEYS:,} keys (uncompressed)", flush=True)
    for throttle in (None, 20_000_000):
        one(creek, load, throttle)


if __name__ == "__main__":
    main()
