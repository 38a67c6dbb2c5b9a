import KafkaProtocol
import NIOCore

/// A group member's identity, for `sendOffsetsToTransaction` (so the coordinator fences a
/// zombie member's commits, KIP-447).
public struct ConsumerGroupMetadata: Sendable, Hashable {
    public var groupId: String
    public var generationId: Int32
    public var memberId: String
    public var groupInstanceId: String?

    /// Identity of a group nobody is a member of (offsets committed as a standalone consumer).
    public init(groupId: String, generationId: Int32 = -1, memberId: String = "", groupInstanceId: String? = nil) {
        self.groupId = groupId
        self.generationId = generationId
        self.memberId = memberId
        self.groupInstanceId = groupInstanceId
    }
}

extension KafkaProducer {
    /// Registers the transactional id with its coordinator (fencing any earlier producer
    /// with the same id and finishing its open transaction). Called by `start`.
    public func initTransactions() async throws {
        guard let transactionalId = config.transactionalId else {
            throw KafkaClientError.invalidArgument("initTransactions needs a transactionalId")
        }
        let response = try await cluster.retrying("InitProducerId \(transactionalId)") {
            let connection = try await transactionCoordinator()
            let version = try connection.version(of: .initProducerId, supported: 0...5)
            var request = InitProducerIdRequest()
            request.transactionalId = transactionalId
            request.transactionTimeoutMs = Int32(clamping: config.transactionTimeout.components.seconds * 1000)
            let answer = try await connection.send(request, version: version, timeout: config.client.requestTimeout)
            try checkCoordinator(answer.errorCode, "InitProducerId \(transactionalId)")
            return answer
        }
        state.withLockedValue { state in
            state.producerId = response.producerId
            state.epoch = response.producerEpoch
            state.sequences.removeAll()
            state.transaction = TransactionState(phase: .ready, coordinator: state.transaction.coordinator)
        }
    }

    public func beginTransaction() throws {
        let previous = state.withLockedValue { state in
            defer { if state.transaction.phase == .ready { state.transaction.phase = .open } }
            return state.transaction.phase
        }
        switch previous {
        case .uninitialised: throw KafkaClientError.invalidArgument("call initTransactions before beginTransaction")
        case .open: throw KafkaClientError.invalidArgument("a transaction is already open")
        case .ready: return
        }
    }

    /// Adds the consumed `offsets` (the next offsets to read) to the open transaction: they
    /// become the group's committed offsets only if the transaction commits.
    public func sendOffsetsToTransaction(_ offsets: [TopicPartition: Int64], group: ConsumerGroupMetadata) async throws {
        let (transactionalId, producerId, epoch) = try openTransaction()
        try await cluster.retrying("AddOffsetsToTxn \(transactionalId)") {
            let connection = try await transactionCoordinator()
            var request = AddOffsetsToTxnRequest()
            request.transactionalId = transactionalId
            request.producerId = producerId
            request.producerEpoch = epoch
            request.groupId = group.groupId
            let answer = try await connection.send(request, version: try connection.version(of: .addOffsetsToTxn, supported: 0...3), timeout: config.client.requestTimeout)
            try checkCoordinator(answer.errorCode, "AddOffsetsToTxn \(transactionalId)")
        }
        try await cluster.retrying("TxnOffsetCommit \(group.groupId)") {
            let connection = try await cluster.connection(to: try await cluster.coordinator(of: group.groupId, kind: .group))
            var request = TxnOffsetCommitRequest()
            request.transactionalId = transactionalId
            request.groupId = group.groupId
            request.producerId = producerId
            request.producerEpoch = epoch
            request.generationId = group.generationId
            request.memberId = group.memberId
            request.groupInstanceId = group.groupInstanceId
            request.topics = Dictionary(grouping: offsets, by: \.key.topic).map { topic, entries in
                .init(name: topic, partitions: entries.map { .init(partitionIndex: $0.key.partition, committedOffset: $0.value, committedLeaderEpoch: -1, committedMetadata: "") })
            }
            let answer = try await connection.send(request, version: try connection.version(of: .txnOffsetCommit, supported: 0...4), timeout: config.client.requestTimeout)
            for topic in answer.topics {
                for partition in topic.partitions { try KafkaClientError.check(partition.errorCode, "TxnOffsetCommit \(topic.name)-\(partition.partitionIndex)") }
            }
        }
    }

