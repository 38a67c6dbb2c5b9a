"""The PostgreSQL storage engine (`creek serve --storage postgres://…`) against a real
PostgreSQL 15 server the tests start themselves: topics and records live in the database
(a broker with an empty data directory serves them), acknowledged records survive a
SIGKILL of the broker and a restart of PostgreSQL under load, exactly once with idempotent
producers, and clients of two brokers writing one partition never get the same offset.
"""
import threading
import time

import pytest
from confluent_kafka import Producer

from clients import CONSUMERS, PRODUCERS, create_topic, make_records, watermarks
from conftest import Creek


@pytest.fixture
def database(postgres, request):
    name = "t_" + request.node.name.lower().replace("[", "_").replace("]", "").replace("-", "_")[:40]
    return postgres.create_database(name), name


def start_broker(tmp_path, url, label="a", *extra):
    """A broker on `url`; restarted at once after a SIGKILL, it waits out its old lease (6 s)."""
    broker = Creek(tmp_path / f"data-{label}", storage_url=url)
    broker.start(["--set", "group.initial.rebalance.delay.ms=0", *extra])
    return broker


@pytest.fixture
def launch(tmp_path):
    """`start_broker` for tests with several brokers: each one started is stopped at the end,
    whatever failed on the way."""
    started = []

    def start(url, label, *extra):
        broker = start_broker(tmp_path, url, label, *extra)
        started.append(broker)
        return broker

    yield start
    for broker in started:
        if broker.process is not None:
            broker.stop()


def stored_offsets(postgres, db, topic):
    """(partition, next_offset) from creek_partitions, and the batches' offset ranges per partition."""
    next_offsets = dict(
        tuple(int(x) for x in line.split("|")) for line in postgres.sql(
            "SELECT p.partition, p.next_offset FROM creek_partitions p JOIN creek_topics t ON t.topic_id = p.topic_id "
            f"WHERE t.name = '{topic}'", db).splitlines())
    ranges = {}
    for line in postgres.sql(
            "SELECT b.partition, b.base_offset, b.last_offset FROM creek_batches b JOIN creek_topics t ON t.topic_id = b.topic_id "
            f"WHERE t.name = '{topic}' ORDER BY b.partition, b.base_offset", db).splitlines():
        partition, base, last = (int(x) for x in line.split("|"))
        ranges.setdefault(partition, []).append((base, last))
    return next_offsets, ranges


def assert_contiguous(next_offsets, ranges):
    for partition, batches in ranges.items():
        expected = batches[0][0]
        for base, last in batches:
            assert base == expected, f"partition {partition}: batch at {base}, expected {expected}"
            expected = last + 1
        assert expected == next_offsets[partition]


def test_topics_and_records_live_in_postgres(tmp_path, postgres, database):
    url, db = database
    broker = start_broker(tmp_path, url)
    create_topic(broker.bootstrap, "kept", 3, {"retention.ms": "123456789"})
    records = make_records(3000)
    PRODUCERS["kafka-python"](broker.bootstrap, "kept", records)
    before = watermarks(broker.bootstrap, "kept", 3)
    assert sum(high for _, high in before.values()) == 3000
    next_offsets, ranges = stored_offsets(postgres, db, "kept")
    assert next_offsets == {p: high for p, (_, high) in before.items()}
    assert_contiguous(next_offsets, ranges)
    assert broker.stop() == 0
    assert not any(broker.data_dir.glob("kept-*")), "no partition directory on local disk"
    # A new broker with an empty data directory serves the same topic from the database.
    other = start_broker(tmp_path, url, "b")
    try:
        assert watermarks(other.bootstrap, "kept", 3) == before
        consumed = CONSUMERS["confluent"](other.bootstrap, "kept", 3, len(records))
        assert sorted(m["value"] for m in consumed) == sorted(r["value"] for r in records)
        by_value = {r["value"]: r for r in records}
        for m in consumed:
            assert m["key"] == by_value[m["value"]]["key"]
            assert m["headers"] == by_value[m["value"]]["headers"]
            assert m["timestamp"] == by_value[m["value"]]["timestamp"]
    finally:
        other.stop()


def wait_until_all_see(count, *brokers, timeout=15):
    from confluent_kafka.admin import AdminClient
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if all(len(AdminClient({"bootstrap.servers": b.bootstrap}).list_topics(timeout=10).brokers) == count for b in brokers):
            return
        time.sleep(0.3)
    raise AssertionError(f"brokers never all saw {count} live brokers")


def produce_under_load(bootstrap, topic, acked, failed, stop, **config):
    conf = {"bootstrap.servers": bootstrap, "acks": "all", "linger.ms": 2, "enable.idempotence": True,
            "message.timeout.ms": 60000}
    conf.update(config)
    producer = Producer(conf)

    def report(err, msg):
        (failed if err else acked).append((msg.partition(), msg.value()))

    i = 0
    while not stop.is_set():
        try:
            producer.produce(topic, key=str(i % 16).encode(), value=f"r{i}".encode(), on_delivery=report)
            i += 1
        except BufferError:
            producer.poll(0.01)
        producer.poll(0)
        if i % 200 == 0:
            time.sleep(0.005)
    producer.flush(60)
    return i


def read_all(bootstrap, topic, partitions):
    marks = watermarks(bootstrap, topic, partitions)
    total = sum(high - low for low, high in marks.values())
    consumed = CONSUMERS["confluent"](bootstrap, topic, partitions, total)
    assert len(consumed) == total
    return consumed


