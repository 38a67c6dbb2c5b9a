"""Transactions across a three-broker cluster on one PostgreSQL database: the transaction
coordinator, the group coordinator and the output partitions' leaders are different
brokers, so markers travel as WriteTxnMarkers between brokers and transactional offsets are
staged at the group's coordinator. A killed transaction coordinator's open transaction is
aborted by the broker that takes the transactional id over (its state is in PostgreSQL).
"""
import time

from confluent_kafka import Consumer, KafkaException, Producer, TopicPartition

from clients import create_topic
from cluster import LEASE_MS, bootstrap, cluster, group_coordinated_by, wait_for_leaders  # noqa: F401

CONTROL = 0x20  # the control flag in a batch's attributes (low byte)


def control_batches(postgres, db, topic):
    """Control (marker) batches per partition, as stored in PostgreSQL."""
    rows = postgres.sql(
        "SELECT b.partition, count(*) FROM creek_batches b JOIN creek_topics t ON t.topic_id = b.topic_id "
        f"WHERE t.name = '{topic}' AND (get_byte(b.data, 22) & {CONTROL}) <> 0 GROUP BY b.partition", db)
    return {int(p): int(n) for p, n in (line.split("|") for line in rows.splitlines())}


def read_all(brokers, topic, partitions, isolation, timeout=30):
    """Every record of `topic` a fresh consumer reads until it has been idle for 3 s."""
    consumer = Consumer({"bootstrap.servers": bootstrap(brokers), "group.id": f"verify-{isolation}",
                         "enable.auto.commit": False, "isolation.level": isolation})
    consumer.assign([TopicPartition(topic, p, 0) for p in range(partitions)])
    values = []
    deadline = time.monotonic() + timeout
    idle_since = time.monotonic()
    while time.monotonic() < deadline and time.monotonic() - idle_since < 3:
        batch = [m for m in consumer.consume(1000, 0.5) if not m.error()]
        if batch:
            idle_since = time.monotonic()
        values += [m.value() for m in batch]
    consumer.close()
    return values


def transactional_producer(brokers, transactional_id):
    producer = Producer({"bootstrap.servers": bootstrap(brokers), "transactional.id": transactional_id,
                         "transaction.timeout.ms": 10000, "linger.ms": 5})
    producer.init_transactions(30)
    return producer


def test_read_process_write_spans_three_brokers(cluster):
    brokers, postgres, db = cluster
    create_topic(brokers[0].bootstrap, "in", 6)
    create_topic(brokers[0].bootstrap, "out", 6)
    leaders = wait_for_leaders(brokers[0], "out", 6, {1, 2, 3})
    assert set(leaders.values()) == {1, 2, 3}
    loader = Producer({"bootstrap.servers": bootstrap(brokers), "enable.idempotence": True})
    for i in range(3000):
        loader.produce("in", key=str(i).encode(), value=f"i{i}".encode())
    assert loader.flush(60) == 0

    # The transaction is coordinated by node 1, the consumer group by node 2.
    transactional_id = group_coordinated_by(1, prefix="txn")
    group = group_coordinated_by(2)
    producer = transactional_producer(brokers, transactional_id)
    consumer = Consumer({"bootstrap.servers": bootstrap(brokers), "group.id": group, "enable.auto.commit": False,
                         "auto.offset.reset": "earliest", "isolation.level": "read_committed"})
    consumer.subscribe(["in"])

    # First an aborted transaction: records on every output partition and offsets, then abort.
    first = []
    while not first:
        first = [m for m in consumer.consume(500, 1.0) if not m.error()]
    producer.begin_transaction()
    for p in range(6):
        producer.produce("out", value=b"junk", partition=p)
    assert producer.flush(30) == 0  # abort_transaction would drop what is still queued
    producer.send_offsets_to_transaction(consumer.position(consumer.assignment()), consumer.consumer_group_metadata(), 30)
    producer.abort_transaction(30)
    # The aborted offsets were never committed: the group's position goes back to its commits.
    assert all(tp.offset < 0 for tp in consumer.committed(consumer.assignment(), timeout=10))
    for tp in consumer.assignment():
        consumer.seek(TopicPartition("in", tp.partition, 0))

    # Then read-process-write in committed transactions until the input is done.
    done = set()
    deadline = time.monotonic() + 120
    while len(done) < 3000 and time.monotonic() < deadline:
        batch = [m for m in consumer.consume(300, 1.0) if not m.error()]
        if not batch:
            continue
        producer.begin_transaction()
        for m in batch:
            producer.produce("out", key=m.key(), value=b"o" + m.value()[1:])
        producer.send_offsets_to_transaction(consumer.position(consumer.assignment()), consumer.consumer_group_metadata(), 30)
        producer.commit_transaction(30)
        done.update(m.value() for m in batch)
    assert len(done) == 3000

    # The group's offsets were committed by the transactions, at its coordinator (node 2).
    committed = consumer.committed([TopicPartition("in", p) for p in range(6)], timeout=10)
    consumer.close()
    assert sum(tp.offset for tp in committed) == 3000
    assert postgres.sql(f"SELECT coalesce(sum(committed_offset), 0) FROM creek_offsets WHERE group_id = '{group}'", db) == "3000"
    assert postgres.sql("SELECT count(*) FROM creek_txn_offsets", db) == "0", "staged offsets left behind"

    # read_committed sees each output once and no junk; the junk is there for read_uncommitted.
    committed_values = read_all(brokers, "out", 6, "read_committed")
    assert sorted(committed_values) == sorted(f"o{i}".encode() for i in range(3000))
    assert read_all(brokers, "out", 6, "read_uncommitted").count(b"junk") == 6
    # Markers reached every output partition, led by all three brokers.
    controls = control_batches(postgres, db, "out")
    assert all(controls.get(p, 0) >= 2 for p in range(6)), controls


def test_a_killed_transaction_coordinator_is_replaced(cluster):
    brokers, postgres, db = cluster
    create_topic(brokers[0].bootstrap, "out", 6)
    wait_for_leaders(brokers[0], "out", 6, {1, 2, 3})
    transactional_id = group_coordinated_by(3, prefix="txn")
    survivors = brokers[:2]

    # A transaction left open on node 3, which then dies.
    zombie = transactional_producer(brokers, transactional_id)
    zombie.begin_transaction()
    for p in range(6):
        zombie.produce("out", value=b"open", partition=p)
    assert zombie.flush(30) == 0
    assert postgres.sql(f"SELECT metadata::json->>'state' FROM creek_transactions WHERE transactional_id = '{transactional_id}'", db) == "ongoing"
    brokers[2].kill()
    time.sleep(LEASE_MS / 1000 + 1.5)

    # The same transactional id again: its new coordinator loads the state from PostgreSQL,
    # fences the old producer and aborts its transaction, then serves the new one.
    producer = transactional_producer(survivors, transactional_id)
    producer.begin_transaction()
    for i in range(60):
        producer.produce("out", value=f"new{i}".encode(), partition=i % 6)
    producer.commit_transaction(30)
    try:
        zombie.commit_transaction(15)
        raise AssertionError("the fenced producer committed")
    except KafkaException as error:
        assert error.args[0].fatal() or not error.args[0].retriable(), error

    values = read_all(survivors, "out", 6, "read_committed")
    assert sorted(values) == sorted(f"new{i}".encode() for i in range(60))
    assert read_all(survivors, "out", 6, "read_uncommitted").count(b"open") == 6
    assert postgres.sql(f"SELECT metadata::json->>'state' FROM creek_transactions WHERE transactional_id = '{transactional_id}'", db) == "completeCommit"
