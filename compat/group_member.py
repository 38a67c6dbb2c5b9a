"""A consumer-group member run as a child process by the group tests.

usage: group_member.py BOOTSTRAP TOPIC GROUP NAME [client=confluent[:STRATEGY]|kafka-python[:STRATEGY]] [commit=each|auto]

Prints one JSON object per line: {"event": "assigned"|"revoked", "partitions": [...]},
{"event": "record", "partition": p, "offset": o, "value": v} (after the record's offset
has been committed, with commit=each), {"event": "closed"}. Reading "quit" on stdin makes
it close cleanly (LeaveGroup). Bounded: exits after 300 s. With CREEK_TEST_MEMBER_LOGS=DIR the
client libraries log at debug level to DIR/NAME.log.
"""
import json
import os
import select
import sys
import time

bootstrap, topic, group, name = sys.argv[1:5]
client = sys.argv[5] if len(sys.argv) > 5 else "confluent"
commit_mode = sys.argv[6] if len(sys.argv) > 6 else "each"


def emit(**event):
    event["member"] = name
    print(json.dumps(event), flush=True)


def quit_requested():
    ready, _, _ = select.select([sys.stdin], [], [], 0)
    return bool(ready) and sys.stdin.readline().strip() == "quit"


deadline = time.monotonic() + 300

if os.environ.get("CREEK_TEST_MEMBER_LOGS"):
    import logging
    logging.basicConfig(filename=os.path.join(os.environ["CREEK_TEST_MEMBER_LOGS"], f"{name}.log"),
                        level=logging.DEBUG, format="%(asctime)s %(threadName)s %(name)s %(message)s")

if client.startswith("confluent"):
    from confluent_kafka import Consumer, TopicPartition

    strategy = client.split(":", 1)[1] if ":" in client else "range,roundrobin"
    consumer = Consumer({
        "bootstrap.servers": bootstrap, "group.id": group, "client.id": name,
        "session.timeout.ms": 6000, "heartbeat.interval.ms": 500,
        "enable.auto.commit": commit_mode == "auto", "auto.commit.interval.ms": 500,
        "auto.offset.reset": "earliest", "partition.assignment.strategy": strategy,
    })

    def on_assign(c, ps):
        # Cooperative assignors hand over only the added partitions: report the whole set.
        held = {p.partition for p in ps}
        if strategy == "cooperative-sticky":
            held |= {p.partition for p in c.assignment()}
        emit(event="assigned", partitions=sorted(held))

    consumer.subscribe([topic], on_assign=on_assign,
                       on_revoke=lambda c, ps: emit(event="revoked", partitions=sorted(p.partition for p in ps)))
    while time.monotonic() < deadline and not quit_requested():
        msg = consumer.poll(0.2)
        if msg is None or msg.error():
            continue
        if commit_mode == "each":
            consumer.commit(offsets=[TopicPartition(msg.topic(), msg.partition(), msg.offset() + 1)],
                            asynchronous=False)
        emit(event="record", partition=msg.partition(), offset=msg.offset(), value=msg.value().decode())
    consumer.close()
    emit(event="closed")
else:
    import faulthandler
    import os
    import threading

    from kafka import KafkaConsumer, OffsetAndMetadata, TopicPartition

    class Watchdog:
        """kafka-python 3.0.12 can park poll() forever: the caller waits on a threading.Event
        for a coroutine its IO thread never runs (seen with py-spy: MainThread in
        NetworkSelector.run -> Event.wait, the IO thread idle in select). A poll that has not
        returned for 10 s is that hang (poll is bounded at 200 ms); the member reports it,
        dumps its threads to stderr and exits, so the test can start it again."""

        def __init__(self, limit=10.0):
            self.last = time.monotonic()
            threading.Thread(target=self._watch, args=(limit,), daemon=True).start()

        def alive(self):
            self.last = time.monotonic()

        def _watch(self, limit):
            while True:
                time.sleep(0.5)
                if time.monotonic() - self.last > limit:
                    emit(event="client-hung", seconds=round(time.monotonic() - self.last, 1))
                    faulthandler.dump_traceback(all_threads=True)
                    os._exit(3)
    from kafka.consumer.subscription_state import ConsumerRebalanceListener

    class Listener(ConsumerRebalanceListener):
        def on_partitions_assigned(self, assigned):
            emit(event="assigned", partitions=sorted(p.partition for p in assigned))

        def on_partitions_revoked(self, revoked):
            emit(event="revoked", partitions=sorted(p.partition for p in revoked))

    strategy = client.split(":", 1)[1] if ":" in client else "range"
    from kafka.coordinator.assignors.range import RangePartitionAssignor
    from kafka.coordinator.assignors.roundrobin import RoundRobinPartitionAssignor
    assignor = RangePartitionAssignor if strategy == "range" else RoundRobinPartitionAssignor
    consumer = KafkaConsumer(bootstrap_servers=bootstrap, group_id=group, client_id=name,
                             session_timeout_ms=6000, heartbeat_interval_ms=500,
                             enable_auto_commit=commit_mode == "auto", auto_commit_interval_ms=500,
                             auto_offset_reset="earliest", partition_assignment_strategy=[assignor])
    consumer.subscribe([topic], listener=Listener())
    watchdog = Watchdog()
    while time.monotonic() < deadline and not quit_requested():
        watchdog.alive()
        for tp, msgs in consumer.poll(timeout_ms=200).items():
            for m in msgs:
                if commit_mode == "each":
                    consumer.commit({tp: OffsetAndMetadata(m.offset + 1, None, -1)})
                emit(event="record", partition=m.partition, offset=m.offset, value=m.value.decode())
    consumer.close()
    emit(event="closed")
