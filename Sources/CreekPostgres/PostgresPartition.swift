public import CreekStorage
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
public import KafkaProtocol
import Logging
import NIOCore
import PostgresNIO

/// One partition stored in PostgreSQL. Appends reserve offsets here, in order, then are
/// committed in groups: every append waiting when a commit starts goes into its one
/// transaction, which locks the partition's `creek_partitions` row, checks that its next
/// offset is the one this broker expects (else another broker appended: `notLeader`),
/// inserts the batches, advances the offset and saves the changed producer state.
///
/// Invariants: `highWatermark` (what is served) only covers committed batches;
/// `nextOffset >= highWatermark`, the difference being reserved appends in flight. A failed
/// commit fails every reserved append (none was acknowledged), and the next operation
/// reloads the partition's state from the database before it continues.
public actor PostgresPartition: PartitionStorage {
    public nonisolated let topic: String
    public nonisolated let partition: Int32
    nonisolated let topicId: String
    let engine: PostgresEngine
    public private(set) var config: LogConfig
    public internal(set) var logStartOffset: Int64
    /// The next offset to hand out (reserved appends included).
    var nextOffset: Int64
    /// Everything below is committed in PostgreSQL.
    var committedOffset: Int64
    public internal(set) var sizeInBytes: Int
    public internal(set) var producers: ProducerStateTable
    /// Set after a failed commit; cleared by the reload that follows.
    var failure: StorageError?
    /// The leader epoch this broker holds the partition with (nil: it does not lead it, or
    /// must take it again); every commit checks the database still has it.
    var heldEpoch: Int32?
    /// The cluster view's generation when this broker took the partition: after any later
    /// change the partition may have been led elsewhere meanwhile, so it is taken again.
    var heldGeneration = 0
    var waiters: [FetchWaiter] = []
    var pending: [PendingWrite] = []
    var committing = false
    var reloading: Task<Void, any Error>?

    /// A reserved append waiting for its commit.
    struct PendingWrite {
        var batches: [RecordBatch]
        var producers: [Int64: ProducerStateTable.Entry]
        var aborted: AbortedTransaction?
        var end: Int64
        var bytes: Int
        var done: CheckedContinuation<StorageError?, Never>
    }

    public var logEndOffset: Int64 { nextOffset }
    public var highWatermark: Int64 { committedOffset }
    public var segmentCount: Int { 0 }
    public var isOffline: Bool { false }
    public var openTransactions: [Int64: Int64] { producers.openTransactions }
    public var lastStableOffset: Int64 {
        guard let first = producers.firstUnstableOffset else { return committedOffset }
        return min(first, committedOffset)
    }

    init(engine: PostgresEngine, topic: String, topicId: String, partition: Int32, config: LogConfig, state: StoredState) {
        self.engine = engine
        self.topic = topic
        self.topicId = topicId
        self.partition = partition
        self.config = config
        logStartOffset = state.logStart
        nextOffset = state.next
        committedOffset = state.next
        sizeInBytes = state.size
        producers = state.producers
    }

    /// Opens the partition, creating its row when new.
    static func open(
        engine: PostgresEngine, topic: String, topicId: String, partition: Int32, config: LogConfig, nowMs: Int64
    ) async throws(StorageError) -> PostgresPartition {
        do {
            try await engine.client.query("""
                INSERT INTO creek_partitions (topic_id, partition, next_offset, log_start_offset)
                VALUES (\(topicId), \(partition), 0, 0) ON CONFLICT DO NOTHING
                """, logger: engine.logger)
            let state = try await StoredState.load(engine: engine, topicId: topicId, partition: partition)
            return PostgresPartition(engine: engine, topic: topic, topicId: topicId, partition: partition, config: config, state: state)
        } catch {
            throw PostgresEngine.storageError(error)
        }
    }

    public func update(config: LogConfig) {
        self.config = config
    }

    // MARK: - Append

    public func append(_ batches: [RecordBatch], nowMs: Int64, sync: Bool) async throws(StorageError) -> PartitionLog.AppendResult {
        try await lead()
        let result = try await appendChecked(batches, nowMs: nowMs)
        guard result.rejection != nil else { return result }
        // A sequence or epoch refusal may come from producer state another broker has moved
        // on since this one last took the partition (views that briefly disagreed): take it
        // again with the state as stored, and refuse only if the batch still does not fit.
        heldEpoch = nil
        try await lead()
        return try await appendChecked(batches, nowMs: nowMs)
    }

    private func appendChecked(_ batches: [RecordBatch], nowMs: Int64) async throws(StorageError) -> PartitionLog.AppendResult {
        let stamp: Int64? = config.timestampType == .logAppendTime ? nowMs : nil
        var table = producers
        var stored: [RecordBatch] = []
        let base = nextOffset
        let epoch = heldEpoch ?? 0
        let next: Int64
        switch table.admit(batches, from: base, nowMs: nowMs, accept: { batch, offset in
            stored.append(Self.stamped(batch, baseOffset: offset, leaderEpoch: epoch, logAppendTime: stamp))
        }) {
        case .rejected(let code):
            return .init(baseOffset: -1, lastOffset: -1, logAppendTime: -1, logStartOffset: logStartOffset, rejection: code)
        case .duplicate(let first, let last):
            // The original may still be in flight: answer once it is committed.
            try await waitCommitted(upTo: last + 1)
            return .init(baseOffset: first, lastOffset: last, logAppendTime: -1, logStartOffset: logStartOffset)
        case .accepted(let end):
            next = end
        }
        var changed: [Int64: ProducerStateTable.Entry] = [:]
        for batch in stored where batch.producerId >= 0 && !batch.isControl {
            changed[batch.producerId] = table.producers[batch.producerId]
        }
        producers = table
        try await commit(stored, producers: changed, aborted: nil, end: next)
        return .init(baseOffset: base, lastOffset: next - 1, logAppendTime: stamp ?? -1, logStartOffset: logStartOffset)
    }

    /// A copy of `batch` with its offsets assigned (and restamped for LogAppendTime topics).
    static func stamped(_ batch: RecordBatch, baseOffset: Int64, leaderEpoch: Int32, logAppendTime: Int64?) -> RecordBatch {
        var copy = batch
        copy.setBaseOffset(baseOffset)
        copy.setPartitionLeaderEpoch(leaderEpoch)
        if let logAppendTime { copy.setLogAppendTime(logAppendTime) }
        return copy
    }

    /// Reserves `end` as the next offset and waits until the batches are committed, with
    /// every other append reserved meanwhile.
    func commit(_ batches: [RecordBatch], producers changed: [Int64: ProducerStateTable.Entry], aborted: AbortedTransaction?, end: Int64) async throws(StorageError) {
        nextOffset = end
        let bytes = batches.reduce(0) { $0 + $1.sizeInBytes }
        let error = await withCheckedContinuation { (done: CheckedContinuation<StorageError?, Never>) in
            pending.append(PendingWrite(batches: batches, producers: changed, aborted: aborted, end: end, bytes: bytes, done: done))
            if !committing {
                committing = true
                Task { await self.commitPending() }
            }
        }
        if let error { throw error }
    }

    /// Commits the waiting appends in groups until none is left.
    private func commitPending() async {
        while !pending.isEmpty {
            let group = pending
            pending = []
            let from = committedOffset
            do {
                let writes = group.map(WriteRows.init)
                guard let epoch = heldEpoch, engine.membership.holdsLease else { throw StorageError.notLeader(partition: "\(topic)-\(partition)") }
                try await withDeadline(Self.commitTimeout) { try await self.write(writes, expectedNext: from, epoch: epoch) }
                committedOffset = group.last?.end ?? committedOffset
                sizeInBytes += group.reduce(0) { $0 + $1.bytes }
                for write in group { write.done.resume(returning: nil) }
                wakeWaiters()
            } catch {
                let failed = PostgresEngine.storageError(error)
                engine.logger.error("commit to PostgreSQL failed; the partition reloads its state", metadata: [
                    "partition": "\(topic)-\(partition)", "error": "\(failed)",
                ])
                failure = failed
                if case .notLeader = failed { heldEpoch = nil }
                for write in group + pending { write.done.resume(returning: failed) }
                pending = []
            }
        }
        committing = false
    }

    /// How long one group commit may take before its appends fail (their outcome unknown:
    /// the next operation reloads what the database really holds).
    static let commitTimeout: Duration = .seconds(10)

    /// What a pending append writes (its continuation stays behind).
    struct WriteRows: Sendable {
        var batches: [RecordBatch]
        var producers: [Int64: ProducerStateTable.Entry]
        var aborted: AbortedTransaction?
        var end: Int64
        init(_ write: PendingWrite) {
            batches = write.batches
            producers = write.producers
            aborted = write.aborted
            end = write.end
        }
    }

    private nonisolated func write(_ group: [WriteRows], expectedNext: Int64, epoch: Int32) async throws {
        var bases: [Int64] = []
        var lasts: [Int64] = []
        var times: [Int64] = []
        var sizes: [Int32] = []
        var data: [ByteBuffer] = []
        var changed: [Int64: ProducerStateTable.Entry] = [:]
        var aborted: [AbortedTransaction] = []
        for write in group {
            for batch in write.batches {
                bases.append(batch.baseOffset)
                lasts.append(batch.lastOffset)
                times.append(batch.maxTimestamp)
                sizes.append(Int32(batch.sizeInBytes))
                data.append(batch.buffer)
            }
            changed.merge(write.producers) { _, newer in newer }
            if let abort = write.aborted { aborted.append(abort) }
        }
        let end = group.last?.end ?? expectedNext
        let (topicId, partition, logger, topic, node) = (self.topicId, self.partition, engine.logger, self.topic, engine.membership.localNodeId)
        let producerIds = Array(changed.keys)
        let encoder = JSONEncoder()
        let entries = producerIds.compactMap { id in changed[id].flatMap { try? encoder.encode($0) }.map { String(decoding: $0, as: UTF8.self) } }
        try await engine.client.withTransaction(logger: logger) { connection in
            var current: (next: Int64, leader: Int32?, epoch: Int32)?
            for try await row in try await connection.query("""
                SELECT next_offset, leader_id, leader_epoch FROM creek_partitions
                WHERE topic_id = \(topicId) AND partition = \(partition) FOR UPDATE
                """, logger: logger).decode((Int64, Int32?, Int32).self) {
                current = row
            }
            // Another broker took the partition (a newer epoch) or appended: this one must not.
            guard let current, current.leader == node, current.epoch == epoch, current.next == expectedNext else {
                throw StorageError.notLeader(partition: "\(topic)-\(partition)")
            }
            try await connection.query("""
                INSERT INTO creek_batches (topic_id, partition, base_offset, last_offset, max_timestamp, size, data)
                SELECT \(topicId), \(partition), * FROM unnest(\(bases)::bigint[], \(lasts)::bigint[], \(times)::bigint[], \(sizes)::integer[], \(data)::bytea[])
                """, logger: logger)
            try await connection.query("""
                UPDATE creek_partitions SET next_offset = \(end) WHERE topic_id = \(topicId) AND partition = \(partition)
                """, logger: logger)
            if !entries.isEmpty && entries.count == producerIds.count {
                try await connection.query("""
                    INSERT INTO creek_producers (topic_id, partition, producer_id, entry)
                    SELECT \(topicId), \(partition), * FROM unnest(\(producerIds)::bigint[], \(entries)::text[])
                    ON CONFLICT (topic_id, partition, producer_id) DO UPDATE SET entry = excluded.entry
                    """, logger: logger)
            }
            for abort in aborted {
                try await connection.query("""
                    INSERT INTO creek_aborted (topic_id, partition, producer_id, first_offset, last_offset, last_stable_offset)
                    VALUES (\(topicId), \(partition), \(abort.producerId), \(abort.firstOffset), \(abort.lastOffset), \(abort.lastStableOffset))
                    """, logger: logger)
            }
        }
    }

    /// Returns once everything below `offset` is committed (a duplicate's original may
    /// still be in flight).
    func waitCommitted(upTo offset: Int64) async throws(StorageError) {
        while committedOffset < offset {
            if let failure { throw failure }
            let waiter = FetchWaiter()
            register(waiter)
            await waiter.wait(timeout: .milliseconds(50))
        }
    }

    public func makeDurable(upTo offset: Int64) async throws(StorageError) {
        // Appends return only once committed: nothing more to wait for.
        if let failure, committedOffset < offset { throw failure }
    }

    public func flush() async throws(StorageError) {}

    // MARK: - Waiters

    public func register(_ waiter: FetchWaiter) {
        waiters.removeAll { $0.isDone }
        waiters.append(waiter)
    }

    public func wakeWaiters() {
        let toWake = waiters
        waiters.removeAll()
        for waiter in toWake { waiter.fire() }
    }

    public func close() async throws(StorageError) {
        wakeWaiters()
    }
}

