"""Helpers for the cluster tests: a fixture starting three Creek brokers on one new
PostgreSQL database (a 2 s lease), and Creek's assignment hash to pick ids a given node
coordinates."""
import signal
import time

import pytest
from confluent_kafka import Consumer, TopicPartition
from confluent_kafka.admin import AdminClient

from conftest import Creek


LEASE_MS = 2000


def fnv1a(text):
    value = 0xcbf29ce484222325
    for byte in text.encode():
        value ^= byte
        value = (value * 0x100000001b3) & 0xFFFFFFFFFFFFFFFF
    return value


def group_coordinated_by(node, nodes=(1, 2, 3), prefix="group"):
    """A group (or transactional) id whose coordinator (Creek's hash over the live node ids) is `node`."""
    ordered = sorted(nodes)
    for i in range(1000):
        name = f"{prefix}-{i}"
        if ordered[fnv1a(name) % len(ordered)] == node:
            return name
    raise AssertionError("no such group id")


@pytest.fixture
def cluster(tmp_path, postgres, request):
    name = "c_" + request.node.name.lower()[:40]
    url = postgres.create_database(name)
    brokers = []
    for node in (1, 2, 3):
        broker = Creek(tmp_path / f"node{node}", storage_url=url)
        broker.start(["--node-id", str(node), "--set", f"creek.cluster.lease.ms={LEASE_MS}",
                      "--set", "group.initial.rebalance.delay.ms=0"])
        brokers.append(broker)
    yield brokers, postgres, name
    for broker in brokers:
        if broker.process is not None:
            try:
                broker.process.send_signal(signal.SIGCONT)
            except ProcessLookupError:
                pass
            broker.stop()


def bootstrap(brokers):
    return ",".join(b.bootstrap for b in brokers if b.process is not None)


def wait_for_leaders(broker, topic, partitions, expect_nodes, timeout=20):
    """Waits until `broker`'s Metadata lists `expect_nodes` and leaders for every partition among them."""
    admin = AdminClient({"bootstrap.servers": broker.bootstrap})
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        md = admin.list_topics(timeout=10)
        nodes = set(md.brokers)
        t = md.topics.get(topic)
        if nodes == set(expect_nodes) and t is not None and t.error is None and len(t.partitions) == partitions:
            leaders = {p.leader for p in t.partitions.values()}
            if leaders <= set(expect_nodes):
                return {p.id: p.leader for p in t.partitions.values()}
        time.sleep(0.3)
    raise AssertionError(f"metadata from {broker.bootstrap} never settled: brokers {nodes}, topic {t}")


def stored_epochs(postgres, db, topic):
    """(partition, base_offset, leader epoch written in the batch) in offset order."""
    rows = postgres.sql(
        "SELECT b.partition, b.base_offset, ('x' || encode(substring(b.data from 13 for 4), 'hex'))::bit(32)::int "
        "FROM creek_batches b JOIN creek_topics t ON t.topic_id = b.topic_id "
        f"WHERE t.name = '{topic}' ORDER BY b.partition, b.base_offset", db)
    return [tuple(int(x) for x in line.split("|")) for line in rows.splitlines()]


def consume_all(brokers, topic, partitions, expected, timeout=60):
    consumer = Consumer({"bootstrap.servers": bootstrap(brokers), "group.id": "verify", "enable.auto.commit": False,
                         "auto.offset.reset": "earliest"})
    consumer.assign([TopicPartition(topic, p, 0) for p in range(partitions)])
    out = []
    deadline = time.monotonic() + timeout
    while len(out) < expected and time.monotonic() < deadline:
        for msg in consumer.consume(1000, 1.0):
            if not msg.error():
                out.append((msg.partition(), msg.offset(), msg.value()))
    consumer.close()
    return out
