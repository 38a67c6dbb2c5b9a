"""Helpers for the consumer-group tests: member child processes and their event streams."""
import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent


class Member:
    """A group member in a child process, with its events collected by a reader thread."""

    def __init__(self, bootstrap, topic, group, name, client="confluent", commit="each", restarts_if_hung=0):
        self.name = name
        self.args = [sys.executable, str(HERE / "group_member.py"), bootstrap, topic, group, name, client, commit]
        self.restarts_left = restarts_if_hung
        self.restarts = 0
        self.events = []
        self.lock = threading.Lock()
        self._spawn()

    def _spawn(self):
        self.process = subprocess.Popen(self.args, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                        stderr=subprocess.DEVNULL, text=True)
        self.reader = threading.Thread(target=self._read, args=(self.process,), daemon=True)
        self.reader.start()

    def _read(self, process):
        hung = False
        for line in process.stdout:
            event = json.loads(line)
            hung = hung or event["event"] == "client-hung"
            with self.lock:
                self.events.append(event)
        # A member whose client library hung (see group_member.Watchdog) is started again,
        # as a supervisor would; the group must take it back and lose nothing.
        if hung and self.restarts_left > 0:
            process.wait()
            self.restarts_left -= 1
            self.restarts += 1
            with self.lock:
                self.events.append({"event": "revoked", "partitions": sorted(self._held()), "member": self.name})
            self._spawn()

    def _held(self):
        held = set()
        for event in self.events:
            if event["event"] == "assigned":
                held = set(event["partitions"])
            elif event["event"] == "revoked":
                held -= set(event["partitions"])
        return held

    def snapshot(self):
        with self.lock:
            return list(self.events)

    @property
    def assignment(self):
        """Partitions currently held: the last 'assigned' not followed by a 'revoked'."""
        with self.lock:
            return self._held()

    @property
    def records(self):
        return [e for e in self.snapshot() if e["event"] == "record"]

    def close(self, timeout=30):
        self.restarts_left = 0
        self.process.stdin.write("quit\n")
        self.process.stdin.flush()
        self.process.wait(timeout=timeout)
        self.reader.join(5)

    def kill(self):
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=10)
        self.reader.join(5)

    def stop(self):
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()


def wait_for(condition, timeout, message):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.1)
    detail = message() if callable(message) else message
    raise AssertionError(f"timed out after {timeout}s: {detail}")


def balanced(members, partitions):
    """Every partition held by exactly one live member, and every member holds some
    (when there are at least as many partitions as members)."""
    assignments = [m.assignment for m in members]
    held = [p for a in assignments for p in a]
    everyone_busy = len(members) > partitions or all(assignments)
    return sorted(held) == list(range(partitions)) and everyone_busy
