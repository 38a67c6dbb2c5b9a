#!/usr/bin/env python3
"""TLS against plaintext on the same broker, same run: one `creek serve` (release) with a
PLAINTEXT and an SSL listener (a certificate made here with openssl), and librdkafka's load
generator (bench/creek-load.c, Debian's librdkafka 2.0.2) producing then consuming COUNT
1 KiB records (acks=all) through each listener in turn, REPEATS times interleaved.

    python3 scripts/bench_tls.py [--quick]

Prints the median msgs/s and MB/s per listener and the TLS / plaintext ratios.
"""
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench import ROOT, parse, run, wait_for_port  # noqa: E402

QUICK = "--quick" in sys.argv
COUNT = 100_000 if QUICK else 400_000
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
    try:
        for attempt in range(REPEATS):
            for name, (bootstrap, env) in listeners.items():
                environment = {**os.environ, **env}
                topic = f"tls{attempt}{name}"
                run([str(load), "create", bootstrap, topic, "1"], env=environment, timeout=60)
                produced = parse(run([str(load), "produce", bootstrap, topic, "1", str(COUNT), str(SIZE), "all"],
                                     env=environment, timeout=600).strip().splitlines()[-1])
                consumed = parse(run([str(load), "consume", bootstrap, topic, "1", str(COUNT)],
                                     env=environment, timeout=600).strip().splitlines()[-1])
                results[("produce", name)].append(produced["msgs_per_sec"])
                results[("consume", name)].append(consumed["msgs_per_sec"])
                print(f"  run {attempt + 1} {name}: produce {produced['msgs_per_sec']:,.0f}/s, consume {consumed['msgs_per_sec']:,.0f}/s", flush=True)
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


if __name__ == "__main__":
    main()
