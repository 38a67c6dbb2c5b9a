#!/usr/bin/env python3
"""The cost of metrics: one Creek broker recording metrics (`--metrics on`, admin HTTP
listener on and scraped every 5 s) against one recording none (`--metrics off --http off`),
same binary, same machine, runs interleaved.

    python3 scripts/bench_metrics.py [--quick]

Each run: `creek bench produce` of COUNT 100-byte records (acks=all) into a fresh topic of
PARTITIONS partitions on one broker, then the same on the other. Prints each broker's median
throughput and broker CPU per record, and the ratios (on / off).
"""
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench import ROOT, cpu_seconds, parse, run, wait_for_port  # noqa: E402

QUICK = "--quick" in sys.argv
COUNT = 300_000 if QUICK else 2_000_000
REPEATS = 2 if QUICK else 5


class Broker:
    def __init__(self, binary, port, http_port, metrics):
        self.data = tempfile.mkdtemp(prefix="creek-metrics-bench-")
        http = ["--http", f"127.0.0.1:{http_port}"] if metrics else ["--http", "off"]
        self.process = subprocess.Popen([str(binary), "serve", "--listen", f"127.0.0.1:{port}", "--data-dir", self.data,
                                         "--metrics", "on" if metrics else "off", *http],
                                        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
        assert "creek ready" in self.process.stdout.readline().decode()
        wait_for_port(port)
        self.bootstrap = f"127.0.0.1:{port}"
        self.http_port = http_port if metrics else None
        self.stopping = False
        if self.http_port:
            threading.Thread(target=self.scrape, daemon=True).start()

    def scrape(self):
        while not self.stopping:
            urllib.request.urlopen(f"http://127.0.0.1:{self.http_port}/metrics", timeout=10).read()
            time.sleep(5)

    def stop(self):
        self.stopping = True
        self.process.terminate()
        self.process.wait(timeout=60)
        run(["rm", "-rf", self.data])


def main():
    run(["swift", "build", "-c", "release", "--product", "creek"], cwd=ROOT)
    creek = Path(run(["swift", "build", "-c", "release", "--show-bin-path"], cwd=ROOT).strip()) / "creek"
    brokers = {"on": Broker(creek, 19492, 19644, True), "off": Broker(creek, 19493, None, False)}
    results = {name: [] for name in brokers}
    try:
        for partitions in (1, 8):
            for attempt in range(REPEATS):
                for name, broker in brokers.items():
                    topic = f"m{partitions}r{attempt}{name}"
                    before = cpu_seconds(broker.process.pid)
                    line = run([str(creek), "bench", "produce", topic, "--brokers", broker.bootstrap, "--partitions", str(partitions),
                                "--count", str(COUNT), "--size", "100", "--acks", "all", "--figures"], timeout=600).strip().splitlines()[-1]
                    outcome = parse(line)
                    outcome["broker_cpu_us"] = (cpu_seconds(broker.process.pid) - before) / COUNT * 1e6
                    outcome["partitions"] = partitions
                    results[name].append(outcome)
                    print(f"  {partitions}p run {attempt + 1} metrics {name}: {outcome['msgs_per_sec']:,.0f} msgs/s, "
                          f"broker {outcome['broker_cpu_us']:.3f} µs/record", flush=True)
    finally:
        for broker in brokers.values():
            broker.stop()
    print()
    print("| partitions | metrics on msgs/s | metrics off msgs/s | on / off | broker CPU µs/record on | off | on / off |")
    print("|---|---|---|---|---|---|---|")
    for partitions in (1, 8):
        rate = {n: statistics.median(r["msgs_per_sec"] for r in rs if r["partitions"] == partitions) for n, rs in results.items()}
        cpu = {n: statistics.median(r["broker_cpu_us"] for r in rs if r["partitions"] == partitions) for n, rs in results.items()}
        print(f"| {partitions} | {rate['on']:,.0f} | {rate['off']:,.0f} | {rate['on'] / rate['off']:.3f} | "
              f"{cpu['on']:.3f} | {cpu['off']:.3f} | {cpu['on'] / cpu['off']:.3f} |")


if __name__ == "__main__":
    main()
