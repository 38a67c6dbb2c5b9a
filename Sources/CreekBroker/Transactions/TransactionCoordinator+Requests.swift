public import CreekStorage
public import KafkaProtocol

/// The client-facing transaction requests, with Kafka's state rules.
extension TransactionCoordinator {
    /// InitProducerId with a transactional id: the id's producer id with the epoch bumped
    /// (a new producer id when the epoch is exhausted, or for a new id), fencing every older
    /// producer. An open transaction of the previous producer is aborted first. With
    /// `caller` (KIP-360, a producer re-initialising itself) the caller must be the current
    /// producer, or the previous epoch retrying after a lost response.
    public func initProducerId(
        transactionalId: String, timeoutMs: Int32, caller: Caller?
    ) async -> (KafkaErrorCode, producerId: Int64, epoch: Int16) {
        guard timeoutMs > 0, timeoutMs <= maxTimeoutMs else { return (.invalidTransactionTimeout, -1, -1) }
        if let refused = await admit(transactionalId) { return (refused, -1, -1) }
        return await exclusively(transactionalId, busyAnswer: (.concurrentTransactions, -1, -1)) {
            let now = clock()
            guard var metadata = store.get(transactionalId) else {
                let producerId: Int64
                do {
                    producerId = try await producerIds.nextId()
                } catch {
                    return (.kafkaStorageError, -1, -1)
                }
                let created = TransactionMetadata(transactionalId: transactionalId, producerId: producerId, producerEpoch: 0, timeoutMs: timeoutMs, nowMs: now)
                let code = await save(created)
                return code == .none ? (.none, producerId, 0) : (code, -1, -1)
            }
            if metadata.state == .prepareCommit || metadata.state == .prepareAbort {
                guard await complete(metadata), let completed = store.get(transactionalId) else { return (.concurrentTransactions, -1, -1) }
                metadata = completed
            }
            if let caller {
                let retried = caller.producerId == metadata.producerId && caller.producerEpoch == metadata.lastProducerEpoch
                    && metadata.state != .ongoing
                if retried { return (.none, metadata.producerId, metadata.producerEpoch) }
                if caller.producerId != metadata.producerId || caller.producerEpoch != metadata.producerEpoch {
                    return (caller.fenced, -1, -1)
                }
            }
            if metadata.state == .ongoing {
                guard let aborted = await fenceAndAbort(metadata), !aborted.isInFlight else { return (.concurrentTransactions, -1, -1) }
                metadata = aborted
            }
            if metadata.producerEpoch >= Int16.max - 1 {
                do {
                    metadata.producerId = try await producerIds.nextId()
                } catch {
                    return (.kafkaStorageError, -1, -1)
                }
                metadata.lastProducerEpoch = -1
                metadata.producerEpoch = 0
            } else {
                metadata.lastProducerEpoch = metadata.producerEpoch
                metadata.producerEpoch += 1
            }
            metadata.timeoutMs = timeoutMs
            metadata.state = .empty
            metadata.updateTimestampMs = now
            let code = await save(metadata)
            return code == .none ? (.none, metadata.producerId, metadata.producerEpoch) : (code, -1, -1)
        }
    }

    /// What adding to a transaction did.
    public enum AddOutcome: Hashable, Sendable {
        case added
        /// Nothing was added: these partitions do not exist.
        case unknownPartitions(Set<TransactionMetadata.Partition>)
        case failed(KafkaErrorCode)
    }

    /// Adds partitions and/or a consumer group to the caller's transaction, opening it when
    /// none is. Unknown partitions fail the whole request (Kafka answers the others
    /// OPERATION_NOT_ATTEMPTED).
    public func add(
        transactionalId: String, caller: Caller, partitions: [TransactionMetadata.Partition], group: String? = nil
    ) async -> AddOutcome {
        if let refused = await admit(transactionalId) { return .failed(refused) }
        return await exclusively(transactionalId, busyAnswer: .failed(.concurrentTransactions)) {
            let stored = store.get(transactionalId)
            if let problem = check(stored, caller) { return .failed(problem) }
            guard var current = stored else { return .failed(.invalidProducerIdMapping) }
            if current.state == .prepareCommit || current.state == .prepareAbort { return .failed(.concurrentTransactions) }
            let unknown = Set(partitions.filter { topics.topic(named: $0.topic)?.partition($0.partition) == nil })
            if !unknown.isEmpty { return .unknownPartitions(unknown) }
            let now = clock()
            if current.state != .ongoing {
                current.state = .ongoing
                current.startTimestampMs = now
                current.partitions = []
                current.groups = []
                current.pendingOffsets = []
            }
            let added = !current.partitions.isSuperset(of: partitions) || group.map { !current.groups.contains($0) } ?? false
            current.partitions.formUnion(partitions)
            if let group { current.groups.insert(group) }
            // Nothing new in an open transaction: nothing to store.
            if added || stored?.state != .ongoing {
                current.updateTimestampMs = now
                let code = await save(current)
                guard code == .none else { return .failed(code) }
            }
            return .added
        }
    }

    /// TxnOffsetCommit: offsets held in the transaction until it commits. The group must
    /// have been added (AddOffsetsToTxn). In a cluster this runs at the group's coordinator,
    /// which stages them in the shared storage (`stageOffsets`).
    public func commitOffsets(
        transactionalId: String, caller: Caller, group: String, offsets pending: [TransactionMetadata.PendingOffset]
    ) async -> KafkaErrorCode {
        if let cluster { return await stageOffsets(transactionalId: transactionalId, caller: caller, group: group, offsets: pending, in: cluster) }
        return await exclusively(transactionalId, busyAnswer: .concurrentTransactions) {
            let stored = store.get(transactionalId)
            if let problem = check(stored, caller) { return problem }
            guard var metadata = stored, metadata.state == .ongoing, metadata.groups.contains(group) else { return .invalidTxnState }
            for offset in pending {
                metadata.pendingOffsets.removeAll { $0.group == offset.group && $0.topic == offset.topic && $0.partition == offset.partition }
                metadata.pendingOffsets.append(offset)
            }
            metadata.updateTimestampMs = clock()
            return await save(metadata)
        }
    }

    /// EndTxn: decides commit or abort durably, then writes the markers. A repeated EndTxn
    /// for an already completed outcome succeeds; the opposite outcome is INVALID_TXN_STATE.
    public func end(transactionalId: String, caller: Caller, commit: Bool) async -> KafkaErrorCode {
        if let refused = await admit(transactionalId) { return refused }
        return await exclusively(transactionalId, busyAnswer: .concurrentTransactions) {
            let stored = store.get(transactionalId)
            if let problem = check(stored, caller) { return problem }
            guard var metadata = stored else { return .invalidProducerIdMapping }
            switch metadata.state {
            case .ongoing:
                metadata.state = commit ? .prepareCommit : .prepareAbort
                metadata.updateTimestampMs = clock()
                let code = await save(metadata)
                guard code == .none else { return code }
                // Decided: the answer is success even if a marker must be retried later.
                _ = await complete(metadata)
                return .none
            case .prepareCommit, .prepareAbort:
                return .concurrentTransactions
            case .completeCommit:
                return commit ? .none : .invalidTxnState
            case .completeAbort:
                return commit ? .invalidTxnState : .none
            case .empty:
                return .invalidTxnState
            }
        }
    }
}
