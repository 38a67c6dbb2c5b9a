public import CreekStorage
import KafkaCompression
import KafkaProtocol
import Logging
import NIOCore
import PostgresNIO

/// Log compaction on the PostgreSQL engine, with the local cleaner's rules
/// (`CompactionFilter`, `KeyOffsetMap`): a pass maps each key of the dirty part — batches from
/// `creek_partitions.cleaned_up_to` up to the first uncleanable offset (an open transaction,
/// `min.compaction.lag.ms`, the high watermark) — to its latest offset, then rewrites every
/// batch below that point keeping what the filter keeps, some rows at a time: each step
/// replaces its rows in one transaction that checks this broker still leads the partition at
/// its epoch. Offsets never change; gaps appear. There is no active segment here: everything
/// stable and older than the lag is cleanable, and `min.cleanable.dirty.ratio` decides when.
extension PostgresPartition {
    static let cleaningRowsPerStep = 500

    public func compact(nowMs: Int64, dedupeBufferBytes: Int, force: Bool) async throws(StorageError) -> CleaningResult? {
        guard config.cleanupPolicy.contains(.compact),
              engine.membership.isLocalLeader(topicId: topicId, partition: partition) else { return nil }
        try await lead()
        guard let plan = try await planCleaning(nowMs: nowMs, force: force) else { return nil }
        var result = CleaningResult()
        var map = KeyOffsetMap(budget: dedupeBufferBytes)
        let skip = CompactionFilter(map: map, aborted: plan.aborted, horizonMs: Int64.min)
        var mappedUpTo = plan.end
        var full = false
        result.bytesRead += try await forEachBatch(from: plan.checkpoint, below: plan.end) { (batches: [RecordBatch]) async throws(StorageError) -> Bool in
            for batch in batches where !full && !batch.isControl && !skip.isAbortedData(batch) {
                if let stop = map.insertKeys(of: batch, from: plan.checkpoint) {
                    full = true
                    mappedUpTo = stop
                }
            }
            return !full
        }
        let filter = CompactionFilter(map: map, aborted: plan.aborted, horizonMs: nowMs - config.deleteRetentionMs)
        result.bytesRead += try await forEachBatch(from: logStartOffset, below: mappedUpTo) { (batches: [RecordBatch]) async throws(StorageError) -> Bool in
            var replaced: [Int64] = []
            var kept: [RecordBatch] = []
            for batch in batches {
                do {
                    let (verdict, removed) = try filter.judge(batch)
                    result.recordsRemoved += removed
                    switch verdict {
                    case .keepWhole: continue
                    case .drop: replaced.append(batch.baseOffset)
                    case .rewrite(let thinner):
                        replaced.append(batch.baseOffset)
                        kept.append(thinner)
                    }
                } catch {
                    result.unreadableBatches.append("offset \(batch.baseOffset): \(error)")
                }
            }
            guard !replaced.isEmpty else { return true }
            let freed = try await replace(replaced, with: kept)
            result.segmentsRewritten += kept.count
            result.segmentsRemoved += replaced.count - kept.count
            result.bytesWritten += kept.reduce(0) { $0 + $1.sizeInBytes }
            sizeInBytes -= freed
            return true
        }
        try await saveCheckpoint(mappedUpTo)
        result.cleanedUpTo = mappedUpTo
        return result
    }

    private struct CleaningPlan {
        var checkpoint: Int64
        var end: Int64
        var aborted: [AbortedTransaction]
    }

    /// The pass to run now, or nil when the partition is not dirty enough.
    private func planCleaning(nowMs: Int64, force: Bool) async throws(StorageError) -> CleaningPlan? {
        var end = committedOffset
        if let unstable = producers.firstUnstableOffset { end = min(end, unstable) }
        let (topicId, partition, logger, config) = (self.topicId, self.partition, engine.logger, self.config)
        do {
            var checkpoint: Int64 = 0
            for try await value in try await engine.client.query("""
                SELECT cleaned_up_to FROM creek_partitions WHERE topic_id = \(topicId) AND partition = \(partition)
                """, logger: logger).decode(Int64.self) {
                checkpoint = value
            }
            if config.minCompactionLagMs > 0 {
                for try await young in try await engine.client.query("""
                    SELECT min(base_offset) FROM creek_batches
                    WHERE topic_id = \(topicId) AND partition = \(partition) AND max_timestamp > \(nowMs - config.minCompactionLagMs)
                    """, logger: logger).decode(Int64?.self) {
                    if let young { end = min(end, young) }
                }
            }
            var total: Int64 = 0
            var dirty: Int64 = 0
            var oldestDirty: Int64?
            for try await (all, unclean, oldest) in try await engine.client.query("""
                SELECT coalesce(sum(size), 0)::bigint, coalesce(sum(size) FILTER (WHERE last_offset >= \(checkpoint)), 0)::bigint,
                       min(max_timestamp) FILTER (WHERE last_offset >= \(checkpoint))
                FROM creek_batches WHERE topic_id = \(topicId) AND partition = \(partition) AND last_offset < \(end)
                """, logger: logger).decode((Int64, Int64, Int64?).self) {
                (total, dirty, oldestDirty) = (all, unclean, oldest)
            }
            guard total > 0, force || dirty > 0 else { return nil }
            let overdue = config.maxCompactionLagMs < Int64.max && (oldestDirty.map { $0 >= 0 && nowMs - $0 > config.maxCompactionLagMs } ?? false)
            guard force || overdue || Double(dirty) / Double(total) >= config.minCleanableDirtyRatio else { return nil }
            return CleaningPlan(checkpoint: checkpoint, end: end, aborted: await abortedTransactions(from: logStartOffset, upTo: end))
        } catch {
            throw PostgresEngine.storageError(error)
        }
    }

