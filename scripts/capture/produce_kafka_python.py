"""Produces the fixture records with kafka-python and exits."""
import sys
from kafka import KafkaProducer

producer = KafkaProducer(bootstrap_servers=sys.argv[1], client_id="fixture-kafka-python",
                         linger_ms=200, acks="all", enable_idempotence=False)
producer.send("fixtures", key=b"key-1", value=b"value-1", partition=0,
              headers=[("h1", b"v1"), ("h2", b"")], timestamp_ms=1700000000001)
producer.send("fixtures", key=None, value=b"value-2", partition=0, timestamp_ms=1700000000002)
producer.send("fixtures", key=b"", value=b"", partition=0,
              headers=[("trace", b"\x00\x01")], timestamp_ms=1700000000003)
producer.flush(10)
producer.close(5)
