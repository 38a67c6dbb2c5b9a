public import CreekStorage
public import KafkaProtocol
import Logging
import NIOCore
import PostgresNIO

extension PostgresPartition {
    /// How many batch rows one read fetches at most.
    static let rowsPerRead = 1000

    /// Whole committed batches from the one holding `offset`, up to `maxBytes` (the first
    /// returned even when larger, with `minOneBatch`) — the local log's Fetch rules. Both
    /// bounds of the scan come from the primary key (the batch at or before `offset`, then
    /// forward), so a read costs the same at any depth of the log.
    public func read(from offset: Int64, maxBytes: Int, minOneBatch: Bool, committedOnly: Bool) async throws(StorageError) -> PartitionLog.ReadResult {
        try await lead()
        if offset > committedOffset {
            // Past the end this broker knows: another broker may have appended while the
            // views disagreed. Take the partition again with the stored state before telling
            // the client its offset is out of range (it would reset its position).
            heldEpoch = nil
            try await lead()
        }
        let highWatermark = committedOffset
        let stable = lastStableOffset
        let start = logStartOffset
        guard offset >= start, offset <= highWatermark else {
            throw .offsetOutOfRange(requested: offset, logStart: start, logEnd: highWatermark)
        }
        let end = committedOnly ? stable : highWatermark
        var result = PartitionLog.ReadResult(records: ByteBuffer(), highWatermark: highWatermark, logStartOffset: start, lastStableOffset: stable)
        guard offset < end else { return result }
        let (topicId, partition, logger) = (self.topicId, self.partition, engine.logger)
        let client = engine.client
        let lastReturned: Int64
        do {
            (result.records, lastReturned) = try await withDeadline(Self.commitTimeout) {
                // First the batches' offsets and sizes (small rows) to pick the range under
                // maxBytes, then only those batches' bytes: a query whose rows are dropped
                // unread would still send them all.
                var first: Int64?
                var last: Int64 = -1
                var lastOffset: Int64 = -1
                var bytes = 0
                let sizes = try await client.query("""
                    SELECT base_offset, last_offset, size FROM creek_batches
                    WHERE topic_id = \(topicId) AND partition = \(partition) AND base_offset < \(end) AND last_offset >= \(offset)
                      AND base_offset >= coalesce((
                          SELECT base_offset FROM creek_batches
                          WHERE topic_id = \(topicId) AND partition = \(partition) AND base_offset <= \(offset)
                          ORDER BY base_offset DESC LIMIT 1), 0)
                    ORDER BY base_offset LIMIT \(Self.rowsPerRead)
                    """, logger: logger)
                for try await (base, lastInBatch, size) in sizes.decode((Int64, Int64, Int32).self) {
                    let fits = bytes + Int(size) <= maxBytes
                    guard fits || (minOneBatch && first == nil) else { break }
                    // A batch that ends past the last stable offset is not returned to read_committed.
                    if committedOnly && lastInBatch >= end { break }
                    if first == nil { first = base }
                    last = base
                    lastOffset = lastInBatch
                    bytes += Int(size)
                }
                var records = ByteBuffer()
                guard let first else { return (records, -1) }
                records.reserveCapacity(bytes)
                let rows = try await client.query("""
                    SELECT data FROM creek_batches
                    WHERE topic_id = \(topicId) AND partition = \(partition) AND base_offset >= \(first) AND base_offset <= \(last)
                    ORDER BY base_offset
                    """, logger: logger)
                for try await data in rows.decode(ByteBuffer.self) {
                    var data = data
                    records.writeBuffer(&data)
                }
                let lastReturned = lastOffset
                return (records, lastReturned)
            }
        } catch {
            throw PostgresEngine.storageError(error)
        }
        if committedOnly && lastReturned >= offset {
            result.abortedTransactions = await abortedTransactions(from: offset, upTo: lastReturned + 1)
        }
        return result
    }

    public func abortedTransactions(from offset: Int64, upTo upperBound: Int64) async -> [AbortedTransaction] {
        guard upperBound > offset else { return [] }
        var found: [AbortedTransaction] = []
        let (topicId, partition) = (self.topicId, self.partition)
        do {
            let rows = try await engine.client.query("""
                SELECT producer_id, first_offset, last_offset, last_stable_offset FROM creek_aborted
                WHERE topic_id = \(topicId) AND partition = \(partition) AND last_offset >= \(offset) AND first_offset < \(upperBound)
                ORDER BY first_offset
                """, logger: engine.logger)
            for try await (producer, first, last, stable) in rows.decode((Int64, Int64, Int64, Int64).self) {
                found.append(AbortedTransaction(producerId: producer, firstOffset: first, lastOffset: last, lastStableOffset: stable))
            }
        } catch {
            engine.logger.error("could not read aborted transactions", metadata: ["partition": "\(topic)-\(partition)", "error": "\(error)"])
        }
        return found
    }

