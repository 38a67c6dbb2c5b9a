"""The same produce and consume operations through each third-party client."""
import asyncio
import subprocess
import time

TOPIC_TIMEOUT = 30


def make_records(count, base_ts=1_700_000_000_000):
    """Records with null, empty and ordinary keys, headers and explicit timestamps."""
    records = []
    for i in range(count):
        if i % 10 == 0:
            key = None
        elif i % 10 == 1:
            key = b""
        else:
            key = f"key-{i % 97}".encode()
        headers = [("i", str(i).encode()), ("empty", b"")]
        records.append({"key": key, "value": f"value-{i}".encode(), "headers": headers, "timestamp": base_ts + i})
    return records


def create_topic(bootstrap, topic, partitions, configs=None):
    from confluent_kafka.admin import AdminClient, NewTopic
    admin = AdminClient({"bootstrap.servers": bootstrap})
    futures = admin.create_topics([NewTopic(topic, num_partitions=partitions, replication_factor=1,
                                            config=configs or {})])
    futures[topic].result(TOPIC_TIMEOUT)


# ---------------------------------------------------------------- producers

def produce_confluent(bootstrap, topic, records, **config):
    from confluent_kafka import Producer
    conf = {"bootstrap.servers": bootstrap, "linger.ms": 5, "acks": "all", "partitioner": "murmur2_random"}
    conf.update(config)
    producer = Producer(conf)
    errors = []

    def report(err, msg):
        if err is not None:
            errors.append(err)

    for r in records:
        while True:
            try:
                kwargs = dict(value=r["value"], key=r["key"], headers=r["headers"], timestamp=r["timestamp"],
                              on_delivery=report)
                if "partition" in r:
                    kwargs["partition"] = r["partition"]
                producer.produce(topic, **kwargs)
                break
            except BufferError:
                producer.poll(0.1)
    assert producer.flush(60) == 0
    assert not errors, errors[:3]


def produce_kafka_python(bootstrap, topic, records, **config):
    from kafka import KafkaProducer
    conf = dict(bootstrap_servers=bootstrap, acks="all", linger_ms=5)  # idempotent by default
    conf.update(config)
    producer = KafkaProducer(**conf)
    futures = [producer.send(topic, key=r["key"], value=r["value"], headers=r["headers"],
                             timestamp_ms=r["timestamp"], partition=r.get("partition")) for r in records]
    producer.flush(60)
    for f in futures:
        f.get(timeout=60)
    producer.close(10)


def produce_aiokafka(bootstrap, topic, records, **config):
    from aiokafka import AIOKafkaProducer

    async def run():
        producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all", linger_ms=5, **config)
        await producer.start()
        try:
            futures = []
            for r in records:
                futures.append(await producer.send(topic, key=r["key"], value=r["value"], headers=r["headers"],
                                                   timestamp_ms=r["timestamp"], partition=r.get("partition")))
            await asyncio.gather(*futures)
        finally:
            await producer.stop()

    asyncio.run(run())


def produce_kcat(bootstrap, topic, records):
    """kcat reads KEY<TAB>VALUE lines; a line without the delimiter has a null key.
    kcat cannot set per-message timestamps or headers, so it sends one constant header."""
    lines = []
    for r in records:
        if r["key"] is None:
            lines.append(r["value"])
        else:
            lines.append(r["key"] + b"\t" + r["value"])
    subprocess.run(["kcat", "-P", "-b", bootstrap, "-t", topic, "-K", "\t", "-H", "source=kcat",
                    "-X", "partitioner=murmur2_random", "-X", "linger.ms=5"],
                   input=b"\n".join(lines) + b"\n", check=True, timeout=120)


PRODUCERS = {
    "confluent": produce_confluent,
    "kafka-python": produce_kafka_python,
    "aiokafka": produce_aiokafka,
    "kcat": produce_kcat,
}

# ---------------------------------------------------------------- consumers
# Each returns a list of dicts: partition, offset, key, value, headers, timestamp.