    /// Calls `visit` with the committed batches in [from, below), some rows at a time, until
    /// it returns false. Returns the bytes read.
    private func forEachBatch(
        from: Int64, below: Int64, _ visit: ([RecordBatch]) async throws(StorageError) -> Bool
    ) async throws(StorageError) -> Int {
        var bytesRead = 0
        let (topicId, partition, logger, limit) = (self.topicId, self.partition, engine.logger, Self.cleaningRowsPerStep)
        var after = from - 1
        while true {
            var batches: [RecordBatch] = []
            do {
                let rows = try await engine.client.query("""
                    SELECT data FROM creek_batches
                    WHERE topic_id = \(topicId) AND partition = \(partition) AND last_offset > \(after) AND last_offset < \(below)
                    ORDER BY base_offset LIMIT \(limit)
                    """, logger: logger)
                for try await data in rows.decode(ByteBuffer.self) {
                    bytesRead += data.readableBytes
                    guard let batch = try? RecordBatch(bytes: data) else {
                        throw StorageError.database("an unreadable batch row in \(topic)-\(partition)")
                    }
                    batches.append(batch)
                }
            } catch {
                throw PostgresEngine.storageError(error)
            }
            guard let last = batches.last else { return bytesRead }
            after = last.lastOffset
            guard try await visit(batches), batches.count == limit else { return bytesRead }
        }
    }

    /// Replaces the rows at `bases` with `kept` (their thinner copies) while this broker
    /// still leads the partition at its epoch. Returns the bytes freed.
    private func replace(_ bases: [Int64], with kept: [RecordBatch]) async throws(StorageError) -> Int {
        guard let epoch = heldEpoch else { throw .notLeader(partition: "\(topic)-\(partition)") }
        let (topicId, partition, logger, topic, node) = (self.topicId, self.partition, engine.logger, self.topic, engine.membership.localNodeId)
        do {
            return try await engine.client.withTransaction(logger: logger) { connection -> Int in
                var current: (leader: Int32?, epoch: Int32)?
                for try await row in try await connection.query("""
                    SELECT leader_id, leader_epoch FROM creek_partitions WHERE topic_id = \(topicId) AND partition = \(partition) FOR UPDATE
                    """, logger: logger).decode((Int32?, Int32).self) {
                    current = row
                }
                guard let current, current.leader == node, current.epoch == epoch else {
                    throw StorageError.notLeader(partition: "\(topic)-\(partition)")
                }
                var freed = 0
                for try await size in try await connection.query("""
                    DELETE FROM creek_batches WHERE topic_id = \(topicId) AND partition = \(partition) AND base_offset = ANY(\(bases)::bigint[])
                    RETURNING size
                    """, logger: logger).decode(Int32.self) {
                    freed += Int(size)
                }
                guard !kept.isEmpty else { return freed }
                try await connection.query("""
                    INSERT INTO creek_batches (topic_id, partition, base_offset, last_offset, max_timestamp, size, data)
                    SELECT \(topicId), \(partition), * FROM unnest(\(kept.map(\.baseOffset))::bigint[], \(kept.map(\.lastOffset))::bigint[],
                        \(kept.map(\.maxTimestamp))::bigint[], \(kept.map { Int32($0.sizeInBytes) })::integer[], \(kept.map(\.buffer))::bytea[])
                    """, logger: logger)
                return freed - kept.reduce(0) { $0 + $1.sizeInBytes }
            }
        } catch {
            throw PostgresEngine.storageError(error)
        }
    }

    private func saveCheckpoint(_ offset: Int64) async throws(StorageError) {
        let (topicId, partition) = (self.topicId, self.partition)
        do {
            try await engine.client.query("""
                UPDATE creek_partitions SET cleaned_up_to = \(offset) WHERE topic_id = \(topicId) AND partition = \(partition)
                """, logger: engine.logger)
        } catch {
            throw PostgresEngine.storageError(error)
        }
    }
}
