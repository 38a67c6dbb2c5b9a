#!/usr/bin/env python3
"""The PostgreSQL engine against the local log, and one against three brokers on the
PostgreSQL engine: the same librdkafka load generator (bench/creek-load.c), produce
(acks=all) then consume, runs interleaved, medians.

Usage: scripts/bench_postgres.py [RUNS]   (builds creek in release mode and the load generator
first; starts its own PostgreSQL 15 server, see compat/postgres_server.py)
       scripts/bench_postgres.py --where    where a 1 KiB acks=all produce to one broker on the
       PostgreSQL engine spends: CPU seconds of creek and of the PostgreSQL server processes,
       WAL bytes written (pg_stat_wal), wall time
"""
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "compat"))
from postgres_server import PostgresServer  # noqa: E402

CASES = [("100 B", 100, 500_000, 1), ("100 B", 100, 500_000, 8), ("1 KiB", 1024, 200_000, 1), ("1 KiB", 1024, 200_000, 8)]


def free_port():
    import socket
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def run(load, *args):
    out = subprocess.run([load, *map(str, args)], capture_output=True, text=True, timeout=600, check=True).stdout
    fields = dict(part.split("=") for part in out.split() if "=" in part)
    return float(fields["msgs_per_sec"])


def start_broker(creek, storage, postgres, database, node):
    data = tempfile.mkdtemp(prefix="creek-bench-")
    port = free_port()
    args = [creek, "serve", "--listen", f"127.0.0.1:{port}", "--data-dir", data, "--http", "off", "--node-id", str(node)]
    if storage != "local":
        args += ["--storage", database]
    broker = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    assert "creek ready" in broker.stdout.readline().decode()
    return broker, f"127.0.0.1:{port}", data


def one_run(creek, load, storage, size, count, partitions, postgres):
    database = postgres.create_database(f"bench_{free_port()}") if storage != "local" else None
    brokers = [start_broker(creek, storage, postgres, database, node) for node in range(1, 4 if storage == "postgres x3" else 2)]
    try:
        bootstrap = ",".join(address for _, address, _ in brokers)
        subprocess.run([load, "create", brokers[0][1], "bench", str(partitions)], check=True, capture_output=True, timeout=60)
        time.sleep(2.5 if len(brokers) > 1 else 0)  # every broker sees the topic (next lease renewal)
        produced = run(load, "produce", bootstrap, "bench", partitions, count, size, "all")
        consumed = run(load, "consume", bootstrap, "bench", partitions, count)
        return produced, consumed
    finally:
        for broker, _, data in brokers:
            broker.terminate()
            broker.wait(30)
            subprocess.run(["rm", "-rf", data])


def cpu_seconds(pids):
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0.0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            total += (int(fields[11]) + int(fields[12])) / ticks
        except (FileNotFoundError, IndexError, ValueError):
            pass
    return total


def postgres_pids(postgres):
    out = subprocess.run(["pgrep", "-f", f"postgres.*{postgres.data}|postgres: "], capture_output=True, text=True).stdout
    return [int(p) for p in out.split()]


def where(creek, load, postgres, count=200_000, size=1024, partitions=8):
    database = postgres.create_database(f"where_{free_port()}")
    broker, address, data = start_broker(creek, "postgres", postgres, database, 1)
    try:
        subprocess.run([load, "create", address, "bench", str(partitions)], check=True, capture_output=True, timeout=60)
        db = database.rsplit("/", 1)[1]
        wal_before = postgres.sql("SELECT pg_current_wal_lsn()", db)
        pg_pids = postgres_pids(postgres)
        creek_before, pg_before, started = cpu_seconds([broker.pid]), cpu_seconds(pg_pids), time.monotonic()
        rate = run(load, "produce", address, "bench", partitions, count, size, "all")
        elapsed = time.monotonic() - started
        creek_cpu = cpu_seconds([broker.pid]) - creek_before
        pg_cpu = cpu_seconds(postgres_pids(postgres)) - pg_before
        wal = int(postgres.sql(f"SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), '{wal_before}')", db).split(".")[0])
        print(f"{count} x {size} B to {partitions} partitions, acks=all: {rate:,.0f} records/s, {elapsed:.1f} s wall")
        print(f"creek CPU {creek_cpu:.1f} s ({creek_cpu / elapsed:.0%} of one core), PostgreSQL CPU {pg_cpu:.1f} s "
              f"({pg_cpu / elapsed:.0%}), WAL {wal / 1e6:.0f} MB ({wal / elapsed / 1e6:.0f} MB/s, {wal / (count * size):.2f} bytes per payload byte)")
    finally:
        broker.terminate()
        broker.wait(30)
        subprocess.run(["rm", "-rf", data])


def main():
    if sys.argv[1:] == ["--where"]:
        subprocess.run(["swift", "build", "-c", "release", "--product", "creek"], cwd=ROOT, check=True)
        load = "/tmp/creek-load-bench"
        subprocess.run(["gcc", "-O2", "-o", load, str(ROOT / "bench/creek-load.c"), "-lrdkafka", "-lpthread"], check=True)
        postgres = PostgresServer().start()
        try:
            where(str(ROOT / ".build/release/creek"), load, postgres)
            where(str(ROOT / ".build/release/creek"), load, postgres, count=1_000_000, size=100)
        finally:
            postgres.remove()
        return
    runs = int(sys.argv[1]) if len(sys.argv) > 1 else 3
    subprocess.run(["swift", "build", "-c", "release", "--product", "creek"], cwd=ROOT, check=True)
    creek = str(ROOT / ".build/release/creek")
    load = "/tmp/creek-load-bench"
    subprocess.run(["gcc", "-O2", "-o", load, str(ROOT / "bench/creek-load.c"), "-lrdkafka", "-lpthread"], check=True)
    postgres = PostgresServer().start()
    try:
        print(f"{'records':>8} {'parts':>5} {'engine':>12} {'produce/s':>11} {'consume/s':>11}")
        for label, size, count, partitions in CASES:
            engines = ("local", "postgres", "postgres x3") if partitions > 1 else ("local", "postgres")
            results = {engine: [] for engine in engines}
            for _ in range(runs):
                for storage in engines:
                    results[storage].append(one_run(creek, load, storage, size, count, partitions, postgres))
            for storage in engines:
                produce = statistics.median(r[0] for r in results[storage])
                consume = statistics.median(r[1] for r in results[storage])
                print(f"{label:>8} {partitions:>5} {storage:>12} {produce:>11,.0f} {consume:>11,.0f}", flush=True)
    finally:
        postgres.remove()


if __name__ == "__main__":
    main()
