"""Cluster mode: three Creek brokers sharing one PostgreSQL database (a real PostgreSQL 15
server the test starts). Metadata lists the live brokers and spreads partition leaders and
group coordinators over them; clients bootstrapped from any broker produce and consume; when
a broker is killed (SIGKILL) or paused past its lease (SIGSTOP), the others take its
partitions over, clients continue, and every acknowledged record is stored exactly once and
in order — the paused broker never appends with its old leader epoch after losing it.
"""
import json
import signal
import subprocess
import threading
import time
import urllib.request

from confluent_kafka import Consumer, Producer, TopicPartition
from confluent_kafka.admin import AdminClient

from clients import create_topic
from conftest import creek_binary
from cluster import LEASE_MS, bootstrap, cluster, consume_all, group_coordinated_by, stored_epochs, wait_for_leaders  # noqa: F401


def test_three_brokers_share_topics_leaders_and_coordinators(cluster):
    brokers, postgres, db = cluster
    create_topic(brokers[0].bootstrap, "spread", 6)
    # Every broker sees the topic and the same leaders, spread over all three.
    views = [wait_for_leaders(b, "spread", 6, {1, 2, 3}) for b in brokers]
    assert views[0] == views[1] == views[2]
    assert set(views[0].values()) == {1, 2, 3}
    # A producer bootstrapped from broker 2 only, a consumer group from broker 3 only.
    producer = Producer({"bootstrap.servers": brokers[1].bootstrap, "enable.idempotence": True, "linger.ms": 5})
    for i in range(6000):
        producer.produce("spread", key=str(i).encode(), value=f"v{i}".encode())
    assert producer.flush(60) == 0
    consumer = Consumer({"bootstrap.servers": brokers[2].bootstrap, "group.id": "g-spread", "auto.offset.reset": "earliest",
                         "enable.auto.commit": False})
    consumer.subscribe(["spread"])
    seen = []
    deadline = time.monotonic() + 60
    while len(seen) < 6000 and time.monotonic() < deadline:
        for msg in consumer.consume(500, 1.0):
            if not msg.error():
                seen.append(msg.value())
    consumer.commit(asynchronous=False)
    committed = consumer.committed([TopicPartition("spread", p) for p in range(6)], timeout=10)
    consumer.close()
    assert sorted(seen) == sorted(f"v{i}".encode() for i in range(6000))
    assert sum(tp.offset for tp in committed) == 6000
    # The committed offsets are in PostgreSQL, visible to whichever broker coordinates next.
    assert postgres.sql("SELECT sum(committed_offset) FROM creek_offsets WHERE group_id = 'g-spread'", db) == "6000"
    # `creek cluster info` from any broker: the three brokers and the partitions each leads.
    from test_cli import run_creek
    info = json.loads(run_creek(brokers[1].bootstrap, "cluster", "info", "--output", "json").stdout)
    assert sorted(b["id"] for b in info["brokers"]) == [1, 2, 3]
    led = {b["id"]: b["leaderOf"] for b in info["brokers"]}
    assert all(count >= 2 for count in led.values()), led
    # The console (any broker's) shows the brokers, the partitions each leads and their leases.
    console = json.loads(urllib.request.urlopen(brokers[2].http + "/api/cluster", timeout=10).read())
    assert console["engine"] == "postgres"
    assert {b["id"]: b["partitionsLed"] for b in console["brokers"]} == led
    assert all(0 < b["leaseRemainingMs"] <= LEASE_MS for b in console["brokers"]), console["brokers"]
    # Coordinators are spread too: the coordinators of many groups are several brokers.
    admin = AdminClient({"bootstrap.servers": brokers[0].bootstrap})
    groups = ["g-spread"] + [f"probe-{g}" for g in range(15)]
    described = {g: f.result(30) for g, f in admin.describe_consumer_groups(groups).items()}
    coordinators = {d.coordinator.id for d in described.values()}
    assert coordinators == {1, 2, 3}, f"coordinators {coordinators}"


