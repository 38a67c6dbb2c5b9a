"""Transactions (KIP-98) with real clients: a confluent-kafka transactional producer, and
read_committed consumers from confluent-kafka, kafka-python and aiokafka; fencing,
timeouts, open transactions holding back read_committed readers, consume-transform-produce
with offsets in the transaction, and a broker restart."""
import asyncio
import subprocess
import sys
import textwrap
import time

import pytest

from clients import create_topic


def transactional_producer(bootstrap, transactional_id, **config):
    from confluent_kafka import Producer
    conf = {"bootstrap.servers": bootstrap, "transactional.id": transactional_id, "linger.ms": 5}
    conf.update(config)
    producer = Producer(conf)
    producer.init_transactions(30)
    return producer


def produce_in_transaction(producer, topic, partitions, prefix, count, commit):
    producer.begin_transaction()
    for i in range(count):
        for partition in range(partitions):
            producer.produce(topic, value=f"{prefix}-{partition}-{i}".encode(), partition=partition)
    producer.flush(30)
    if commit:
        producer.commit_transaction(30)
    else:
        producer.abort_transaction(30)


def read_confluent(bootstrap, topic, partitions, isolation, expected, timeout=30):
    from confluent_kafka import Consumer, TopicPartition
    consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": f"reader-{time.monotonic_ns()}",
                         "enable.auto.commit": False, "isolation.level": isolation, "auto.offset.reset": "earliest"})
    consumer.assign([TopicPartition(topic, p, 0) for p in range(partitions)])
    values = []
    deadline = time.monotonic() + timeout
    idle_since = None
    while time.monotonic() < deadline:
        message = consumer.poll(0.5)
        if message is None or message.error():
            if len(values) >= expected:
                idle_since = idle_since or time.monotonic()
                if time.monotonic() - idle_since > 1.5:
                    break
            continue
        idle_since = None
        values.append(message.value().decode())
    consumer.close()
    return values


def read_kafka_python(bootstrap, topic, partitions, isolation, expected, timeout=30):
    from kafka import KafkaConsumer, TopicPartition
    consumer = KafkaConsumer(bootstrap_servers=bootstrap, group_id=None, enable_auto_commit=False,
                             isolation_level=isolation, auto_offset_reset="earliest")
    consumer.assign([TopicPartition(topic, p) for p in range(partitions)])
    values = []
    deadline = time.monotonic() + timeout
    quiet = 0
    while time.monotonic() < deadline and (len(values) < expected or quiet < 3):
        batch = consumer.poll(timeout_ms=500)
        quiet = 0 if batch else quiet + 1
        for messages in batch.values():
            values.extend(m.value.decode() for m in messages)
    consumer.close()
    return values


def read_aiokafka(bootstrap, topic, partitions, isolation, expected, timeout=30):
    from aiokafka import AIOKafkaConsumer, TopicPartition

    async def run():
        consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False,
                                    isolation_level=isolation, auto_offset_reset="earliest")
        await consumer.start()
        consumer.assign([TopicPartition(topic, p) for p in range(partitions)])
        values = []
        deadline = time.monotonic() + timeout
        quiet = 0
        try:
            while time.monotonic() < deadline and (len(values) < expected or quiet < 3):
                batch = await consumer.getmany(timeout_ms=500)
                quiet = 0 if batch else quiet + 1
                for messages in batch.values():
                    values.extend(m.value.decode() for m in messages)
        finally:
            await consumer.stop()
        return values

    return asyncio.run(run())


READERS = {"confluent": read_confluent, "kafka-python": read_kafka_python, "aiokafka": read_aiokafka}


@pytest.mark.parametrize("reader", sorted(READERS))
def test_committed_visible_aborted_never(creek, reader):
    create_topic(creek.bootstrap, "tx", 3)
    producer = transactional_producer(creek.bootstrap, "tx-writer")
    produce_in_transaction(producer, "tx", 3, "first", 20, commit=True)
    produce_in_transaction(producer, "tx", 3, "aborted", 20, commit=False)
    produce_in_transaction(producer, "tx", 3, "second", 10, commit=True)
    committed = READERS[reader](creek.bootstrap, "tx", 3, "read_committed", 90)
    assert sorted(committed) == sorted(
        [f"first-{p}-{i}" for p in range(3) for i in range(20)] + [f"second-{p}-{i}" for p in range(3) for i in range(10)])
    everything = READERS[reader](creek.bootstrap, "tx", 3, "read_uncommitted", 150)
    assert len(everything) == 150 and sum(v.startswith("aborted") for v in everything) == 60


