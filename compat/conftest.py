"""Fixtures that run the real `creek` binary for the compatibility tests.

Each test gets its own broker on a free loopback port with a fresh data directory. The
broker is stopped by PID (SIGTERM, then SIGKILL if it hangs) when the test ends.
"""
import os
import signal
import socket
import subprocess
import time
import uuid
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def creek_binary() -> str:
    explicit = os.environ.get("CREEK_BIN")
    if explicit:
        return explicit
    path = subprocess.run(["swift", "build", "--show-bin-path"], cwd=ROOT, capture_output=True,
                          text=True, check=True).stdout.strip()
    return str(Path(path) / "creek")


def _new_database(base_url: str, name: str) -> str:
    host_port = base_url.split("@", 1)[-1].rstrip("/")
    host, port = host_port.rsplit(":", 1)
    subprocess.run(["psql", "-X", "-q", "-h", host, "-p", port, "-U", "postgres", "-d", "postgres", "-c", f'CREATE DATABASE "{name}"'],
                   check=True, capture_output=True, timeout=60)
    return f"{base_url.rstrip('/')}/{name}"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Creek:
    """A running broker process and how to restart, stop or kill it."""

    def __init__(self, data_dir: Path, extra_args=(), storage_url=None):
        self.binary = creek_binary()
        self.data_dir = data_dir
        self.port = free_port()
        # CREEK_TEST_POSTGRES=postgres://USER@HOST:PORT: every test broker stores its topics in
        # its own new database on that server (the suite run against the PostgreSQL engine).
        if storage_url is None and os.environ.get("CREEK_TEST_POSTGRES"):
            # A port can come round again within one run: the name also carries a random part.
            storage_url = _new_database(os.environ["CREEK_TEST_POSTGRES"], f"creek_{self.port}_{os.getpid()}_{uuid.uuid4().hex[:8]}")
        self.storage_args = ["--storage", storage_url] if storage_url else []
        self.http_port = free_port()
        self.extra_args = list(extra_args)
        self.process = None
        self.log_path = data_dir.parent / f"creek-{self.port}.log"

    @property
    def bootstrap(self) -> str:
        return f"127.0.0.1:{self.port}"

    @property
    def http(self) -> str:
        """The admin HTTP listener's base URL (metrics, health, console)."""
        return f"http://127.0.0.1:{self.http_port}"

    def start(self, extra_args=None, timeout=20.0):
        if extra_args is not None:
            self.extra_args = list(extra_args)
        log = open(self.log_path, "ab")
        self.process = subprocess.Popen(
            [self.binary, "serve", "--listen", self.bootstrap, "--data-dir", str(self.data_dir),
             "--http", f"127.0.0.1:{self.http_port}", *self.storage_args, *self.extra_args],
            stdout=subprocess.PIPE, stderr=log)
        deadline = time.monotonic() + timeout
        line = self.process.stdout.readline().decode()
        if "creek ready" not in line:
            raise RuntimeError(f"creek did not start: {line!r}; log: {self.log()}")
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=1):
                    return self
            except OSError:
                time.sleep(0.05)
        raise RuntimeError("creek is not accepting connections")

    def stop(self, sig=signal.SIGTERM, timeout=30.0):
        if self.process is None:
            return None
        self.process.send_signal(sig)
        try:
            code = self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            code = self.process.wait()
        self.process.stdout.close()
        self.process = None
        return code

    def kill(self):
        return self.stop(signal.SIGKILL)

    def restart(self, extra_args=None):
        self.stop()
        return self.start(extra_args)

    def log(self) -> str:
        try:
            return self.log_path.read_text()
        except FileNotFoundError:
            return ""


class CreekCluster:
    """CREEK_TEST_CLUSTER=N (with CREEK_TEST_POSTGRES): N brokers on one new database, used by
    a test as one broker — clients bootstrap from the first only and find the others through
    Metadata; stop, kill and restart act on all of them."""

    def __init__(self, data_dir: Path, extra_args=(), size=3):
        first = Creek(data_dir, extra_args)
        url = first.storage_args[1]
        self.brokers = [first] + [Creek(data_dir.parent / f"{data_dir.name}-node{n}", extra_args, storage_url=url)
                                  for n in range(2, size + 1)]

    def __getattr__(self, name):
        return getattr(self.brokers[0], name)

    def start(self, extra_args=None, timeout=20.0):
        for node, broker in enumerate(self.brokers, start=1):
            args = list(extra_args if extra_args is not None else broker.extra_args)
            broker.start([*args, "--node-id", str(node)], timeout=timeout)
            broker.extra_args = args
        # Every broker has seen the others (lease renewals are a third of the 6 s lease) before
        # the test starts: a view that changes under a test's load moves leaders, and a test
        # of ordering without idempotence would see Kafka's reordering on retry.
        deadline = time.monotonic() + timeout
        for broker in self.brokers:
            while len(self._live_seen_by(broker)) < len(self.brokers):
                if time.monotonic() > deadline:
                    raise RuntimeError(f"broker at {broker.bootstrap} did not see {len(self.brokers)} live brokers")
                time.sleep(0.1)
        return self

    @staticmethod
    def _live_seen_by(broker):
        import json
        import urllib.request
        try:
            with urllib.request.urlopen(broker.http + "/api/cluster", timeout=2) as reply:
                return json.load(reply)["brokers"]
        except OSError:
            return []

    def stop(self, sig=signal.SIGTERM, timeout=30.0):
        codes = [broker.stop(sig, timeout) for broker in self.brokers]
        return codes[0]

    def kill(self):
        return self.stop(signal.SIGKILL)

    def restart(self, extra_args=None):
        self.stop()
        return self.start(extra_args)

    def log(self) -> str:
        return "\n".join(broker.log() for broker in self.brokers)


def make_broker(data_dir: Path, extra_args=()):
    size = int(os.environ.get("CREEK_TEST_CLUSTER", "1"))
    if size > 1 and os.environ.get("CREEK_TEST_POSTGRES"):
        return CreekCluster(data_dir, extra_args, size)
    return Creek(data_dir, extra_args)


@pytest.fixture(scope="module")
def postgres():
    """A PostgreSQL 15 server of the module's own (compat/postgres_server.py)."""
    from postgres_server import PostgresServer
    server = PostgresServer().start()
    yield server
    server.remove()


@pytest.fixture
def creek(tmp_path):
    broker = make_broker(tmp_path / "data")
    # CREEK_TEST_EXTRA: more serve flags for every test broker (to rerun the suite under other settings).
    broker.start(["--set", "group.initial.rebalance.delay.ms=0", *os.environ.get("CREEK_TEST_EXTRA", "").split()])
    yield broker
    code = broker.stop()
    assert code in (0, None), f"creek exited with {code}; log:\n{broker.log()}"


@pytest.fixture
def creek_factory(tmp_path):
    """For tests that need their own flags: call with extra args to start a broker."""
    started = []

    def make(*args):
        broker = make_broker(tmp_path / f"data{len(started)}", args)
        broker.start()
        started.append(broker)
        return broker

    yield make
    for broker in started:
        broker.stop()
