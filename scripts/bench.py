#!/usr/bin/env python3
"""Creek's throughput and latency benchmark against librdkafka's mock broker, in one run.

Usage: scripts/bench.py [--quick]

Builds `creek` (release) and bench/creek-load.c (against Debian's librdkafka-dev), then
for each target -- Creek writing to disk with its default durability (--flush acks-all),
and librdkafka's in-memory mock broker (test.mock.num.brokers=1 equivalent) -- runs:
  produce and consume, 100-byte and 1 KiB records, 1 and 8 partitions (one producer,
  acks=all, linger.ms=5; produce is the median of 3 runs, each into a fresh topic after
  `sync`, Creek and mock interleaved so both see the same machine); end-to-end latency
  p50/p99 at 10,000 msgs/s;
and prints each figure with the Creek/mock ratio, plus Creek's CPU seconds and peak RSS.
Every process started here is stopped by PID; every loop is bounded.
"""
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
QUICK = "--quick" in sys.argv
COUNTS = {100: 300_000 if QUICK else 2_000_000, 1024: 100_000 if QUICK else 500_000}
LATENCY_SECONDS = 3 if QUICK else 10


def run(args, **kwargs):
    return subprocess.run(args, check=True, text=True, capture_output=True, **kwargs).stdout


def build():
    run(["swift", "build", "-c", "release", "--product", "creek"], cwd=ROOT)
    creek = Path(run(["swift", "build", "-c", "release", "--show-bin-path"], cwd=ROOT).strip()) / "creek"
    load = Path(tempfile.gettempdir()) / "creek-load"
    run(["gcc", "-O2", "-Wall", "-o", str(load), str(ROOT / "bench" / "creek-load.c"), "-lrdkafka", "-lpthread"])
    return creek, load


def parse(line):
    return {k: float(v) for k, v in (part.split("=") for part in line.split())}


def cpu_seconds(pid):
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def peak_rss_mb(pid):
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return -1


class CreekTarget:
    name = "creek"

    def __init__(self, binary):
        self.data = tempfile.mkdtemp(prefix="creek-bench-")
        self.port = 29_000 + os.getpid() % 1000
        self.process = subprocess.Popen([str(binary), "serve", "--listen", f"127.0.0.1:{self.port}",
                                         "--data-dir", self.data], stdout=subprocess.PIPE,
                                        stderr=subprocess.DEVNULL)
        assert "creek ready" in self.process.stdout.readline().decode()
        self.bootstrap = f"127.0.0.1:{self.port}"

    def create(self, load, topic, partitions):
        run([str(load), "create", self.bootstrap, topic, str(partitions)])

    def stop(self):
        self.process.send_signal(signal.SIGTERM)
        self.process.wait(timeout=60)
        run(["rm", "-rf", self.data])


