"""Produces the fixture records with confluent-kafka (librdkafka) and exits."""
import sys
from confluent_kafka import Producer

bootstrap = sys.argv[1]
producer = Producer({
    "bootstrap.servers": bootstrap,
    "client.id": "fixture-confluent",
    "linger.ms": 200,
    "acks": "all",
    "enable.idempotence": False,
    "compression.type": "none",
})
producer.produce("fixtures", key=b"key-1", value=b"value-1", partition=0,
                 headers=[("h1", b"v1"), ("h2", b"")], timestamp=1700000000001)
producer.produce("fixtures", key=None, value=b"value-2", partition=0, timestamp=1700000000002)
producer.produce("fixtures", key=b"", value=b"", partition=0,
                 headers=[("trace", b"\x00\x01")], timestamp=1700000000003)
remaining = producer.flush(10)
sys.exit(1 if remaining else 0)
