public import CreekStorage
public import KafkaProtocol

/// How the transaction coordinator reaches the rest of a cluster: who coordinates what and
/// leads which partition (the cluster view), the shared transaction state, and the other
/// brokers (WriteTxnMarkers).
public struct TransactionCluster: Sendable {
    let view: any ClusterView
    let shared: any SharedTransactionStorage
    let peers: InterBrokerClient

    public init(view: any ClusterView, shared: any SharedTransactionStorage, peers: InterBrokerClient) {
        self.view = view
        self.shared = shared
        self.peers = peers
    }
}

/// How a transaction's markers fared at one partition leader.
enum MarkerDelivery: Sendable, Equatable {
    case written
    /// Not all written (a leader moved, a connection failed): the coordinator retries.
    case retry
    /// Refused: a marker from a newer coordinator epoch was written there already.
    case fenced
}

/// Transactions across the brokers of a cluster (Kafka's design, over shared storage): each
/// transactional id is coordinated by the broker the cluster view names, which loads the
/// ids' state from the shared storage whenever the view changed; markers go to partitions it
/// leads directly and to the others' leaders as WriteTxnMarkers; TxnOffsetCommit stages
/// offsets at the group's coordinator, and ending the transaction commits or drops them
/// there (a WriteTxnMarkers for `__consumer_offsets` when that is another broker).
extension TransactionCoordinator {
    /// The topic name a WriteTxnMarkers uses for a group coordinator's staged offsets.
    static let offsetsTopic = "__consumer_offsets"

    public func join(_ cluster: TransactionCluster) {
        self.cluster = cluster
        loadedGeneration = nil
    }

    /// Whether this broker may act for `transactionalId` now: nil, or the code to answer.
    func admit(_ transactionalId: String) async -> KafkaErrorCode? {
        guard let cluster else { return nil }
        guard cluster.view.isLocalCoordinator(key: transactionalId) else { return .notCoordinator }
        return await loadIfStale() ? nil : .coordinatorLoadInProgress
    }

    /// In a cluster, replaces the state held in memory with the shared copy of every id this
    /// broker coordinates, once per cluster view generation. False when it could not load.
    func loadIfStale() async -> Bool {
        guard let cluster else { return true }
        let generation = cluster.view.generation
        if loadedGeneration == generation { return true }
        if let loading { return await loading.value }
        let task = Task { await self.load(generation: generation, from: cluster) }
        loading = task
        let loaded = await task.value
        loading = nil
        return loaded
    }

    private func load(generation: Int, from cluster: TransactionCluster) async -> Bool {
        do {
            // A new epoch first: every marker sent from this load on outranks those of any
            // coordinator that held these ids before.
            let epoch = try await cluster.shared.nextCoordinatorEpoch()
            let all = try await cluster.shared.loadAll()
            let view = cluster.view
            store.adopt(all, keeping: { view.isLocalCoordinator(key: $0) }, sparing: busy)
            coordinatorEpoch = epoch
            loadedGeneration = generation
            logger.info("transaction state loaded", metadata: [
                "coordinated": "\(store.all.count)", "generation": "\(generation)", "coordinatorEpoch": "\(epoch)",
            ])
            return true
        } catch {
            logger.error("transaction state not loaded", metadata: ["error": "\(error)"])
            return false
        }
    }

    /// Where a transaction's markers go: partitions this broker serves, and the others by the
    /// node leading them.
    func placeMarkers(_ partitions: Set<TransactionMetadata.Partition>) -> (local: [any PartitionStorage], elsewhere: [Int32: [TransactionMetadata.Partition]]) {
        var local: [any PartitionStorage] = []
        var elsewhere: [Int32: [TransactionMetadata.Partition]] = [:]
        for partition in partitions {
            guard let topic = topics.topic(named: partition.topic), let log = topic.partition(partition.partition) else { continue }
            if let view = cluster?.view {
                let leader = view.leader(topicId: TopicRegistry.hex(topic.id), partition: partition.partition)
                if leader != view.localNodeId {
                    elsewhere[leader, default: []].append(partition)
                    continue
                }
            }
            local.append(log)
        }
        return (local, elsewhere)
    }

    /// One WriteTxnMarkers to `node`: written when every partition answered without error,
    /// fenced when one refused this coordinator's epoch, else to be retried.
    static func sendMarkers(
        _ peers: InterBrokerClient, to node: Int32, producerId: Int64, epoch: Int16, coordinatorEpoch: Int32, commit: Bool,
        partitions: [TransactionMetadata.Partition]
    ) async -> MarkerDelivery {
        var marker = WriteTxnMarkersRequest.WritableTxnMarker()
        marker.producerId = producerId
        marker.producerEpoch = epoch
        marker.transactionResult = commit
        marker.coordinatorEpoch = coordinatorEpoch
        marker.topics = Dictionary(grouping: partitions, by: \.topic).sorted { $0.key < $1.key }.map { topic, entries in
            var named = WriteTxnMarkersRequest.WritableTxnMarkerTopic()
            named.name = topic
            named.partitionIndexes = entries.map(\.partition).sorted()
            return named
        }
        var request = WriteTxnMarkersRequest()
        request.markers = [marker]
        do {
            let response = try await peers.send(request, versions: WriteTxnMarkersHandler.versions, to: node)
            let codes = response.markers.flatMap { $0.topics.flatMap { $0.partitions.map(\.errorCode) } }
            if codes.contains(KafkaErrorCode.transactionCoordinatorFenced.rawValue) { return .fenced }
            return !codes.isEmpty && codes.allSatisfy { $0 == 0 } ? .written : .retry
        } catch {
            return .retry
        }
    }