def consume_confluent(bootstrap, topic, partitions, expected, timeout=60, start=None, **config):
    from confluent_kafka import Consumer, TopicPartition, OFFSET_BEGINNING
    conf = {"bootstrap.servers": bootstrap, "group.id": "compat-unused", "enable.auto.commit": False,
            "auto.offset.reset": "earliest"}
    conf.update(config)
    consumer = Consumer(conf)
    offsets = start or {}
    consumer.assign([TopicPartition(topic, p, offsets.get(p, OFFSET_BEGINNING)) for p in range(partitions)])
    out = []
    deadline = time.monotonic() + timeout
    while len(out) < expected and time.monotonic() < deadline:
        for msg in consumer.consume(1000, 1.0):
            if msg.error():
                raise AssertionError(msg.error())
            out.append({"partition": msg.partition(), "offset": msg.offset(), "key": msg.key(),
                        "value": msg.value(), "headers": [(k, v) for k, v in (msg.headers() or [])],
                        "timestamp": msg.timestamp()[1]})
    consumer.close()
    return out


def consume_kafka_python(bootstrap, topic, partitions, expected, timeout=60, start=None, **config):
    from kafka import KafkaConsumer, TopicPartition
    consumer = KafkaConsumer(bootstrap_servers=bootstrap, group_id=None, enable_auto_commit=False,
                             auto_offset_reset="earliest", **config)
    tps = [TopicPartition(topic, p) for p in range(partitions)]
    consumer.assign(tps)
    if start:
        for tp in tps:
            if tp.partition in start:
                consumer.seek(tp, start[tp.partition])
    else:
        consumer.seek_to_beginning(*tps)
    out = []
    deadline = time.monotonic() + timeout
    while len(out) < expected and time.monotonic() < deadline:
        for tp, msgs in consumer.poll(timeout_ms=1000).items():
            for m in msgs:
                out.append({"partition": m.partition, "offset": m.offset, "key": m.key, "value": m.value,
                            "headers": list(m.headers or []), "timestamp": m.timestamp})
    consumer.close()
    return out


def consume_aiokafka(bootstrap, topic, partitions, expected, timeout=60, start=None):
    from aiokafka import AIOKafkaConsumer, TopicPartition

    async def run():
        consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, group_id=None, enable_auto_commit=False,
                                    auto_offset_reset="earliest")
        await consumer.start()
        out = []
        try:
            tps = [TopicPartition(topic, p) for p in range(partitions)]
            consumer.assign(tps)
            await consumer.seek_to_beginning(*tps)
            deadline = time.monotonic() + timeout
            while len(out) < expected and time.monotonic() < deadline:
                batches = await consumer.getmany(timeout_ms=1000)
                for tp, msgs in batches.items():
                    for m in msgs:
                        out.append({"partition": m.partition, "offset": m.offset, "key": m.key, "value": m.value,
                                    "headers": list(m.headers or []), "timestamp": m.timestamp})
        finally:
            await consumer.stop()
        return out

    return asyncio.run(run())


def consume_kcat(bootstrap, topic, partitions, expected, timeout=60):
    fmt = "%p\\t%o\\t%T\\t%K\\t%k\\t%h\\t%s\\n"
    result = subprocess.run(["kcat", "-C", "-b", bootstrap, "-t", topic, "-o", "beginning", "-e", "-q",
                             "-f", fmt], capture_output=True, timeout=timeout, check=True)
    out = []
    for line in result.stdout.split(b"\n"):
        if not line:
            continue
        p, o, ts, klen, key, headers, value = line.split(b"\t", 6)
        parsed_headers = []
        if headers:
            for h in headers.split(b","):
                k, _, v = h.partition(b"=")
                parsed_headers.append((k.decode(), v))
        out.append({"partition": int(p), "offset": int(o), "key": None if int(klen) == -1 else key,
                    "value": value, "headers": parsed_headers, "timestamp": int(ts)})
    return out


CONSUMERS = {
    "confluent": consume_confluent,
    "kafka-python": consume_kafka_python,
    "aiokafka": consume_aiokafka,
    "kcat": consume_kcat,
}


def watermarks(bootstrap, topic, partitions):
    from confluent_kafka import Consumer, TopicPartition
    consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": "compat-watermarks"})
    marks = {p: consumer.get_watermark_offsets(TopicPartition(topic, p), timeout=10) for p in range(partitions)}
    consumer.close()
    return marks
