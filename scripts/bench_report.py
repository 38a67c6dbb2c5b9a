"""The tables `scripts/bench.py` prints: throughput per row and target, CPU seconds per
row, what bounds each produce row on this machine, and end-to-end latency."""
import os

ROWS = [(size, partitions, acks) for size in (100, 1024) for partitions in (1, 8) for acks in ("1", "all")]


def ratio(a, b, lower_is_better=False):
    if not a or not b:
        return "n/a"
    return f"{(b / a if lower_is_better else a / b):.2f}x"


def ceilings(results, page_cache_mb_s, counts):
    """What bounds each produce row on this machine, from the mock's own run: the load
    generator's CPU seconds against the mock are the least work the client needs, and the
    two cores share it with the broker. A broker costing no CPU could at best finish in
    client CPU / cores; one that copies every byte into the page cache (as any broker that
    writes to disk must, at the rate measured in this run) also spends bytes / that rate.
    Returns {row: (zero-cost ceiling, page-cache ceiling)} as ratios to the mock's rate."""
    cores = os.cpu_count() or 1
    bounds = {}
    for size, partitions, acks in ROWS:
        mock = results.get("mock", {}).get(("cpu", size, partitions, acks))
        if not mock or not mock[2]:
            continue
        client_cpu, _, wall = mock
        copy_cpu = counts[size] * size / 1e6 / page_cache_mb_s
        bounds[(size, partitions, acks)] = (wall * cores / client_cpu, wall * cores / (client_cpu + copy_cpu))
    return bounds


TARGETS = {(100, "produce"): 1.2, (1024, "produce"): 0.9}


def report(client, results, names, page_cache_mb_s, counts):
    creek = results["creek"]
    peers = [n for n in names if n != "creek"]
    print()
    print(f"### client: {client}")
    print()
    header = "| test | Creek msgs/s | " + " | ".join(f"{p} msgs/s" for p in peers) + " | " + " | ".join(
        f"Creek / {p}" for p in peers) + " |"
    print(header)
    print("|" + " --- |" * (2 + 2 * len(peers)))
    for kind, size, partitions, acks in [("produce", s, p, a) for s, p, a in ROWS] + [
            (kind, s, p, None) for kind in ("consume", "replay") for s in (100, 1024) for p in (1, 8)]:
        key = (kind, size, partitions, acks) if kind == "produce" else (kind, size, partitions)
        label = f"{kind} {size if size == 100 else '1 KiB'}{' B' if size == 100 else ''}, {partitions}p" + (
            f", acks={acks}" if acks else "")
        values = [results[p].get(key, 0.0) for p in peers]
        print(f"| {label} | {creek[key]:,.0f} | " + " | ".join(f"{v:,.0f}" for v in values) + " | " + " | ".join(
            ratio(creek[key], v) for v in values) + " |")
    print()
    print("| produce row | wall s | client CPU s | broker CPU s | (per target, medians of the runs) |")
    print("| --- | --- | --- | --- | --- |")
    for size, partitions, acks in ROWS:
        for name in names:
            client_cpu, broker_cpu, seconds = results[name][("cpu", size, partitions, acks)]
            print(f"| {size} B x {partitions}p acks={acks} | {seconds:.2f} | {client_cpu:.2f} | {broker_cpu:.2f} | {name} |")
    bounds = ceilings(results, page_cache_mb_s, counts)
    if bounds:
        print()
        print("| produce row | Creek / mock | target | ceiling: broker costing no CPU | ceiling: broker copying to page cache |")
        print("| --- | --- | --- | --- | --- |")
        for (size, partitions, acks), (free, copying) in bounds.items():
            key = ("produce", size, partitions, acks)
            print(f"| {size} B x {partitions}p acks={acks} | {ratio(creek[key], results['mock'][key])} | "
                  f"{TARGETS[(size, 'produce')]:.1f}x | {free:.2f}x | {copying:.2f}x |")
    print()
    print("| end-to-end at 10,000 msgs/s | p50 ms | p99 ms | Creek p99 / peer p99 |")
    print("| --- | --- | --- | --- |")
    for name in names:
        latency = results[name]["latency"]
        compare = "" if name == "creek" else f"{creek['latency'].get('p99_ms', 0) / latency['p99_ms']:.2f}x" if latency.get("p99_ms") else "n/a"
        print(f"| {name} | {latency.get('p50_ms', -1):.2f} | {latency.get('p99_ms', -1):.2f} | {compare} |")