def run_failover(cluster, fault):
    brokers, postgres, db = cluster
    create_topic(brokers[0].bootstrap, "failover", 6)
    leaders = wait_for_leaders(brokers[0], "failover", 6, {1, 2, 3})
    acked, failed = [], []
    stop = threading.Event()
    progress = []
    sent = [0]  # how many records the producer has handed to librdkafka so far

    def produce():
        # A paused broker keeps its TCP connections open: the client notices only when its
        # requests time out (request.timeout.ms, 30 s by default), so a 5 s failover needs a
        # shorter one — with any Kafka broker, not only Creek.
        producer = Producer({"bootstrap.servers": bootstrap(brokers), "enable.idempotence": True, "acks": "all",
                             "linger.ms": 2, "message.timeout.ms": 60000, "request.timeout.ms": 2000,
                             "topic.metadata.refresh.interval.ms": 1000})
        i = 0
        while not stop.is_set():
            try:
                producer.produce("failover", key=str(i % 60).encode(), value=f"r{i}".encode(),
                                 on_delivery=lambda err, msg: (failed if err else acked).append((msg.partition(), msg.value())))
                i += 1
                sent[0] = i
            except BufferError:
                producer.poll(0.01)
            producer.poll(0)
            if i % 100 == 0:
                time.sleep(0.002)
        producer.flush(90)

    # A consumer group whose coordinator is the broker about to fail, two members, committing
    # as they go; after the fault they find the new coordinator and resume from the commits.
    group = group_coordinated_by(3)
    consumed = []
    members_done = threading.Event()

    def member():
        consumer = Consumer({"bootstrap.servers": bootstrap(brokers), "group.id": group, "auto.offset.reset": "earliest",
                             "enable.auto.commit": False, "session.timeout.ms": 6000, "heartbeat.interval.ms": 500,
                             "socket.timeout.ms": 2000, "topic.metadata.refresh.interval.ms": 1000})
        consumer.subscribe(["failover"])
        while not members_done.is_set():
            messages = consumer.consume(500, 0.5)
            for msg in messages:
                if not msg.error():
                    consumed.append(msg.value())
            if messages:
                try:
                    consumer.commit(asynchronous=False)
                except Exception:
                    pass  # retried with the next batch (a coordinator change in progress)
        consumer.close()

    members = [threading.Thread(target=member) for _ in range(2)]
    for m in members:
        m.start()
    thread = threading.Thread(target=produce)
    thread.start()
    victim = brokers[2]  # node 3
    try:
        time.sleep(2.0)
        before = len(acked)
        assert before > 500, f"only {before} acknowledged before the fault"
        if fault == "kill":
            victim.kill()
        elif fault == "term":
            threading.Thread(target=victim.stop).start()
        else:
            victim.process.send_signal(signal.SIGSTOP)
        faulted = time.monotonic()
        # Producers continue within 5 s: acknowledgements resume for partitions node 3 led.
        led_by_victim = {p for p, node in leaders.items() if node == 3}
        assert led_by_victim, "node 3 led nothing; the fault proves nothing"
        # Only records handed to the producer after the fault count: a broker that shuts down
        # gracefully still acknowledges what it had in flight, which proves nothing.
        sent_at_fault = sent[0]
        resumed = None
        while time.monotonic() - faulted < 30:
            recent = {p for p, v in list(acked) if int(v[1:]) >= sent_at_fault}
            if led_by_victim <= recent:
                resumed = time.monotonic() - faulted
                break
            time.sleep(0.1)
        progress.append(resumed)
        time.sleep(1.0)  # the new leaders keep taking writes for a while
        if fault == "pause":
            time.sleep(1.0)
            victim.process.send_signal(signal.SIGCONT)
            time.sleep(2.0 * LEASE_MS / 1000)
    finally:
        stop.set()
        thread.join(120)
        # The group keeps reading until it has everything acknowledged (or a minute passes).
        wanted = {v for _, v in acked}
        deadline = time.monotonic() + 60
        while not wanted <= set(consumed) and time.monotonic() < deadline:
            time.sleep(0.5)
        members_done.set()
        for m in members:
            m.join(60)
    assert progress[0] is not None, "production to the fault's partitions never resumed"
    assert progress[0] < 5.0 + LEASE_MS / 1000, f"took {progress[0]:.1f} s to resume"
    assert not failed, f"{len(failed)} failed, e.g. {failed[:3]}"
    time.sleep(0.5)
    survivors = [b for b in brokers if b.process is not None and b is not brokers[2] or fault == "pause" and b.process is not None]
    records = consume_all(survivors, "failover", 6, len(acked))
    values = [v for _, _, v in records]
    assert len(values) == len(set(values)), "a record is stored twice"
    assert set(values) == {v for _, v in acked}, "an acknowledged record is missing"
    for partition in range(6):
        numbers = [int(v[1:]) for p, _, v in sorted(records) if p == partition]
        assert numbers == sorted(numbers), f"partition {partition} out of order"
    # The group read every acknowledged record; after the coordinator moved it resumed from
    # its commits, so what it read twice is bounded by what it had not committed yet.
    assert {v for _, v in acked} <= set(consumed), "the group missed acknowledged records"
    duplicates = len(consumed) - len(set(consumed))
    assert duplicates < len(acked) / 2, f"{duplicates} records read twice: the group did not resume from its commits"
    committed = postgres.sql(f"SELECT coalesce(sum(committed_offset), 0) FROM creek_offsets WHERE group_id = '{group}'", db)
    assert int(committed) == len(acked), f"group committed {committed} of {len(acked)}"
    # Leader epochs only grow along each partition's log: no append with a superseded epoch.
    epochs = stored_epochs(postgres, db, "failover")
    for partition in range(6):
        sequence = [e for p, _, e in epochs if p == partition]
        assert sequence == sorted(sequence), f"partition {partition}: epochs {sequence}"
    moved = [p for p in led_by_victim if max(e for q, _, e in epochs if q == p) > min(e for q, _, e in epochs if q == p)]
    assert moved, "no partition changed leader epoch"
    return progress[0]


