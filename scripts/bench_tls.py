#!/usr/bin/env python3
"""TLS against plaintext on the same broker, same run: one `creek serve` (release) with a
PLAINTEXT and an SSL listener (a certificate made here with openssl), and librdkafka's load
generator (bench/creek-load.c, Debian's librdkafka 2.0.2) producing then consuming COUNT
1 KiB records (acks=all) through each listener in turn, REPEATS times interleaved.

    python3 scripts/bench_tls.py [--quick]

Prints the median msgs/s and MB/s per listener and the TLS / plaintext ratios, and where the
CPU went: the load generator's and the broker's CPU seconds per run, and the busiest thread of
each as a share of the load generator's measured seconds (librdkafka does a connection's I/O, batching and TLS
on one thread per broker; a thread near 100% is what bounds the run).
"""
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench import ROOT, parse, run, thread_cpu, wait_for_port  # noqa: E402

QUICK = "--quick" in sys.argv
COUNT = 100_000 if QUICK else 2_000_000  # produce runs of several seconds
REPEATS = 1 if QUICK else 3
SIZE = 1024


def certificates(directory):
    def openssl(*args):
        run(["openssl", *args], cwd=directory)
    openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "ca.key", "-out", "ca.pem", "-days", "2", "-subj", "/CN=bench CA")
    openssl("req", "-newkey", "rsa:2048", "-nodes", "-keyout", "server.key", "-out", "server.csr", "-subj", "/CN=localhost")
    Path(directory, "ext").write_text("subjectAltName=DNS:localhost,IP:127.0.0.1\n")
    openssl("x509", "-req", "-in", "server.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial", "-out", "server.pem", "-days", "2", "-extfile", "ext")
    keystore = Path(directory, "keystore.pem")
    keystore.write_text(Path(directory, "server.key").read_text() + Path(directory, "server.pem").read_text())
    return keystore, Path(directory, "ca.pem")


def measured(args, env, broker_pid):
    """Runs the load generator, sampling its threads' CPU until it exits: (output, its total
    CPU seconds, its threads' CPU as last sampled, the broker's threads' CPU during the run)."""
    before = thread_cpu(broker_pid)
    output = tempfile.TemporaryFile(mode="w+")
    child = subprocess.Popen(args, env=env, stdout=output, stderr=subprocess.DEVNULL, text=True)
    client = {}
    while True:
        pid, status, usage = os.wait4(child.pid, os.WNOHANG)
        if pid:
            break
        client = thread_cpu(child.pid) or client
        time.sleep(0.02)
    child.returncode = os.waitstatus_to_exitcode(status)
    if child.returncode != 0:
        raise RuntimeError(f"{args} failed ({child.returncode})")
    after = thread_cpu(broker_pid)
    broker = {name: after[name] - before.get(name, 0.0) for name in after}
    output.seek(0)
    return output.read(), usage.ru_utime + usage.ru_stime, client, broker


def busiest(threads, seconds):
    """The thread with the most CPU, as a share of the load generator's measured seconds (its
    CPU includes start-up, so a share a little over 100% means busy all the time)."""
    name, used = max(threads.items(), key=lambda item: item[1], default=("-", 0.0))
    return f"{name} {used / seconds:.0%}"


def main():
    run(["swift", "build", "-c", "release", "--product", "creek"], cwd=ROOT)
    creek = Path(run(["swift", "build", "-c", "release", "--show-bin-path"], cwd=ROOT).strip()) / "creek"
    load = Path(tempfile.gettempdir()) / "creek-load-debian"
    run(["gcc", "-O2", "-Wall", "-o", str(load), str(ROOT / "bench" / "creek-load.c"), "-lrdkafka", "-lpthread"])
    work = tempfile.mkdtemp(prefix="creek-tls-bench-")
    keystore, ca = certificates(work)
    plain, secure = 19592, 19593
    broker = subprocess.Popen([str(creek), "serve", "--data-dir", f"{work}/data", "--http", "off",
                               "--set", f"listeners=PLAINTEXT://127.0.0.1:{plain},SSL://127.0.0.1:{secure}",
                               "--set", f"ssl.keystore.location={keystore}"], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    assert "creek ready" in broker.stdout.readline().decode()
    wait_for_port(plain)
    listeners = {
        "plaintext": (f"127.0.0.1:{plain}", {}),
        "tls": (f"127.0.0.1:{secure}", {"CREEK_LOAD_CONFIG": f"security.protocol=SSL;ssl.ca.location={ca}"}),
    }
    results = {(kind, name): [] for kind in ("produce", "consume") for name in listeners}
    cpu = {(kind, name): [] for kind in ("produce", "consume") for name in listeners}
    try:
        for attempt in range(REPEATS):
            for name, (bootstrap, env) in listeners.items():
                environment = {**os.environ, **env}
                topic = f"tls{attempt}{name}"
                run([str(load), "create", bootstrap, topic, "1"], env=environment, timeout=60)
                for kind in ("produce", "consume"):
                    args = [str(load), kind, bootstrap, topic, "1", str(COUNT)] + ([str(SIZE), "all"] if kind == "produce" else [])
                    output, client_cpu, client, served = measured(args, environment, broker.pid)
                    figures = parse(output.strip().splitlines()[-1])
                    rate, seconds = figures["msgs_per_sec"], figures["seconds"]
                    results[(kind, name)].append(rate)
                    cpu[(kind, name)].append((client_cpu, sum(served.values())))
                    print(f"  run {attempt + 1} {name} {kind}: {rate:,.0f} msgs/s in {seconds:.2f} s; load generator "
                          f"{client_cpu:.2f} s CPU (busiest thread {busiest(client, seconds)}), broker "
                          f"{sum(served.values()):.2f} s CPU (busiest {busiest(served, seconds)})", flush=True)
    finally:
        broker.terminate()
        broker.wait(timeout=60)
        run(["rm", "-rf", work])
    print()
    print("| 1 KiB records | plaintext msgs/s (MB/s) | TLS msgs/s (MB/s) | TLS / plaintext |")
    print("|---|---|---|---|")
    for kind in ("produce", "consume"):
        p = statistics.median(results[(kind, "plaintext")])
        t = statistics.median(results[(kind, "tls")])
        print(f"| {kind} | {p:,.0f} ({p * SIZE / 1e6:.0f}) | {t:,.0f} ({t * SIZE / 1e6:.0f}) | {t / p:.2f}x |")
    print()
    print("CPU microseconds per record (medians): load generator / broker")
    print("| 1 KiB records | plaintext | TLS |")
    print("|---|---|---|")
    for kind in ("produce", "consume"):
        cells = []
        for name in listeners:
            client = statistics.median(c for c, _ in cpu[(kind, name)]) / COUNT * 1e6
            served = statistics.median(b for _, b in cpu[(kind, name)]) / COUNT * 1e6
            cells.append(f"{client:.2f} / {served:.2f}")
        print(f"| {kind} | {cells[0]} | {cells[1]} |")


if __name__ == "__main__":
    main()
