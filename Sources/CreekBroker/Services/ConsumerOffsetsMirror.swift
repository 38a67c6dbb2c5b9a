import CreekStorage
import KafkaProtocol
import Logging
import NIOCore

/// Keeps Kafka's internal `__consumer_offsets` topic (compacted, listed as internal) in step
/// with Creek's committed offsets and groups, for tools that read it: every commit becomes an
/// offset-commit record, every change of a group's generation or members a group-metadata
/// record, and a deleted offset or group a tombstone (`ConsumerOffsetsRecords`).
///
/// Creek's offsets journal stays the source of truth; the topic is a mirror written a poll
/// interval (250 ms) behind it. At startup the whole current state is written once, so the
/// topic catches up with anything a crash kept from it (compaction drops the repeats).
/// The topic is created when the first group appears (see `run`).
struct ConsumerOffsetsMirror: Sendable {
    let broker: Broker
    static let pollInterval = Duration.milliseconds(250)

    /// What the mirror last wrote.
    struct Written {
        var offsets: [String: OffsetStore.Offsets] = [:]
        var groups: [String: ConsumerOffsetsRecords.GroupState] = [:]
        var changes = -1
    }

    /// Creates the topic if missing (compacted, `offsets.topic.num.partitions`).
    func ensureTopic() async {
        guard broker.topics.topic(named: ConsumerOffsetsRecords.topic) == nil else { return }
        do {
            try await broker.topics.create(
                name: ConsumerOffsetsRecords.topic, partitions: broker.config.offsetsTopicNumPartitions,
                configs: ["cleanup.policy": "compact", "segment.bytes": "104857600"]
            )
        } catch {
            broker.logger.error("could not create __consumer_offsets", metadata: ["error": "\(error)"])
        }
    }

    /// Mirrors changes until cancelled. Like Kafka, which creates the topic when the first
    /// group looks for its coordinator, the topic is created once the first group or
    /// committed offset exists (a broker nobody consumes from has none).
    func run() async {
        var written = Written()
        while !Task.isCancelled {
            if broker.topics.topic(named: ConsumerOffsetsRecords.topic) == nil {
                let hasOffsets = !broker.groups.offsets.snapshot().groups.isEmpty
                let hasGroups = !(await broker.groups.allGroups()).isEmpty
                if hasOffsets || hasGroups { await ensureTopic() }
            }
            await mirror(&written)
            try? await Task.sleep(for: Self.pollInterval)
        }
    }

    /// Writes what changed since `written` and records it there.
    func mirror(_ written: inout Written) async {
        guard let topic = broker.topics.topic(named: ConsumerOffsetsRecords.topic) else { return }
        var pending: [Int32: [RecordBatchBuilder.Entry]] = [:]
        let now = broker.clock()
        func add(group: String, key: ByteBuffer, value: ByteBuffer?) {
            let partition = ConsumerOffsetsRecords.partition(of: group, partitions: Int32(topic.partitions.count))
            pending[partition, default: []].append(.init(timestamp: now, key: key, value: value))
        }

        let (offsets, changes) = broker.groups.offsets.snapshot()
        var nextOffsets = written.offsets
        if changes != written.changes {
            for (group, topics) in offsets {
                for (name, partitions) in topics {
                    for (index, committed) in partitions where written.offsets[group]?[name]?[index] != committed {
                        add(group: group, key: ConsumerOffsetsRecords.offsetKey(group: group, topic: name, partition: index),
                            value: ConsumerOffsetsRecords.offsetValue(committed))
                    }
                }
            }
            for (group, topics) in written.offsets {
                for (name, partitions) in topics {
                    for index in partitions.keys where offsets[group]?[name]?[index] == nil {
                        add(group: group, key: ConsumerOffsetsRecords.offsetKey(group: group, topic: name, partition: index), value: nil)
                    }
                }
            }
            nextOffsets = offsets
        }

        var groups: [String: ConsumerOffsetsRecords.GroupState] = [:]
        for description in await broker.groups.allGroups() where !description.members.isEmpty || description.generationId > 0 {
            groups[description.groupId] = Self.state(of: description)
        }
        for (group, state) in groups where written.groups[group] != state {
            add(group: group, key: ConsumerOffsetsRecords.groupKey(group), value: ConsumerOffsetsRecords.groupValue(state, timestampMs: now))
        }
        for group in written.groups.keys where groups[group] == nil {
            add(group: group, key: ConsumerOffsetsRecords.groupKey(group), value: nil)
        }

        for (index, entries) in pending.sorted(by: { $0.key < $1.key }) {
            guard let log = topic.partition(index) else { continue }
            var builder = RecordBatchBuilder()
            for entry in entries { builder.append(entry) }
            do {
                _ = try await log.append([builder.build()], nowMs: now, sync: false)
            } catch {
                // Not recorded as written: the next poll tries again.
                broker.logger.warning("could not append to __consumer_offsets", metadata: ["error": "\(error)"])
                return
            }
        }
        written.offsets = nextOffsets
        written.groups = groups
        written.changes = changes
    }

    static func state(of group: GroupCoordinator.Description) -> ConsumerOffsetsRecords.GroupState {
        ConsumerOffsetsRecords.GroupState(
            protocolType: group.protocolType, generation: group.generationId,
            protocolName: group.protocolName.isEmpty ? nil : group.protocolName, leader: group.leaderId,
            members: group.members.map { member in
                .init(
                    memberId: member.memberId, groupInstanceId: member.groupInstanceId, clientId: member.clientId,
                    clientHost: member.clientHost, rebalanceTimeoutMs: member.rebalanceTimeoutMs, sessionTimeoutMs: member.sessionTimeoutMs,
                    subscription: member.metadata(for: group.protocolName), assignment: member.assignment
                )
            }
        )
    }
}
