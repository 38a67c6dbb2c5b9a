public import CreekStorage
import Logging
import PostgresNIO

/// Leadership: a partition is served (appended to and read) only by the broker the cluster
/// view names its leader, and only while that broker holds its lease. Taking the partition
/// bumps `creek_partitions.leader_epoch` and reloads the partition's state in the same
/// step; every commit then checks the row still names this broker and epoch, so a broker
/// that was paused past its lease and replaced can never append again with its old epoch.
extension PostgresPartition {
    public func prepareToServe() async throws(StorageError) {
        try await lead()
    }

    /// Makes sure this broker leads the partition with current state: throws `notLeader`
    /// when the cluster view names another broker (or this one's lease lapsed); takes the
    /// partition (a new epoch, state reloaded) when it is not held yet, a commit failed or
    /// the cluster view changed since it was taken.
    func lead() async throws(StorageError) {
        guard engine.membership.isLocalLeader(topicId: topicId, partition: partition) else {
            if heldEpoch != nil {
                engine.logger.info("partition led elsewhere now", metadata: ["partition": "\(topic)-\(partition)"])
                heldEpoch = nil
            }
            throw .notLeader(partition: "\(topic)-\(partition)")
        }
        guard heldEpoch == nil || failure != nil || heldGeneration != engine.membership.generation else { return }
        let task: Task<Void, any Error>
        if let reloading {
            task = reloading
        } else {
            task = Task { try await self.takeLeadership() }
            reloading = task
        }
        do {
            try await task.value
        } catch {
            reloading = nil
            throw PostgresEngine.storageError(error)
        }
    }

    /// Waits for commits in flight, bumps the leader epoch and reloads offsets and producer
    /// state (everything committed by any earlier leader).
    private func takeLeadership() async throws {
        while committing { try await Task.sleep(for: .milliseconds(5)) }
        let (engine, topicId, partition, node) = (self.engine, self.topicId, self.partition, engine.membership.localNodeId)
        let generation = engine.membership.generation
        let (epoch, state) = try await withDeadline(Self.commitTimeout) {
            var epoch: Int32?
            for try await value in try await engine.client.query("""
                UPDATE creek_partitions SET leader_id = \(node), leader_epoch = leader_epoch + 1
                WHERE topic_id = \(topicId) AND partition = \(partition) RETURNING leader_epoch
                """, logger: engine.logger).decode(Int32.self) {
                epoch = value
            }
            guard let epoch else { throw StorageError.deleted(partition: "\(topicId)-\(partition)") }
            return (epoch, try await StoredState.load(engine: engine, topicId: topicId, partition: partition))
        }
        logStartOffset = state.logStart
        nextOffset = state.next
        committedOffset = state.next
        sizeInBytes = state.size
        producers = state.producers
        heldEpoch = epoch
        heldGeneration = generation
        failure = nil
        reloading = nil
        wakeWaiters()
        engine.logger.info("leading partition", metadata: [
            "partition": "\(topic)-\(partition)", "epoch": "\(epoch)", "next": "\(state.next)",
        ])
    }
}
