"""A throwaway PostgreSQL 15 server for the PostgreSQL engine's tests.

`initdb` into a temporary directory and `pg_ctl` on a free loopback port, as the unprivileged
`postgres` user when run as root (PostgreSQL refuses to run as root). Trust authentication on
loopback only; the server is stopped by `stop()` (pg_ctl, then SIGKILL of its PID).
Run as a script, it starts a server and prints its URL base, for running the compatibility
suite against the PostgreSQL engine by hand (see docs/cluster.md).
"""
import os
import pwd
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

BIN = Path("/usr/lib/postgresql/15/bin")


def _free_port() -> int:
    import socket
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class PostgresServer:
    def __init__(self):
        if not (BIN / "initdb").exists():
            raise RuntimeError(f"PostgreSQL 15 server binaries not found in {BIN} (apt-get install postgresql-15)")
        self.directory = Path(tempfile.mkdtemp(prefix="creek-pg-"))
        self.data = self.directory / "data"
        self.port = _free_port()
        self.user = None
        if os.geteuid() == 0:
            self.user = pwd.getpwnam("postgres")
            os.chown(self.directory, self.user.pw_uid, self.user.pw_gid)
        self._run([str(BIN / "initdb"), "-D", str(self.data), "-A", "trust", "-U", "postgres", "--no-sync", "-E", "UTF8"])
        with open(self.data / "postgresql.conf", "a") as conf:
            conf.write(f"\nlisten_addresses = '127.0.0.1'\nport = {self.port}\nunix_socket_directories = '{self.directory}'\n"
                       "max_connections = 300\nfsync = on\nsynchronous_commit = on\n")

    def _run(self, args, check=True, timeout=60):
        if self.user is not None:
            args = ["runuser", "-u", "postgres", "--", *args]
        return subprocess.run(args, check=check, capture_output=True, text=True, timeout=timeout)

    @property
    def base_url(self) -> str:
        return f"postgres://postgres@127.0.0.1:{self.port}"

    def start(self):
        self._run([str(BIN / "pg_ctl"), "-D", str(self.data), "-l", str(self.directory / "server.log"), "-w", "-t", "30", "start"])
        return self

    def stop(self, mode="fast"):
        self._run([str(BIN / "pg_ctl"), "-D", str(self.data), "-m", mode, "-w", "-t", "30", "stop"], check=False)
        pid_file = self.data / "postmaster.pid"
        if pid_file.exists():
            try:
                os.kill(int(pid_file.read_text().split()[0]), signal.SIGKILL)
            except (OSError, ValueError):
                pass

    def restart(self, mode="fast"):
        self.stop(mode)
        return self.start()

    def sql(self, statement: str, database: str = "postgres") -> str:
        """Runs one statement with psql and returns its unaligned output."""
        result = subprocess.run(
            ["psql", "-X", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres",
             "-d", database, "-c", statement], check=True, capture_output=True, text=True, timeout=60)
        return result.stdout.strip()

    def create_database(self, name: str) -> str:
        self.sql(f'CREATE DATABASE "{name}"')
        return f"{self.base_url}/{name}"

    def remove(self):
        self.stop()
        shutil.rmtree(self.directory, ignore_errors=True)


if __name__ == "__main__":
    # SIGTERM (and SIGINT, which a shell's background job ignores) stop and remove the server.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    server = PostgresServer().start()
    print(server.base_url, flush=True)
    try:
        signal.pause()
    except KeyboardInterrupt:
        pass
    finally:
        server.remove()
        sys.exit(0)