    /// Sends every record of the transaction, then commits it. If any record failed, the
    /// transaction is aborted instead and the first failure is thrown.
    public func commitTransaction() async throws {
        _ = try openTransaction()
        await flush()
        if let failure = state.withLockedValue({ $0.transaction.failure }) {
            try await endTransaction(commit: false)
            throw failure
        }
        try await endTransaction(commit: true)
    }

    /// Waits for records already handed to the sender, then aborts: read_committed
    /// consumers never see the transaction's records.
    public func abortTransaction() async throws {
        _ = try openTransaction()
        await flush()
        try await endTransaction(commit: false)
    }

    private func endTransaction(commit: Bool) async throws {
        let (transactionalId, producerId, epoch) = try openTransaction()
        let touched = state.withLockedValue { !$0.transaction.partitions.isEmpty }
        if touched {
            try await cluster.retrying("EndTxn \(transactionalId)") {
                let connection = try await transactionCoordinator()
                var request = EndTxnRequest()
                request.transactionalId = transactionalId
                request.producerId = producerId
                request.producerEpoch = epoch
                request.committed = commit
                let answer = try await connection.send(request, version: try connection.version(of: .endTxn, supported: 0...4), timeout: config.client.requestTimeout)
                try checkCoordinator(answer.errorCode, "EndTxn \(transactionalId)")
            }
        }
        state.withLockedValue { state in
            state.transaction.phase = .ready
            state.transaction.partitions.removeAll()
            state.transaction.failure = nil
        }
    }

    /// Adds the partitions of batches about to be sent to the open transaction, once each.
    func addToTransaction(_ partitions: Set<TopicPartition>) async throws {
        guard let transactionalId = config.transactionalId else { return }
        let (missing, producerId, epoch) = state.withLockedValue { ($0.transaction.partitions, $0.producerId, $0.epoch) }
        let wanted = partitions.subtracting(missing)
        guard !wanted.isEmpty else { return }
        let connection = try await transactionCoordinator()
        var request = AddPartitionsToTxnRequest()
        request.v3AndBelowTransactionalId = transactionalId
        request.v3AndBelowProducerId = producerId
        request.v3AndBelowProducerEpoch = epoch
        request.v3AndBelowTopics = Dictionary(grouping: wanted, by: \.topic).map { .init(name: $0.key, partitions: $0.value.map(\.partition)) }
        let answer = try await connection.send(request, version: try connection.version(of: .addPartitionsToTxn, supported: 0...3), timeout: config.client.requestTimeout)
        try checkCoordinator(answer.errorCode, "AddPartitionsToTxn \(transactionalId)")
        for topic in answer.resultsByTopicV3AndBelow {
            for partition in topic.resultsByPartition {
                try checkCoordinator(partition.partitionErrorCode, "AddPartitionsToTxn \(topic.name)-\(partition.partitionIndex)")
            }
        }
        state.withLockedValue { $0.transaction.partitions.formUnion(wanted) }
    }

    private func openTransaction() throws(KafkaClientError) -> (String, Int64, Int16) {
        guard let transactionalId = config.transactionalId else { throw .invalidArgument("not a transactional producer") }
        let (phase, producerId, epoch) = state.withLockedValue { ($0.transaction.phase, $0.producerId, $0.epoch) }
        guard phase == .open else { throw .invalidArgument("no transaction is open") }
        return (transactionalId, producerId, epoch)
    }

    private func transactionCoordinator() async throws -> BrokerConnection {
        if let known = state.withLockedValue({ $0.transaction.coordinator }) { return try await cluster.connection(to: known) }
        let node = try await cluster.coordinator(of: config.transactionalId ?? "", kind: .transaction)
        state.withLockedValue { $0.transaction.coordinator = node }
        return try await cluster.connection(to: node)
    }

    /// A coordinator error; forgets the coordinator when it moved.
    private func checkCoordinator(_ code: Int16, _ context: String) throws(KafkaClientError) {
        if code == KafkaErrorCode.notCoordinator.rawValue || code == KafkaErrorCode.coordinatorNotAvailable.rawValue {
            state.withLockedValue { $0.transaction.coordinator = nil }
        }
        try KafkaClientError.check(code, context)
    }
}