def test_open_transaction_holds_back_read_committed(creek):
    from confluent_kafka import Consumer, Producer, TopicPartition
    create_topic(creek.bootstrap, "open", 1)
    writer = transactional_producer(creek.bootstrap, "open-writer")
    writer.begin_transaction()
    writer.produce("open", value=b"in-txn", partition=0)
    writer.flush(30)
    plain = Producer({"bootstrap.servers": creek.bootstrap})
    plain.produce("open", value=b"after", partition=0)
    assert plain.flush(30) == 0
    consumer = Consumer({"bootstrap.servers": creek.bootstrap, "group.id": "open-reader",
                         "isolation.level": "read_committed", "enable.auto.commit": False})
    # The last stable offset is the open transaction's first offset: nothing is readable yet.
    low, high = consumer.get_watermark_offsets(TopicPartition("open", 0), timeout=10)
    assert (low, high) == (0, 0)
    assert read_confluent(creek.bootstrap, "open", 1, "read_committed", 0, timeout=4) == []
    writer.commit_transaction(30)
    assert read_confluent(creek.bootstrap, "open", 1, "read_committed", 2) == ["in-txn", "after"]
    low, high = consumer.get_watermark_offsets(TopicPartition("open", 0), timeout=10)
    assert high == 3  # two records and the commit marker
    consumer.close()


def test_zombie_is_fenced(creek):
    from confluent_kafka import KafkaException
    create_topic(creek.bootstrap, "zombie", 1)
    old = transactional_producer(creek.bootstrap, "shared-id")
    old.begin_transaction()
    old.produce("zombie", value=b"zombie", partition=0)
    old.flush(30)
    new = transactional_producer(creek.bootstrap, "shared-id")
    with pytest.raises(KafkaException) as raised:
        old.commit_transaction(30)
    assert raised.value.args[0].fatal() or "fenced" in str(raised.value).lower()
    produce_in_transaction(new, "zombie", 1, "new", 3, commit=True)
    assert read_confluent(creek.bootstrap, "zombie", 1, "read_committed", 3) == [f"new-0-{i}" for i in range(3)]


def test_abandoned_transaction_is_aborted_after_its_timeout(creek):
    create_topic(creek.bootstrap, "abandoned", 1)
    script = textwrap.dedent(f"""
        import os, signal
        from confluent_kafka import Producer
        p = Producer({{"bootstrap.servers": "{creek.bootstrap}", "transactional.id": "doomed",
                      "transaction.timeout.ms": 2000}})
        p.init_transactions(30)
        p.begin_transaction()
        p.produce("abandoned", value=b"lost", partition=0)
        p.flush(30)
        os.kill(os.getpid(), signal.SIGKILL)
    """)
    assert subprocess.run([sys.executable, "-c", script], timeout=60).returncode == -9
    from confluent_kafka import Producer
    plain = Producer({"bootstrap.servers": creek.bootstrap})
    plain.produce("abandoned", value=b"later", partition=0)
    assert plain.flush(30) == 0
    # Readable once the broker aborts the abandoned transaction (2 s timeout, 1 s checks).
    assert read_confluent(creek.bootstrap, "abandoned", 1, "read_committed", 1, timeout=20) == ["later"]


def test_consume_transform_produce_exactly_once(creek):
    from confluent_kafka import Consumer, Producer, TopicPartition
    create_topic(creek.bootstrap, "ctp-in", 2)
    create_topic(creek.bootstrap, "ctp-out", 2)
    source = Producer({"bootstrap.servers": creek.bootstrap})
    for i in range(60):
        source.produce("ctp-in", value=f"{i}".encode(), partition=i % 2)
    assert source.flush(30) == 0
    consumer = Consumer({"bootstrap.servers": creek.bootstrap, "group.id": "ctp", "enable.auto.commit": False,
                         "auto.offset.reset": "earliest", "isolation.level": "read_committed"})
    consumer.subscribe(["ctp-in"])
    producer = transactional_producer(creek.bootstrap, "ctp-app")
    processed = 0
    rounds = 0
    aborted_once = False
    deadline = time.monotonic() + 60
    while processed < 60 and time.monotonic() < deadline:
        messages = [m for m in consumer.consume(10, 1.0) if not m.error()]
        if not messages:
            continue
        rounds += 1
        producer.begin_transaction()
        for m in messages:
            producer.produce("ctp-out", value=b"out-" + m.value(), partition=m.partition())
        producer.send_offsets_to_transaction(consumer.position(consumer.assignment()),
                                             consumer.consumer_group_metadata(), 30)
        if rounds == 2 and not aborted_once:
            aborted_once = True
            producer.abort_transaction(30)
            # Rewind to what the group committed, as an application does after an abort.
            committed = consumer.committed(consumer.assignment(), 10)
            for tp in committed:
                consumer.seek(TopicPartition(tp.topic, tp.partition, tp.offset if tp.offset >= 0 else 0))
            continue
        producer.commit_transaction(30)
        processed += len(messages)
    assert aborted_once and processed == 60
    out = read_confluent(creek.bootstrap, "ctp-out", 2, "read_committed", 60)
    assert sorted(out) == sorted(f"out-{i}" for i in range(60)), "every input exactly once in the output"
    committed = consumer.committed([TopicPartition("ctp-in", 0), TopicPartition("ctp-in", 1)], 10)
    assert [tp.offset for tp in committed] == [30, 30]
    consumer.close()


