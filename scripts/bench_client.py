#!/usr/bin/env python3
"""The Swift client (CreekClient) against librdkafka on the same Creek broker, same run.

    python3 scripts/bench_client.py [--quick]

Builds creek (release) and the librdkafka load generator (bench/creek-load.c, against
Debian's librdkafka 2.0.2 and confluent-kafka's bundled newer one), starts one Creek broker
on loopback, and for 100 B and 1 KiB records on 1 and 8 partitions runs, interleaved,
three times: each client produces COUNT records (acks=all, linger 5 ms, idempotence off as
librdkafka's default), then each client consumes the same topic from the beginning.
Prints the median msgs/s, the ratio Swift / best librdkafka, and each client's CPU
microseconds per record (user + system of the client process).
"""
import statistics
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench import CreekTarget, build, children_cpu, parse, run  # noqa: E402

QUICK = "--quick" in sys.argv
COUNTS = {100: 300_000 if QUICK else 2_000_000, 1024: 100_000 if QUICK else 400_000}
REPEATS = 1 if QUICK else 3
PORT = 19392


def timed(args, timeout=300):
    before = children_cpu()
    outcome = parse(run([str(a) for a in args], timeout=timeout).strip().splitlines()[-1])
    outcome["cpu"] = children_cpu() - before
    return outcome


def main():
    creek, loads = build()
    clients = {"librdkafka 2.0.2": [loads["debian"]], "librdkafka bundled": [loads["bundled"]], "swift": [creek, "bench"]}
    broker = CreekTarget(creek, PORT)
    results = {}
    try:
        for size in (100, 1024):
            for partitions in (1, 8):
                count = COUNTS[size]
                for attempt in range(REPEATS):
                    for name, command in clients.items():
                        topic = f"c{size}p{partitions}r{attempt}{name.split()[0][0]}{len(name)}"
                        run([str(loads["debian"]), "create", broker.bootstrap, topic, str(partitions)], timeout=60)
                        if name == "swift":
                            common = ["--brokers", broker.bootstrap, "--figures"]
                            produced = timed(command + ["produce", topic, "--partitions", partitions, "--count", count, "--size", size,
                                                        "--acks", "all", *common])
                            consumed = timed(command + ["consume", topic, "--count", count + 1, *common])
                        else:
                            produced = timed(command + ["produce", broker.bootstrap, topic, partitions, count, size, "all"])
                            consumed = timed(command + ["consume", broker.bootstrap, topic, partitions, count + 1])
                        for kind, outcome in (("produce", produced), ("consume", consumed)):
                            results.setdefault((kind, size, partitions, name), []).append(outcome)
                        print(f"  {size} B x{partitions}p run {attempt + 1} {name}: produce {produced['msgs_per_sec']:.0f}/s, "
                              f"consume {consumed['msgs_per_sec']:.0f}/s", flush=True)
    finally:
        broker.stop()
    print()
    print("| row | librdkafka 2.0.2 msgs/s | librdkafka bundled msgs/s | Swift msgs/s | Swift / best librdkafka | CPU µs/record 2.0.2 / bundled / Swift |")
    print("|---|---|---|---|---|---|")
    for kind in ("produce", "consume"):
        for size in (100, 1024):
            for partitions in (1, 8):
                rates, cpus = {}, {}
                for name in clients:
                    runs = results[(kind, size, partitions, name)]
                    rates[name] = statistics.median(r["msgs_per_sec"] for r in runs)
                    cpus[name] = statistics.median(r["cpu"] / max(r["msgs"], 1) * 1e6 for r in runs)
                best = max(rates["librdkafka 2.0.2"], rates["librdkafka bundled"])
                print(f"| {kind} {size} B x{partitions}p | {rates['librdkafka 2.0.2']:,.0f} | {rates['librdkafka bundled']:,.0f} | "
                      f"{rates['swift']:,.0f} | {rates['swift'] / best:.2f}x | "
                      f"{cpus['librdkafka 2.0.2']:.2f} / {cpus['librdkafka bundled']:.2f} / {cpus['swift']:.2f} |")


if __name__ == "__main__":
    main()
