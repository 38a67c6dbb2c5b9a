import KafkaProtocol
import NIOCore

/// The requests a group member sends its coordinator, with Kafka's error codes turned into
/// `KafkaClientError`s: FindCoordinator, JoinGroup, SyncGroup, Heartbeat, LeaveGroup,
/// OffsetCommit, OffsetFetch. Stateless apart from the coordinator it found.
struct GroupCoordinatorClient: Sendable {
    let cluster: KafkaCluster
    let groupId: String
    let timeout: Duration

    func coordinator() async throws -> BrokerConnection {
        try await cluster.connection(to: try await cluster.coordinator(of: groupId, kind: .group))
    }

    func check(_ code: Int16, _ what: String, _ message: String? = nil) throws {
        try KafkaClientError.check(code, "\(what) \(groupId)", message: message)
    }

    static func encode<Message: KafkaMessage>(_ message: Message, version: Int16) -> ByteBuffer {
        var buffer = ByteBuffer()
        buffer.writeInteger(version, endianness: .big)
        var body = ByteBuffer()
        message.write(to: &body, version: version)
        buffer.writeBuffer(&body)
        return buffer
    }

    static func decodeAssignment(_ bytes: ByteBuffer) -> [TopicPartition] {
        var bytes = bytes
        guard let version = bytes.readInteger(endianness: .big, as: Int16.self),
              let assignment = try? ConsumerProtocolAssignment(from: &bytes, version: min(version, 3))
        else { return [] }
        return assignment.assignedPartitions.flatMap { topic in topic.partitions.map { TopicPartition(topic.topic, $0) } }
    }

    static func decodeSubscription(_ bytes: ByteBuffer) -> MemberSubscription {
        var bytes = bytes
        guard let version = bytes.readInteger(endianness: .big, as: Int16.self),
              let subscription = try? ConsumerProtocolSubscription(from: &bytes, version: min(version, 3))
        else { return MemberSubscription(topics: []) }
        return MemberSubscription(
            topics: subscription.topics,
            owned: subscription.ownedPartitions.flatMap { topic in topic.partitions.map { TopicPartition(topic.topic, $0) } },
            generation: subscription.generationId
        )
    }

    func commit(
        _ offsets: [TopicPartition: CommittedOffset], generation: Int32, memberId: String, instanceId: String?, via connection: BrokerConnection
    ) async throws {
        guard !offsets.isEmpty else { return }
        let version = try connection.version(of: .offsetCommit, supported: 2...8)
        var request = OffsetCommitRequest()
        request.groupId = groupId
        request.generationIdOrMemberEpoch = generation
        request.memberId = memberId
        request.groupInstanceId = instanceId
        request.topics = Dictionary(grouping: offsets, by: \.key.topic).map { topic, entries in
            .init(name: topic, partitions: entries.map { .init(partitionIndex: $0.key.partition, committedOffset: $0.value.offset, committedLeaderEpoch: -1, commitTimestamp: -1, committedMetadata: $0.value.metadata) })
        }
        let answer = try await connection.send(request, version: version, timeout: timeout)
        for topic in answer.topics {
            for partition in topic.partitions { try check(partition.errorCode, "OffsetCommit \(topic.name)-\(partition.partitionIndex)") }
        }
    }

    func committed(_ partitions: [TopicPartition], via connection: BrokerConnection) async throws -> [TopicPartition: Int64] {
        let version = try connection.version(of: .offsetFetch, supported: 1...7)
        var request = OffsetFetchRequest()
        request.groupId = groupId
        request.topics = Dictionary(grouping: partitions, by: \.topic).map { .init(name: $0.key, partitionIndexes: $0.value.map(\.partition)) }
        request.requireStable = true
        let answer = try await connection.send(request, version: version, timeout: timeout)
        try check(answer.errorCode, "OffsetFetch")
        var result: [TopicPartition: Int64] = [:]
        for topic in answer.topics {
            for partition in topic.partitions where partition.errorCode == 0 && partition.committedOffset >= 0 {
                result[TopicPartition(topic.name, partition.partitionIndex)] = partition.committedOffset
            }
        }
        return result
    }
}