    /// Ends the offsets a transaction staged in its groups: here for the groups this broker
    /// coordinates, by WriteTxnMarkers at the others' coordinators. True once none is left.
    func finishStagedOffsets(_ metadata: TransactionMetadata, commit: Bool, nowMs: Int64, in cluster: TransactionCluster) async -> Bool {
        guard !metadata.groups.isEmpty else { return true }
        let local = metadata.groups.filter { cluster.view.isLocalCoordinator(key: $0) }
        do {
            try await finishStaged(producerId: metadata.producerId, groups: local, commit: commit, nowMs: nowMs, in: cluster)
            let elsewhere = Set(metadata.groups.subtracting(local).map { cluster.view.coordinator(key: $0) })
            for node in elsewhere {
                let partition = TransactionMetadata.Partition(topic: Self.offsetsTopic, partition: 0)
                _ = await Self.sendMarkers(
                    cluster.peers, to: node, producerId: metadata.producerId, epoch: metadata.producerEpoch,
                    coordinatorEpoch: coordinatorEpoch, commit: commit, partitions: [partition]
                )
            }
            let left = try await cluster.shared.stagedGroups(producerId: metadata.producerId).intersection(metadata.groups)
            if !left.isEmpty {
                logger.warning("transactional offsets still staged; will retry", metadata: ["transactionalId": "\(metadata.transactionalId)", "groups": "\(left.sorted())"])
            }
            return left.isEmpty
        } catch {
            logger.error("transactional offsets not finished; will retry", metadata: ["transactionalId": "\(metadata.transactionalId)", "error": "\(error)"])
            return false
        }
    }

    /// Commits (into the shared and the in-memory committed offsets) or drops what
    /// `producerId` staged in `groups`, which this broker coordinates.
    private func finishStaged(producerId: Int64, groups: Set<String>, commit: Bool, nowMs: Int64, in cluster: TransactionCluster) async throws(StorageError) {
        guard !groups.isEmpty else { return }
        let finished = try await cluster.shared.finishStaged(producerId: producerId, groups: groups, commit: commit, nowMs: nowMs)
        guard commit, !finished.isEmpty else { return }
        for (group, entries) in Dictionary(grouping: finished, by: \.group) {
            try offsets.commit(group: group, entries.map {
                (topic: $0.topic, partition: $0.partition,
                 value: CommittedOffset(offset: $0.offset, leaderEpoch: $0.leaderEpoch, metadata: $0.metadata, commitTimestampMs: nowMs))
            })
        }
        do {
            try await offsets.sync()
        } catch {
            throw (error as? StorageError) ?? .database("\(error)")
        }
    }

    /// A WriteTxnMarkers for `__consumer_offsets` from another broker's transaction
    /// coordinator: ends what `producerId` staged in the groups this broker coordinates.
    public func finishStagedOffsets(producerId: Int64, commit: Bool) async -> KafkaErrorCode {
        guard let cluster else { return .none }
        do throws(StorageError) {
            let groups = try await cluster.shared.stagedGroups(producerId: producerId).filter { cluster.view.isLocalCoordinator(key: $0) }
            try await finishStaged(producerId: producerId, groups: groups, commit: commit, nowMs: clock(), in: cluster)
            return .none
        } catch {
            logger.error("transactional offsets not finished", metadata: ["producerId": "\(producerId)", "error": "\(error)"])
            return KafkaErrorCode(storage: error)
        }
    }

    /// TxnOffsetCommit in a cluster, at the group's coordinator: checked against the
    /// transaction when this broker coordinates it too, then staged in the shared storage.
    func stageOffsets(
        transactionalId: String, caller: Caller, group: String, offsets pending: [TransactionMetadata.PendingOffset], in cluster: TransactionCluster
    ) async -> KafkaErrorCode {
        let stage = { () async -> KafkaErrorCode in
            do throws(StorageError) {
                try await cluster.shared.stageOffsets(producerId: caller.producerId, pending)
                return .none
            } catch {
                self.logger.error("transactional offsets not staged", metadata: ["transactionalId": "\(transactionalId)", "error": "\(error)"])
                return KafkaErrorCode(storage: error)
            }
        }
        guard cluster.view.isLocalCoordinator(key: transactionalId) else { return await stage() }
        guard await loadIfStale() else { return .coordinatorLoadInProgress }
        return await exclusively(transactionalId, busyAnswer: .concurrentTransactions) {
            let stored = store.get(transactionalId)
            if let problem = check(stored, caller) { return problem }
            guard let metadata = stored, metadata.state == .ongoing, metadata.groups.contains(group) else { return .invalidTxnState }
            return await stage()
        }
    }

    /// Whether an open transaction staged offsets for the group's partitions (OffsetFetch
    /// with require_stable answers UNSTABLE_OFFSET_COMMIT for them).
    public func stagedPartitions(group: String) async -> Set<TransactionMetadata.Partition> {
        guard let cluster else { return [] }
        return (try? await cluster.shared.stagedPartitions(group: group)) ?? []
    }
}
