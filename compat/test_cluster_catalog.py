"""Cluster mode: the topic catalog when two brokers change it at the same moment. Two admin
clients, each bootstrapped from a different broker, fire their changes together (a barrier
per round): two incremental config changes to one topic both survive (neither broker saves
over the other's change with the overrides it read before it), and of two CreateTopics of one
name exactly one succeeds — the other gets TOPIC_ALREADY_EXISTS, and every broker then
serves the winner's topic id.
"""
import socket
import struct
import threading

from confluent_kafka import KafkaException, TopicCollection
from confluent_kafka.admin import AdminClient, AlterConfigOpType, ConfigEntry, ConfigResource, NewTopic

from cluster import cluster  # noqa: F401
from test_bad_input import read_frame, request

TOPIC_ALREADY_EXISTS = 36

ROUNDS = 25


def together(*actions):
    """Runs each action on its own thread, released at once; returns their results (or exceptions)."""
    barrier = threading.Barrier(len(actions))
    results = [None] * len(actions)

    def run(index, action):
        barrier.wait(10)
        try:
            results[index] = action()
        except Exception as error:  # noqa: BLE001 - the caller inspects it
            results[index] = error
    threads = [threading.Thread(target=run, args=(i, a)) for i, a in enumerate(actions)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    return results


def test_concurrent_config_changes_through_two_brokers_both_survive(cluster):
    brokers, _, _ = cluster
    first, second = (AdminClient({"bootstrap.servers": b.bootstrap}) for b in brokers[:2])
    first.create_topics([NewTopic("shared-conf", 1, 1)])["shared-conf"].result(30)
    resource = ConfigResource(ConfigResource.Type.TOPIC, "shared-conf")

    def set_config(admin, name, value):
        change = ConfigResource(ConfigResource.Type.TOPIC, "shared-conf", incremental_configs=[
            ConfigEntry(name, value, incremental_operation=AlterConfigOpType.SET)])
        return admin.incremental_alter_configs([change])[change].result(30)

    for round in range(ROUNDS):
        retention, segment = str(3_600_000 + round), str(10_000_000 + round)
        outcomes = together(lambda: set_config(first, "retention.ms", retention),
                            lambda: set_config(second, "segment.bytes", segment))
        assert not any(isinstance(o, Exception) for o in outcomes), outcomes
        for admin in (first, second):
            described = admin.describe_configs([resource])[resource].result(30)
            assert (described["retention.ms"].value, described["segment.bytes"].value) == (retention, segment), round


def create_topics_v4(broker, name, partitions):
    """CreateTopics v4 sent straight to `broker` (an admin client would send it to the
    controller, one broker for both): the topic's error code."""
    body = struct.pack(">i", 1) + struct.pack(">h", len(name)) + name.encode()
    body += struct.pack(">ihii", partitions, -1, 0, 0) + struct.pack(">ib", 30_000, 0)
    with socket.create_connection(("127.0.0.1", broker.port), timeout=30) as s:
        s.sendall(request(19, 4, 7, body))
        frame = read_frame(s)
    # correlation id, throttle time, one topic: name, error code.
    (count,) = struct.unpack(">i", frame[8:12])
    assert count == 1
    (length,) = struct.unpack(">h", frame[12:14])
    assert frame[14:14 + length].decode() == name
    return struct.unpack(">h", frame[14 + length:16 + length])[0]


def test_concurrent_creates_of_one_name_through_two_brokers_one_wins(cluster):
    brokers, _, _ = cluster
    for round in range(ROUNDS):
        name = f"race-{round}"
        codes = together(lambda: create_topics_v4(brokers[0], name, 3), lambda: create_topics_v4(brokers[1], name, 3))
        assert sorted(codes) == [0, TOPIC_ALREADY_EXISTS], (round, codes)
    # Every topic survived the later rounds' saves, with one topic id and its three
    # partitions, described through clients bootstrapped from each broker.
    admins = [AdminClient({"bootstrap.servers": broker.bootstrap}) for broker in brokers]
    for round in range(ROUNDS):
        name = f"race-{round}"
        ids = set()
        for node, admin in enumerate(admins, start=1):
            try:
                topic = admin.describe_topics(TopicCollection([name]))[name].result(30)
            except KafkaException as error:
                raise AssertionError(f"{name} through broker {node}: {error}") from error
            assert len(topic.partitions) == 3
            ids.add(str(topic.topic_id))
        assert len(ids) == 1, (name, ids)
