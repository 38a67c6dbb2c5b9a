import KafkaProtocol
public import Logging
import NIOConcurrencyHelpers
import NIOCore

/// A consumer that is a member of a group (the classic protocol): `subscribe`, then iterate
/// `batches()`. The iteration joins the group, takes the partitions the leader assigned
/// (range, round-robin or cooperative-sticky, computed here when this member leads),
/// starts each new one from the group's committed offset (or `autoOffsetReset`),
/// heartbeats in the background, and rejoins when the group rebalances — eager assignors
/// revoke everything first, cooperative-sticky only what moves (with auto commit,
/// committing before revoking). `onPartitionsAssigned` / `onPartitionsRevoked` are called
/// around each change. Thread-safe.
public final class GroupConsumer: Sendable {
    public let group: GroupConfig
    let consumer: KafkaConsumer
    let coordinator: GroupCoordinatorClient
    let logger: Logger
    let member = NIOLockedValueBox(MemberState())
    let callbacks = NIOLockedValueBox<(assigned: (@Sendable ([TopicPartition]) async -> Void)?, revoked: (@Sendable ([TopicPartition]) async -> Void)?)>((nil, nil))

    struct MemberState {
        var topics: [String] = []
        var memberId = ""
        var generation: Int32 = -1
        var joined = false
        var rejoin = true
        var heartbeat: Task<Void, Never>?
        var lastCommit = ContinuousClock.now
        var closed = false
    }

    public init(consumer config: ConsumerConfig, group: GroupConfig, logger: Logger = Logger(label: "creek.group-consumer")) {
        var config = config
        // A fetch must not outlast the heartbeat interval by much: the loop rejoins between rounds.
        config.fetchMaxWait = min(config.fetchMaxWait, group.heartbeatInterval)
        self.group = group
        self.logger = logger
        consumer = KafkaConsumer(config: config, logger: logger)
        coordinator = GroupCoordinatorClient(cluster: consumer.cluster, groupId: group.groupId, timeout: config.client.requestTimeout)
    }

    public func subscribe(_ topics: [String]) {
        member.withLockedValue {
            $0.topics = topics
            $0.rejoin = true
        }
    }

    public func onPartitionsAssigned(_ callback: @escaping @Sendable ([TopicPartition]) async -> Void) {
        callbacks.withLockedValue { $0.assigned = callback }
    }

    public func onPartitionsRevoked(_ callback: @escaping @Sendable ([TopicPartition]) async -> Void) {
        callbacks.withLockedValue { $0.revoked = callback }
    }

    public var assignment: [TopicPartition] { consumer.assignment }

    /// This member's identity now, for a transactional producer's `sendOffsetsToTransaction`.
    public var groupMetadata: ConsumerGroupMetadata {
        member.withLockedValue {
            ConsumerGroupMetadata(groupId: group.groupId, generationId: $0.generation, memberId: $0.memberId, groupInstanceId: group.groupInstanceId)
        }
    }

    /// The next offset to read of an assigned partition.
    public func position(_ partition: TopicPartition) -> Int64? { consumer.position(partition) }

    /// Records left to read in an assigned partition (see `KafkaConsumer.lag`).
    public func lag(_ partition: TopicPartition) -> Int64? { consumer.lag(partition) }

    /// Moves an assigned partition's position (e.g. back after an aborted transaction).
    public func seek(_ partition: TopicPartition, to target: SeekTarget) { consumer.seek(partition, to: target) }

    public func pause(_ partitions: [TopicPartition]) { consumer.pause(partitions) }
    public func resume(_ partitions: [TopicPartition]) { consumer.resume(partitions) }

    public func batches() -> RecordBatches { RecordBatches(poll: poll) }

    /// Commits the positions of every record returned so far.
    public func commit() async throws {
        let positions = consumer.assignment.reduce(into: [TopicPartition: Int64]()) { result, partition in
            if let position = consumer.position(partition) { result[partition] = position }
        }
        try await commit(positions)
    }

    /// Commits explicit offsets (the next offset to read, as Kafka's convention).
    public func commit(_ offsets: [TopicPartition: Int64]) async throws {
        try await commit(offsets.mapValues { CommittedOffset(offset: $0) })
    }

    /// Commits in the background; `onComplete` receives the error, if any (Kafka's
    /// commitAsync). Without offsets, the positions of every record returned so far.
    public func commitAsync(
        _ offsets: [TopicPartition: CommittedOffset]? = nil, onComplete: (@Sendable ((any Error)?) -> Void)? = nil
    ) {
        Task {
            do {
                if let offsets { try await commit(offsets) } else { try await commit() }
                onComplete?(nil)
            } catch {
                onComplete?(error)
            }
        }
    }

    /// Commits explicit offsets with their metadata strings.
    public func commit(_ offsets: [TopicPartition: CommittedOffset]) async throws {
        let (generation, memberId) = member.withLockedValue { ($0.generation, $0.memberId) }
        let connection = try await coordinator.coordinator()
        try await coordinator.commit(offsets, generation: generation, memberId: memberId, instanceId: group.groupInstanceId, via: connection)
        member.withLockedValue { $0.lastCommit = .now }
    }

    /// The group's committed offsets for `partitions`.
    public func committed(_ partitions: [TopicPartition]) async throws -> [TopicPartition: Int64] {
        try await coordinator.committed(partitions, via: try await coordinator.coordinator())
    }

    /// Commits (with auto commit), leaves the group and closes the connections.
    public func close() async {
        if group.enableAutoCommit && member.withLockedValue({ $0.joined }) { try? await commit() }
        let (memberId, heartbeat) = member.withLockedValue { state in
            state.closed = true
            state.joined = false
            return (state.memberId, state.heartbeat)
        }
        heartbeat?.cancel()
        if !memberId.isEmpty, group.groupInstanceId == nil, let connection = try? await coordinator.coordinator(),
           let version = try? connection.version(of: .leaveGroup, supported: 0...4) {
            var request = LeaveGroupRequest()
            request.groupId = group.groupId
            request.memberId = memberId
            request.members = [.init(memberId: memberId, groupInstanceId: nil, reason: "closing")]
            _ = try? await connection.send(request, version: version, timeout: consumer.config.client.requestTimeout)
        }
        await consumer.close()
    }

    /// One step of the loop: rejoin when needed, auto commit when due, one fetch round
    /// (possibly no records). `batches()` repeats it.
    public func poll() async throws -> [ConsumerRecord] {
        if member.withLockedValue({ $0.closed }) { throw KafkaClientError.closed }
        if member.withLockedValue({ $0.rejoin || !$0.joined }) { try await join() }
        if group.enableAutoCommit, member.withLockedValue({ ContinuousClock.now - $0.lastCommit >= group.autoCommitInterval }) {
            do { try await commit() } catch { logger.warning("auto commit failed", metadata: ["error": "\(error)"]) }
        }
        return try await consumer.fetchRound()
    }
}

extension GroupConsumer {
    /// Stops without leaving the group or committing, as a killed process would: the
    /// coordinator notices when the session times out. (For tests of crash handling.)
    public func abandon() async {
        let heartbeat = member.withLockedValue { state in
            state.closed = true
            return state.heartbeat
        }
        heartbeat?.cancel()
        await consumer.close()
    }
}