def test_transactions_survive_a_restart(creek):
    create_topic(creek.bootstrap, "durable", 1)
    producer = transactional_producer(creek.bootstrap, "durable-writer")
    produce_in_transaction(producer, "durable", 1, "kept", 5, commit=True)
    produce_in_transaction(producer, "durable", 1, "dropped", 5, commit=False)
    creek.kill()
    creek.start()
    assert read_confluent(creek.bootstrap, "durable", 1, "read_committed", 5) == [f"kept-0-{i}" for i in range(5)]
    # The id survived with its epoch: a new producer for it fences the old one and works.
    again = transactional_producer(creek.bootstrap, "durable-writer")
    produce_in_transaction(again, "durable", 1, "more", 2, commit=True)
    assert read_confluent(creek.bootstrap, "durable", 1, "read_committed", 7)[-2:] == ["more-0-0", "more-0-1"]


def kafka_python_transactions(bootstrap, topic, rounds):
    from kafka import KafkaProducer
    producer = KafkaProducer(bootstrap_servers=bootstrap, transactional_id="kp-writer")
    producer.init_transactions()
    for prefix, count, commit in rounds:
        producer.begin_transaction()
        for i in range(count):
            for partition in range(2):
                producer.send(topic, value=f"{prefix}-{partition}-{i}".encode(), partition=partition)
        producer.flush()
        if commit:
            producer.commit_transaction()
        else:
            producer.abort_transaction()
    producer.close()


def aiokafka_transactions(bootstrap, topic, rounds):
    from aiokafka import AIOKafkaProducer

    async def run():
        producer = AIOKafkaProducer(bootstrap_servers=bootstrap, transactional_id="aio-writer")
        await producer.start()
        try:
            for prefix, count, commit in rounds:
                await producer.begin_transaction()
                for i in range(count):
                    for partition in range(2):
                        await producer.send(topic, value=f"{prefix}-{partition}-{i}".encode(), partition=partition)
                if commit:
                    await producer.commit_transaction()
                else:
                    await producer.abort_transaction()
        finally:
            await producer.stop()

    asyncio.run(run())


def confluent_transactions(bootstrap, topic, rounds):
    producer = transactional_producer(bootstrap, "cf-writer")
    for prefix, count, commit in rounds:
        produce_in_transaction(producer, topic, 2, prefix, count, commit)


WRITERS = {"confluent": confluent_transactions, "kafka-python": kafka_python_transactions, "aiokafka": aiokafka_transactions}


@pytest.mark.parametrize("writer", sorted(WRITERS))
def test_each_client_as_transactional_producer(creek, writer):
    create_topic(creek.bootstrap, "writers", 2)
    WRITERS[writer](creek.bootstrap, "writers", [("kept", 10, True), ("dropped", 10, False), ("also", 5, True)])
    expected = sorted([f"kept-{p}-{i}" for p in range(2) for i in range(10)] + [f"also-{p}-{i}" for p in range(2) for i in range(5)])
    for reader in sorted(READERS):
        assert sorted(READERS[reader](creek.bootstrap, "writers", 2, "read_committed", 30)) == expected, reader


def test_broker_killed_during_commit_is_all_or_nothing(creek):
    import threading
    from confluent_kafka import Producer
    create_topic(creek.bootstrap, "killed", 16)
    producer = transactional_producer(creek.bootstrap, "killed-writer", **{"transaction.timeout.ms": 4000})
    producer.begin_transaction()
    for partition in range(16):
        for i in range(50):
            producer.produce("killed", value=f"k-{partition}-{i}".encode(), partition=partition)
    producer.flush(30)

    def commit():
        try:
            producer.commit_transaction(10)
        except Exception:
            pass  # the broker died under it: the outcome is whatever it decided

    committer = threading.Thread(target=commit)
    committer.start()
    time.sleep(0.003)
    creek.kill()
    committer.join(60)
    creek.start()
    # A plain record after the restart: readable only once the transaction is resolved
    # (completed at startup if it was decided, else aborted when its 4 s timeout passes).
    plain = Producer({"bootstrap.servers": creek.bootstrap})
    plain.produce("killed", value=b"after", partition=0)
    assert plain.flush(30) == 0
    values = read_confluent(creek.bootstrap, "killed", 16, "read_committed", 1, timeout=30)
    assert "after" in values, "the transaction was never resolved"
    transactional = [v for v in values if v.startswith("k-")]
    assert len(transactional) in (0, 800), f"half a transaction is visible: {len(transactional)} of 800 records"
    if transactional:
        assert sorted(transactional) == sorted(f"k-{p}-{i}" for p in range(16) for i in range(50))