def test_sigkill_of_a_broker_fails_over_without_loss(cluster):
    run_failover(cluster, "kill")


def test_paused_broker_is_fenced_after_its_lease(cluster):
    run_failover(cluster, "pause")
    brokers, _, _ = cluster
    assert "no longer leads" in brokers[2].log() or "led elsewhere" in brokers[2].log() or "lease" in brokers[2].log()


def test_graceful_shutdown_hands_partitions_over(cluster):
    """SIGTERM: the broker leaves the cluster first, so the others take its partitions at
    their next renewal instead of waiting for the lease to expire."""
    resumed = run_failover(cluster, "term")
    assert resumed < 4.0, f"took {resumed:.1f} s"
    assert "shut down cleanly" in cluster[0][2].log()


def test_swift_client_and_cli_against_the_cluster(cluster):
    """The Swift client (through the CLI) follows leaders too: a topic created through broker 2,
    records produced through broker 3, read back through broker 1 and as a group through broker 2."""
    from test_cli import run_creek
    brokers, _, _ = cluster
    run_creek(brokers[1].bootstrap, "topic", "create", "swift", "--partitions", "6")
    lines = "".join(f"s{i}\n" for i in range(3000))
    produced = subprocess.run([creek_binary(), "produce", "swift", "--brokers", brokers[2].bootstrap],
                              input=lines, capture_output=True, text=True, timeout=60)
    assert produced.returncode == 0, produced.stderr
    read = run_creek(brokers[0].bootstrap, "consume", "swift", "--from", "beginning", "--count", "3000")
    assert sorted(read.stdout.split()) == sorted(f"s{i}" for i in range(3000))
    grouped = run_creek(brokers[1].bootstrap, "consume", "swift", "--group", "swift-group", "--from", "beginning", "--count", "3000")
    assert sorted(grouped.stdout.split()) == sorted(f"s{i}" for i in range(3000))