/// A partition's state as stored: offsets, size, producer state.
struct StoredState: Sendable {
    var next: Int64
    var logStart: Int64
    var size: Int
    var producers: ProducerStateTable

    static func load(engine: PostgresEngine, topicId: String, partition: Int32) async throws -> StoredState {
        let (client, logger) = (engine.client, engine.logger)
        var state = StoredState(next: 0, logStart: 0, size: 0, producers: ProducerStateTable())
        for try await (next, start) in try await client.query("""
            SELECT next_offset, log_start_offset FROM creek_partitions WHERE topic_id = \(topicId) AND partition = \(partition)
            """, logger: logger).decode((Int64, Int64).self) {
            state.next = next
            state.logStart = start
        }
        for try await size in try await client.query("""
            SELECT coalesce(sum(size), 0)::bigint FROM creek_batches WHERE topic_id = \(topicId) AND partition = \(partition)
            """, logger: logger).decode(Int64.self) {
            state.size = Int(size)
        }
        var entries: [Int64: ProducerStateTable.Entry] = [:]
        let decoder = JSONDecoder()
        for try await (id, entry) in try await client.query("""
            SELECT producer_id, entry FROM creek_producers WHERE topic_id = \(topicId) AND partition = \(partition)
            """, logger: logger).decode((Int64, String).self) {
            if let decoded = try? decoder.decode(ProducerStateTable.Entry.self, from: Data(entry.utf8)) { entries[id] = decoded }
        }
        state.producers.replace(with: entries)
        return state
    }
}