    // MARK: - Offsets by time

    public func offset(forTimestamp timestamp: Int64) async throws(StorageError) -> (offset: Int64, timestamp: Int64)? {
        let (topicId, partition, start) = (self.topicId, self.partition, logStartOffset)
        do {
            let rows = try await engine.client.query("""
                SELECT data FROM creek_batches
                WHERE topic_id = \(topicId) AND partition = \(partition) AND max_timestamp >= \(timestamp)
                  AND last_offset >= \(start) AND base_offset < \(committedOffset)
                ORDER BY base_offset LIMIT 100
                """, logger: engine.logger)
            for try await data in rows.decode(ByteBuffer.self) {
                guard let batch = try? RecordBatch(bytes: data) else { continue }
                if batch.timestampType == .logAppendTime { return (max(batch.baseOffset, start), batch.maxTimestamp) }
                guard let records = try? batch.decodedRecords() else { return (max(batch.baseOffset, start), batch.maxTimestamp) }
                if let record = records.first(where: { $0.timestamp >= timestamp && $0.offset >= start }) {
                    return (record.offset, record.timestamp)
                }
            }
            return nil
        } catch {
            throw PostgresEngine.storageError(error)
        }
    }

    public func maxTimestampOffset() async throws(StorageError) -> (offset: Int64, timestamp: Int64)? {
        let (topicId, partition) = (self.topicId, self.partition)
        do {
            let rows = try await engine.client.query("""
                SELECT data FROM creek_batches WHERE topic_id = \(topicId) AND partition = \(partition) AND base_offset < \(committedOffset)
                ORDER BY max_timestamp DESC, base_offset LIMIT 1
                """, logger: engine.logger)
            for try await data in rows.decode(ByteBuffer.self) {
                guard let batch = try? RecordBatch(bytes: data), batch.maxTimestamp >= 0 else { return nil }
                if batch.timestampType == .createTime, let records = try? batch.decodedRecords(),
                   let record = records.last(where: { $0.timestamp == batch.maxTimestamp }) {
                    return (record.offset, record.timestamp)
                }
                return (batch.lastOffset, batch.maxTimestamp)
            }
            return nil
        } catch {
            throw PostgresEngine.storageError(error)
        }
    }

    // MARK: - Retention and DeleteRecords

    /// Deletes batches older than `retention.ms`, then the oldest while the partition holds
    /// more than `retention.bytes` (whole batches, so finer than the local log's segments),
    /// and advances the log start offset. Returns how many batches were deleted.
    public func applyRetention(nowMs: Int64) async throws(StorageError) -> Int {
        let expired = producers.producers.filter { $0.value.lastTimestampMs < nowMs - config.producerIdExpirationMs && $0.value.currentTxnFirstOffset == nil }
        _ = producers.expire(idleBefore: nowMs - config.producerIdExpirationMs)
        guard config.cleanupPolicy.contains(.delete) else { return 0 }
        let (topicId, partition, logger) = (self.topicId, self.partition, engine.logger)
        let cutoff = config.retentionMs >= 0 ? nowMs - config.retentionMs : Int64.min
        let excess = config.retentionBytes >= 0 ? Int64(sizeInBytes) - config.retentionBytes : 0
        let committed = committedOffset
        do {
            let outcome = try await engine.client.withTransaction(logger: logger) { connection -> (Int, Int64, Int64) in
                // The batches to drop: a prefix of the log (never past the committed end), each
                // expired or needed to bring the size under retention.bytes.
                var dropBelow: Int64 = -1
                var freed: Int64 = 0
                var count = 0
                let rows = try await connection.query("""
                    SELECT last_offset, max_timestamp, size FROM creek_batches
                    WHERE topic_id = \(topicId) AND partition = \(partition) AND base_offset < \(committed)
                    ORDER BY base_offset LIMIT 100000
                    """, logger: logger)
                for try await (last, time, size) in rows.decode((Int64, Int64, Int32).self) {
                    guard time < cutoff || freed < excess else { break }
                    dropBelow = last + 1
                    freed += Int64(size)
                    count += 1
                }
                guard dropBelow >= 0 else { return (0, 0, -1) }
                try await connection.query("""
                    DELETE FROM creek_batches WHERE topic_id = \(topicId) AND partition = \(partition) AND last_offset < \(dropBelow)
                    """, logger: logger)
                try await connection.query("""
                    UPDATE creek_partitions SET log_start_offset = greatest(log_start_offset, \(dropBelow))
                    WHERE topic_id = \(topicId) AND partition = \(partition)
                    """, logger: logger)
                return (count, freed, dropBelow)
            }
            if !expired.isEmpty {
                try await engine.client.query("""
                    DELETE FROM creek_producers WHERE topic_id = \(topicId) AND partition = \(partition) AND producer_id = ANY(\(Array(expired.keys))::bigint[])
                    """, logger: logger)
            }
            if outcome.2 > logStartOffset {
                logStartOffset = outcome.2
                sizeInBytes = max(0, sizeInBytes - Int(outcome.1))
            }
            return outcome.0
        } catch {
            throw PostgresEngine.storageError(error)
        }
    }

