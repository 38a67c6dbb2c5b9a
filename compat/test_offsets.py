"""ListOffsets: earliest, latest and by timestamp, then seek and read."""
from confluent_kafka import Consumer, TopicPartition

from clients import CONSUMERS, PRODUCERS, create_topic

BASE = 1_700_000_000_000


def offsets_for_times(bootstrap, topic, timestamp):
    consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": "compat-times"})
    [tp] = consumer.offsets_for_times([TopicPartition(topic, 0, timestamp)], timeout=10)
    consumer.close()
    return tp.offset


def test_list_offsets(creek):
    topic = "times"
    create_topic(creek.bootstrap, topic, 1)
    # Timestamps 0, 10, 20, ... 990 ms after BASE, in several batches.
    records = [{"key": None, "value": f"v{i}".encode(), "headers": [], "timestamp": BASE + 10 * i, "partition": 0}
               for i in range(100)]
    for chunk in range(0, 100, 25):
        PRODUCERS["confluent"](creek.bootstrap, topic, records[chunk:chunk + 25])

    consumer = Consumer({"bootstrap.servers": creek.bootstrap, "group.id": "compat-marks"})
    low, high = consumer.get_watermark_offsets(TopicPartition(topic, 0), timeout=10)
    consumer.close()
    assert (low, high) == (0, 100)

    assert offsets_for_times(creek.bootstrap, topic, BASE + 500) == 50        # exact
    assert offsets_for_times(creek.bootstrap, topic, BASE + 505) == 51        # between two records
    assert offsets_for_times(creek.bootstrap, topic, BASE - 1_000_000) == 0   # before the first
    assert offsets_for_times(creek.bootstrap, topic, BASE + 10_000) == -1     # after the last: end

    # kafka-python's offsets_for_times and a seek to the answer.
    from kafka import KafkaConsumer, TopicPartition as KTP
    kc = KafkaConsumer(bootstrap_servers=creek.bootstrap, group_id=None)
    tp = KTP(topic, 0)
    found = kc.offsets_for_times({tp: BASE + 733})[tp]
    assert (found.offset, found.timestamp) == (74, BASE + 740)
    assert kc.beginning_offsets([tp])[tp] == 0
    assert kc.end_offsets([tp])[tp] == 100
    kc.close()

    rest = CONSUMERS["kafka-python"](creek.bootstrap, topic, 1, 26, start={0: 74})
    assert [m["offset"] for m in rest] == list(range(74, 100))
    assert rest[0]["value"] == b"v74"