def test_sigkill_of_the_broker_loses_no_acknowledged_record(tmp_path, postgres, database):
    url, _ = database
    broker = start_broker(tmp_path, url)
    create_topic(broker.bootstrap, "acked", 2)
    acked, failed, stop = [], [], threading.Event()
    thread = threading.Thread(target=produce_under_load, args=(broker.bootstrap, "acked", acked, failed, stop),
                              kwargs={"message.timeout.ms": 4000, "enable.idempotence": False, "retries": 0})
    thread.start()
    time.sleep(2.0)
    count_at_kill = len(acked)
    broker.kill()
    time.sleep(0.5)
    stop.set()
    thread.join(60)
    assert count_at_kill > 500, f"only {count_at_kill} records acknowledged before the kill"
    broker.start()
    try:
        stored = {m["value"] for m in read_all(broker.bootstrap, "acked", 2)}
        missing = [v for _, v in acked if v not in stored]
        assert not missing, f"{len(missing)} acknowledged records lost, e.g. {missing[:5]}"
    finally:
        broker.stop()


def test_postgres_restart_under_load_loses_nothing_and_duplicates_nothing(tmp_path, postgres, database):
    url, db = database
    broker = start_broker(tmp_path, url)
    create_topic(broker.bootstrap, "steady", 3)
    acked, failed, stop = [], [], threading.Event()
    thread = threading.Thread(target=produce_under_load, args=(broker.bootstrap, "steady", acked, failed, stop))
    thread.start()
    try:
        run_through_postgres_restart(postgres, broker, db, acked, failed, stop, thread)
    finally:
        stop.set()
        broker.stop()


def run_through_postgres_restart(postgres, broker, db, acked, failed, stop, thread):
    try:
        time.sleep(2.0)
        before = len(acked)
        postgres.restart(mode="immediate")  # a crash: clients' connections drop, WAL replayed on start
        time.sleep(3.0)
        after_restart = len(acked)
        deadline = time.monotonic() + 20
        while len(acked) < after_restart + 1000 and time.monotonic() < deadline:
            time.sleep(0.2)
        assert len(acked) >= after_restart + 1000, f"production did not resume: {before} -> {after_restart} -> {len(acked)}"
    finally:
        stop.set()
        thread.join(90)
    assert not failed, f"{len(failed)} records failed, e.g. {failed[:3]}"
    consumed = read_all(broker.bootstrap, "steady", 3)
    values = [m["value"] for m in consumed]
    assert len(values) == len(set(values)), "a record was stored twice"
    assert set(values) == {v for _, v in acked}
    # Per partition, the producer's order: r<i> increasing within each partition.
    for partition in range(3):
        numbers = [int(m["value"][1:]) for m in consumed if m["partition"] == partition]
        assert numbers == sorted(numbers), f"partition {partition} out of order"
    next_offsets, ranges = stored_offsets(postgres, db, "steady")
    assert_contiguous(next_offsets, ranges)


def test_two_brokers_on_one_partition_never_assign_the_same_offset(launch, postgres, database):
    """Producers bootstrapped from two different brokers write one partition: Metadata sends
    both to its leader (the other answers NOT_LEADER_OR_FOLLOWER), and offsets stay unique and
    contiguous in the database. (`compat/test_cluster.py` covers failover.)"""
    url, db = database
    first = launch(url, "a", "--node-id", "1")
    create_topic(first.bootstrap, "shared", 1)
    second = launch(url, "b", "--node-id", "2")
    results = {}

    def produce(broker, label):
        producer = Producer({"bootstrap.servers": broker.bootstrap, "acks": "all", "linger.ms": 1,
                             "enable.idempotence": True, "message.timeout.ms": 60000})
        acked, failed = [], []
        for i in range(3000):
            while True:
                try:
                    producer.produce("shared", partition=0, value=f"{label}{i}".encode(),
                                     on_delivery=lambda err, msg: (failed if err else acked).append(msg.value()))
                    break
                except BufferError:
                    producer.poll(0.01)
            if i % 50 == 0:
                producer.poll(0.002)
        producer.flush(90)
        results[label] = (acked, failed)

    time.sleep(3)  # the second broker has seen the topic (next lease renewal)
    threads = [threading.Thread(target=produce, args=(b, label)) for b, label in ((first, "a"), (second, "b"))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    for label in ("a", "b"):
        acked, failed = results[label]
        assert not failed, f"broker {label}: {len(failed)} failed, e.g. {failed[:3]}"
        assert len(acked) == 3000
    next_offsets, ranges = stored_offsets(postgres, db, "shared")
    assert_contiguous(next_offsets, ranges)
    assert next_offsets[0] == 6000, f"{next_offsets[0]} records stored for 6000 acknowledged"
    # A third broker reads every record exactly once.
    third = launch(url, "c", "--node-id", "3")
    # Until every broker has seen the newcomer (its next lease renewal), their Metadata
    # differ and a client may drop a broker handle mid-request.
    wait_until_all_see(3, first, second, third)
    values = [m["value"] for m in read_all(third.bootstrap, "shared", 1)]
    assert sorted(values) == sorted(results["a"][0] + results["b"][0])


def test_unreachable_database_fails_startup_with_a_clear_error(tmp_path):
    broker = Creek(tmp_path / "data", storage_url="postgres://postgres@127.0.0.1:1/none")
    with pytest.raises(RuntimeError) as failure:
        broker.start(timeout=40)
    assert "no answer from PostgreSQL" in str(failure.value) + broker.log()