class MockTarget:
    name = "mock"

    def __init__(self, load, topics):
        self.process = subprocess.Popen([str(load), "mock", *topics], stdin=subprocess.PIPE,
                                        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
        self.bootstrap = self.process.stdout.readline().decode().strip()

    def create(self, load, topic, partitions):
        pass  # created at start

    def stop(self):
        self.process.stdin.close()
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


REPEATS = 3


def settle():
    """Let earlier writes reach the disk so background writeback does not skew the next run."""
    os.sync()
    time.sleep(1.0)


def produce_once(target, load, size, partitions, attempt):
    topic = f"s{size}p{partitions}r{attempt}"
    target.create(load, topic, partitions)
    settle()
    return parse(run([str(load), "produce", target.bootstrap, topic, str(partitions), str(COUNTS[size]), str(size)],
                     timeout=600))


def measure_both(targets, load):
    """Runs every measurement on both targets, interleaved (the order alternates per
    attempt), so both see the same machine conditions; produce is the median of 3."""
    results = {t.name: {} for t in targets}
    for size in (100, 1024):
        for partitions in (1, 8):
            runs = {t.name: [] for t in targets}
            for attempt in range(REPEATS):
                ordered = targets if attempt % 2 == 0 else list(reversed(targets))
                for target in ordered:
                    runs[target.name].append(produce_once(target, load, size, partitions, attempt))
            for target in targets:
                produced = sorted(runs[target.name], key=lambda r: r["msgs_per_sec"])[REPEATS // 2]
                consumed = parse(run([str(load), "consume", target.bootstrap, f"s{size}p{partitions}r0",
                                      str(partitions), str(COUNTS[size])], timeout=600))
                results[target.name][("produce", size, partitions)] = produced
                results[target.name][("consume", size, partitions)] = consumed
                each = ", ".join(str(round(r["msgs_per_sec"])) for r in runs[target.name])
                print(f"  {target.name}: {size} B x {partitions} partitions: produce "
                      f"{produced['msgs_per_sec']:.0f} msgs/s (runs: {each}), consume "
                      f"{consumed['msgs_per_sec']:.0f} msgs/s"
                      f"{'' if consumed.get('complete', 1) else ' (consume hit the 30 s bound)'}", flush=True)
    for target in targets:
        target.create(load, "latency", 1)
        settle()
        results[target.name]["latency"] = parse(run([str(load), "latency", target.bootstrap, "latency", "10000",
                                                     str(LATENCY_SECONDS)], timeout=300))
    return results


def main():
    creek_bin, load = build()
    topics = [f"s{size}p{p}r{r}:{p}" for size in (100, 1024) for p in (1, 8) for r in range(REPEATS)] + ["latency:1"]
    print(f"machine: {os.cpu_count()} cores, {run(['uname', '-m']).strip()}; "
          f"counts: {COUNTS}; latency run {LATENCY_SECONDS}s at 10,000 msgs/s", flush=True)

    creek = CreekTarget(creek_bin)
    mock = MockTarget(load, topics)
    creek_cpu_before = cpu_seconds(creek.process.pid)
    mock_cpu_before = cpu_seconds(mock.process.pid)
    started = time.monotonic()
    both = measure_both([creek, mock], load)
    creek_results, mock_results = both["creek"], both["mock"]
    creek_cpu = cpu_seconds(creek.process.pid) - creek_cpu_before
    mock_cpu = cpu_seconds(mock.process.pid) - mock_cpu_before
    creek_rss = peak_rss_mb(creek.process.pid)
    mock_rss = peak_rss_mb(mock.process.pid)
    creek_wall = time.monotonic() - started
    creek.stop()
    mock.stop()

    print()
    print("| test | records | partitions | Creek msgs/s | Creek MB/s | mock msgs/s | mock MB/s | Creek/mock |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- |")
    for kind in ("produce", "consume"):
        for size in (100, 1024):
            for partitions in (1, 8):
                c = creek_results[(kind, size, partitions)]
                m = mock_results[(kind, size, partitions)]
                ratio = c["msgs_per_sec"] / m["msgs_per_sec"] if m["msgs_per_sec"] else float("inf")
                print(f"| {kind} | {size} B | {partitions} | {c['msgs_per_sec']:,.0f} | {c['mb_per_sec']:.1f} | "
                      f"{m['msgs_per_sec']:,.0f} | {m['mb_per_sec']:.1f} | {ratio:.2f}x |")
    cl, ml = creek_results["latency"], mock_results["latency"]
    print()
    print("| end-to-end latency at 10,000 msgs/s (100 B, 1 partition) | p50 ms | p99 ms |")
    print("| --- | --- | --- |")
    print(f"| Creek | {cl['p50_ms']:.2f} | {cl['p99_ms']:.2f} |")
    print(f"| mock | {ml['p50_ms']:.2f} | {ml['p99_ms']:.2f} |")
    print()
    print(f"Creek: {creek_cpu:.1f} CPU seconds (whole run, {creek_wall:.0f} s), peak RSS {creek_rss:.1f} MB")
    print(f"mock (in the load tool's process): {mock_cpu:.1f} CPU seconds, peak RSS {mock_rss:.1f} MB")


if __name__ == "__main__":
    main()