    /// Advances the log start offset (DeleteRecords; -1 means the high watermark) and deletes
    /// the batches wholly below it; durable before it returns.
    public func deleteRecords(before offset: Int64) async throws(StorageError) -> Int64 {
        try await lead()
        let target = offset == -1 ? committedOffset : offset
        guard target >= 0, target <= committedOffset else {
            throw .offsetOutOfRange(requested: offset, logStart: logStartOffset, logEnd: committedOffset)
        }
        guard target > logStartOffset else { return logStartOffset }
        let (topicId, partition, logger) = (self.topicId, self.partition, engine.logger)
        do {
            let freed = try await engine.client.withTransaction(logger: logger) { connection -> Int64 in
                var freed: Int64 = 0
                for try await size in try await connection.query("""
                    DELETE FROM creek_batches WHERE topic_id = \(topicId) AND partition = \(partition) AND last_offset < \(target) RETURNING size
                    """, logger: logger).decode(Int32.self) {
                    freed += Int64(size)
                }
                try await connection.query("""
                    UPDATE creek_partitions SET log_start_offset = greatest(log_start_offset, \(target))
                    WHERE topic_id = \(topicId) AND partition = \(partition)
                    """, logger: logger)
                return freed
            }
            logStartOffset = max(logStartOffset, target)
            sizeInBytes = max(0, sizeInBytes - Int(freed))
            return logStartOffset
        } catch {
            throw PostgresEngine.storageError(error)
        }
    }

    // MARK: - Transactions

    /// Appends the marker ending `producerId`'s transaction; an abort is recorded in
    /// `creek_aborted` in the same database transaction.
    public func appendMarker(producerId: Int64, epoch: Int16, marker: TransactionMarker, nowMs: Int64) async throws(StorageError) -> PartitionLog.MarkerOutcome {
        try await lead()
        guard producers.acceptsMarker(producerId: producerId, epoch: epoch) else { return .staleEpoch }
        if producers.markerFenced(producerId: producerId, coordinatorEpoch: marker.coordinatorEpoch) { return .coordinatorFenced }
        let offset = nextOffset
        let batch = Self.stamped(
            marker.batch(producerId: producerId, epoch: epoch, timestampMs: nowMs), baseOffset: offset, leaderEpoch: heldEpoch ?? 0, logAppendTime: nil
        )
        let first = producers.endTransaction(producerId: producerId, epoch: epoch, timestampMs: nowMs, coordinatorEpoch: marker.coordinatorEpoch)
        let aborted = marker.commit ? nil : first.map {
            AbortedTransaction(producerId: producerId, firstOffset: $0, lastOffset: offset, lastStableOffset: producers.firstUnstableOffset ?? offset + 1)
        }
        let entry = producers.producers[producerId].map { [producerId: $0] } ?? [:]
        try await commit([batch], producers: entry, aborted: aborted, end: offset + 1)
        return .written(offset: offset)
    }

    // MARK: - Deletion

    /// Deletes the partition's rows in the background; the caller has already removed the
    /// topic from the catalog, and the rows are keyed by its id, so nothing can reuse them.
    public func retire(tag: String) async throws(StorageError) -> @Sendable () -> Void {
        wakeWaiters()
        failure = .deleted(partition: "\(topic)-\(partition)")
        let (client, logger, topicId, partition) = (engine.client, engine.logger, self.topicId, self.partition)
        return {
            Task {
                for table in ["creek_batches", "creek_producers", "creek_aborted", "creek_partitions"] {
                    let statement = PostgresQuery(unsafeSQL: "DELETE FROM \(table) WHERE topic_id = $1 AND partition = $2", binds: {
                        var binds = PostgresBindings()
                        binds.append(topicId)
                        binds.append(partition)
                        return binds
                    }())
                    _ = try? await client.query(statement, logger: logger)
                }
            }
        }
    }
}
