public import CreekStorage
public import KafkaProtocol
public import Logging

/// The transaction coordinator (KIP-98, transaction protocol version 1): maps transactional
/// ids to producer ids and epochs, tracks each open transaction's partitions, groups and
/// offsets, and ends a transaction by writing markers to every partition in it.
///
/// Every state change is durable (`TransactionStateStore.sync`) before it is acted on or
/// answered: `prepareCommit`/`prepareAbort` before the first marker, `complete*` only after
/// every marker (and, on commit, the offsets) is durable. So a crash anywhere leaves a
/// transaction that startup either finishes the way it was decided (`recover`) or, still
/// `ongoing`, aborts when it times out — never half committed.
///
/// Invariant: at most one operation per transactional id runs at a time (`busy`); a request
/// that finds its id busy gets CONCURRENT_TRANSACTIONS and the client retries.
public actor TransactionCoordinator {
    /// The epoch this coordinator's markers carry: 0 on a broker alone; in a cluster a number
    /// the shared storage hands out anew at each load of the state (`loadIfStale`), so a
    /// coordinator that took over always writes a higher one than the one it replaced, and
    /// partitions refuse the replaced one's late markers.
    var coordinatorEpoch: Int32 = 0

    let store: TransactionStateStore
    let topics: TopicRegistry
    let offsets: OffsetStore
    let producerIds: ProducerIdAllocator
    let maxTimeoutMs: Int32
    let idExpirationMs: Int64
    let clock: @Sendable () -> Int64
    let logger: Logger
    var busy: Set<String> = []
    /// Set in a cluster (`join`): state shared in the engine, markers sent to other brokers.
    var cluster: TransactionCluster?
    /// The cluster view generation the shared state was last loaded at.
    var loadedGeneration: Int?
    var loading: Task<Bool, Never>?

    public init(
        store: TransactionStateStore, topics: TopicRegistry, offsets: OffsetStore, producerIds: ProducerIdAllocator,
        maxTimeoutMs: Int32, idExpirationMs: Int64, logger: Logger, clock: @escaping @Sendable () -> Int64
    ) {
        self.store = store
        self.topics = topics
        self.offsets = offsets
        self.producerIds = producerIds
        self.maxTimeoutMs = maxTimeoutMs
        self.idExpirationMs = idExpirationMs
        self.logger = logger
        self.clock = clock
    }

    /// How a request names its producer, and the code a stale epoch gets in its version.
    public struct Caller: Sendable {
        public var producerId: Int64
        public var producerEpoch: Int16
        public var fenced: KafkaErrorCode

        public init(producerId: Int64, producerEpoch: Int16, fenced: KafkaErrorCode) {
            self.producerId = producerId
            self.producerEpoch = producerEpoch
            self.fenced = fenced
        }
    }

    /// Runs `body` with the id marked busy, or answers CONCURRENT_TRANSACTIONS.
    func exclusively<T: Sendable>(
        _ transactionalId: String, busyAnswer: T, _ body: () async -> T
    ) async -> T {
        guard busy.insert(transactionalId).inserted else { return busyAnswer }
        defer { busy.remove(transactionalId) }
        return await body()
    }

    /// Stores `metadata` durably (in a cluster, also in the shared storage, conditional on
    /// the version last seen). Returns the error code for the client when the store failed
    /// (after logging); the id's state is then what it was before, so no later request
    /// builds on a change that may not have reached the disk.
    func save(_ metadata: TransactionMetadata) async -> KafkaErrorCode {
        let previous = store.get(metadata.transactionalId)
        do throws(StorageError) {
            try store.put(metadata)
            try await store.sync()
            try await cluster?.shared.save(metadata)
            return .none
        } catch {
            store.restore(previous, for: metadata.transactionalId)
            if case .notCoordinator = error { loadedGeneration = nil }
            logger.error("transaction state not stored", metadata: ["transactionalId": "\(metadata.transactionalId)", "error": "\(error)"])
            return KafkaErrorCode(storage: error)
        }
    }

    func persist(_ metadata: TransactionMetadata) async -> Bool {
        await save(metadata) == .none
    }

    /// Checks that `caller` is the id's current producer.
    func check(_ metadata: TransactionMetadata?, _ caller: Caller) -> KafkaErrorCode? {
        guard let metadata, metadata.producerId == caller.producerId else { return .invalidProducerIdMapping }
        if caller.producerEpoch != metadata.producerEpoch { return caller.fenced }
        return nil
    }

    // MARK: - Ending a transaction

    /// Writes the decided outcome's markers to every partition of the transaction (in
    /// parallel, each made durable), applies its offsets on commit, and records the
    /// completion. Returns false when a marker or the offsets could not be written; the
    /// transaction then stays prepared and `tick` retries it.
    func complete(_ prepared: TransactionMetadata) async -> Bool {
        var metadata = prepared
        let commit = metadata.state == .prepareCommit
        guard commit || metadata.state == .prepareAbort else { return true }
        let coordinatorEpoch = self.coordinatorEpoch
        let marker = TransactionMarker(commit: commit, coordinatorEpoch: coordinatorEpoch)
        let (logs, elsewhere) = placeMarkers(metadata.partitions)
        let producerId = metadata.producerId
        let epoch = metadata.producerEpoch
        let now = clock()
        let peers = cluster?.peers
        let deliveries = await withTaskGroup(of: MarkerDelivery.self) { group in
            for (node, partitions) in elsewhere {
                guard let peers else { continue }
                group.addTask {
                    await Self.sendMarkers(
                        peers, to: node, producerId: producerId, epoch: epoch, coordinatorEpoch: coordinatorEpoch, commit: commit, partitions: partitions
                    )
                }
            }
            for log in logs {
                group.addTask {
                    do {
                        switch try await log.appendMarker(producerId: producerId, epoch: epoch, marker: marker, nowMs: now) {
                        case .written(let offset):
                            try await log.makeDurable(upTo: offset + 1)
                        case .staleEpoch:
                            break
                        case .coordinatorFenced:
                            return .fenced
                        }
                        return .written
                    } catch {
                        return .retry
                    }
                }
            }
            var all: [MarkerDelivery] = []
            for await delivery in group { all.append(delivery) }
            return all
        }
        if deliveries.contains(.fenced) {
            // A marker from a newer coordinator epoch is already there: either another broker
            // took the id over (the reload drops it here), or this one's epoch is older than
            // another's that briefly thought it coordinated the id — the reload takes a newer.
            logger.warning("transaction markers refused: coordinator epoch fenced; reloading", metadata: [
                "transactionalId": "\(metadata.transactionalId)", "coordinatorEpoch": "\(coordinatorEpoch)",
            ])
            loadedGeneration = nil
            return false
        }
        guard deliveries.allSatisfy({ $0 == .written }) else {
            logger.warning("transaction markers not all written; will retry", metadata: ["transactionalId": "\(metadata.transactionalId)"])
            return false
        }
        if let cluster {
            guard await finishStagedOffsets(metadata, commit: commit, nowMs: now, in: cluster) else { return false }
        } else if commit && !metadata.pendingOffsets.isEmpty {
            do {
                for (group, entries) in Dictionary(grouping: metadata.pendingOffsets, by: \.group) {
                    try offsets.commit(group: group, entries.map {
                        (topic: $0.topic, partition: $0.partition,
                         value: CommittedOffset(offset: $0.offset, leaderEpoch: $0.leaderEpoch, metadata: $0.metadata, commitTimestampMs: now))
                    })
                }
                try await offsets.sync()
            } catch {
                logger.error("transactional offsets not committed; will retry", metadata: ["transactionalId": "\(metadata.transactionalId)", "error": "\(error)"])
                return false
            }
        }
        metadata.state = commit ? .completeCommit : .completeAbort
        metadata.partitions = []
        metadata.groups = []
        metadata.pendingOffsets = []
        metadata.updateTimestampMs = now
        return await persist(metadata)
    }

    /// Decides abort for an open transaction at a bumped epoch (fencing its producer), then
    /// completes it. Returns the metadata as stored, or nil when it could not be stored.
    func fenceAndAbort(_ open: TransactionMetadata) async -> TransactionMetadata? {
        var metadata = open
        if metadata.producerEpoch < Int16.max - 1 {
            metadata.lastProducerEpoch = metadata.producerEpoch
            metadata.producerEpoch += 1
        }
        metadata.state = .prepareAbort
        metadata.updateTimestampMs = clock()
        guard await persist(metadata) else { return nil }
        _ = await complete(metadata)
        return store.get(metadata.transactionalId)
    }

    // MARK: - Startup and timer

    /// Finishes every transaction that was decided but not completed before the last stop.
    public func recover() async {
        guard await loadIfStale() else { return }
        for metadata in store.all.values where metadata.state == .prepareCommit || metadata.state == .prepareAbort {
            logger.notice("completing a transaction decided before the restart", metadata: [
                "transactionalId": "\(metadata.transactionalId)", "state": "\(metadata.state.kafkaName)",
            ])
            _ = await exclusively(metadata.transactionalId, busyAnswer: false) { await complete(metadata) }
        }
    }

    /// Aborts transactions open longer than their timeout, retries unfinished completions,
    /// and forgets ids idle past `transactional.id.expiration.ms`. Called periodically.
    public func tick() async {
        guard await loadIfStale() else { return }
        let now = clock()
        for metadata in store.all.values {
            let id = metadata.transactionalId
            switch metadata.state {
            case .ongoing where now - metadata.startTimestampMs > Int64(metadata.timeoutMs):
                logger.notice("aborting a transaction past its timeout", metadata: ["transactionalId": "\(id)", "timeoutMs": "\(metadata.timeoutMs)"])
                _ = await exclusively(id, busyAnswer: nil) { await fenceAndAbort(metadata) }
            case .prepareCommit, .prepareAbort:
                _ = await exclusively(id, busyAnswer: false) { await complete(metadata) }
            case .empty, .completeCommit, .completeAbort:
                if now - metadata.updateTimestampMs > idExpirationMs {
                    _ = await exclusively(id, busyAnswer: ()) {
                        do {
                            try store.remove(id)
                            try await store.sync()
                            try await cluster?.shared.remove(id)
                        } catch {
                            logger.error("expired transactional id not removed", metadata: ["transactionalId": "\(id)", "error": "\(error)"])
                        }
                    }
                }
            default:
                break
            }
        }
    }

    // MARK: - Queries

    /// Whether an open transaction holds offsets for the group's partition (OffsetFetch
    /// with require_stable answers UNSTABLE_OFFSET_COMMIT then).
    public nonisolated func hasPendingOffsets(group: String, topic: String, partition: Int32) -> Bool {
        store.all.values.contains { metadata in
            metadata.isInFlight && metadata.pendingOffsets.contains { $0.group == group && $0.topic == topic && $0.partition == partition }
        }
    }

    public nonisolated var transactions: [String: TransactionMetadata] { store.all }
}
