public import KafkaProtocol
public import NIOCore

/// One partition's log: an ordered list of segments in `<data>/<topic>-<partition>/`.
/// This actor is the partition's single owner: offsets are assigned and bytes appended
/// in order, with no locks shared with other partitions.
///
/// Invariants: segments are sorted by base offset and contiguous; only the last one is
/// written; `logStartOffset <= logEndOffset`; records below `logStartOffset` are never served.
public actor PartitionLog {
    public nonisolated let topic: String
    public nonisolated let partition: Int32
    public nonisolated let directory: String
    public private(set) var config: LogConfig
    private var segments: [LogSegment]
    public private(set) var logStartOffset: Int64
    private let groupCommit: GroupCommit
    private var waiters: [FetchWaiter] = []
    /// Offset below which everything is known to be fsynced (recovery starts here).
    public private(set) var flushedOffset: Int64
    /// Idempotent producers' recent batches (see `ProducerStateTable`).
    public private(set) var producers = ProducerStateTable()

    public static let logStartFile = "log-start-offset"

    public var logEndOffset: Int64 { segments.last?.nextOffset ?? logStartOffset }
    public var sizeInBytes: Int { segments.reduce(0) { $0 + $1.size } }
    public var segmentCount: Int { segments.count }

    /// Opens the partition directory (creating it when missing). `recoverFrom` names the
    /// offset from which segments are fully re-validated (nil: trust them, a clean start).
    public init(
        topic: String, partition: Int32, dataDirectory: String, config: LogConfig,
        recover: Bool, nowMs: Int64
    ) throws(StorageError) {
        self.topic = topic
        self.partition = partition
        self.directory = dataDirectory + "/" + topic + "-" + String(partition)
        self.config = config
        self.groupCommit = GroupCommit(label: "\(topic)-\(partition)")
        try FileSystem.makeDirectory(directory)
        let bases = try FileSystem.list(directory)
            .filter { $0.hasSuffix(".log") }
            .compactMap { Int64($0.dropLast(4)) }
            .sorted()
        var opened: [LogSegment] = []
        for (index, base) in bases.enumerated() {
            // After an unclean stop only the newest segment can hold unsynced bytes:
            // older ones were fsynced when they rolled. Validate the newest in full.
            let validate = recover && index == bases.count - 1
            let segment = try LogSegment(
                directory: directory, baseOffset: base, indexIntervalBytes: config.indexIntervalBytes,
                recover: validate, nowMs: nowMs
            )
            if let previous = opened.last, previous.nextOffset != segment.baseOffset, segment.isEmpty, index == bases.count - 1 {
                // An empty trailing segment with a wrong name: drop it.
                try segment.delete()
                continue
            }
            opened.append(segment)
        }
        if opened.isEmpty {
            opened.append(try LogSegment(
                directory: directory, baseOffset: 0, indexIntervalBytes: config.indexIntervalBytes, recover: false, nowMs: nowMs
            ))
        }
        segments = opened
        var start = opened.first?.baseOffset ?? 0
        if let saved = try? FileSystem.readAll(directory + "/" + Self.logStartFile),
           let value = Int64(String(decoding: saved, as: UTF8.self).filter { !$0.isWhitespace }) {
            start = max(start, min(value, opened.last?.nextOffset ?? value))
        }
        logStartOffset = start
        flushedOffset = opened.last?.nextOffset ?? 0
        producers = try Self.loadProducerState(directory: directory, segments: opened, nowMs: nowMs)
    }

    // MARK: - Producer state

    static func snapshotName(_ offset: Int64) -> String { LogSegment.fileName(offset, ".snapshot") }

    /// Loads the newest producer-state snapshot at or below the log end and replays the
    /// batch headers after it, so a restart knows every producer's last five batches
    /// without rescanning the whole log.
    /// Idle time is counted in wall-clock time from the append (or from this restart for
    /// producers replayed from the log), not from the batches' own timestamps, so a producer
    /// that writes old timestamps keeps its state for `producer.id.expiration.ms`.
    private static func loadProducerState(directory: String, segments: [LogSegment], nowMs: Int64) throws(StorageError) -> ProducerStateTable {
        var producers = ProducerStateTable()
        let end = segments.last?.nextOffset ?? 0
        let snapshots = try FileSystem.list(directory)
            .filter { $0.hasSuffix(".snapshot") }
            .compactMap { Int64($0.dropLast(9)) }
            .sorted()
        var from: Int64 = segments.first?.baseOffset ?? 0
        for offset in snapshots.reversed() where offset <= end {
            if let table = ProducerSnapshot.load(path: directory + "/" + Self.snapshotName(offset)) {
                producers.replace(with: table)
                from = offset
                break
            }
        }
        for segment in segments where segment.nextOffset > from {
            for header in try segment.headers(from: max(from, segment.baseOffset)) where header.producerId >= 0 && !header.isControl {
                producers.record(
                    producerId: header.producerId, epoch: header.producerEpoch, firstSequence: header.baseSequence,
                    lastSequence: header.lastSequence, firstOffset: header.baseOffset, lastOffset: header.lastOffset,
                    timestampMs: nowMs
                )
            }
        }
        return producers
    }

    private func writeProducerSnapshot(at offset: Int64) throws(StorageError) {
        try ProducerSnapshot.save(producers.producers, path: directory + "/" + Self.snapshotName(offset))
        // Keep the two newest snapshots.
        let snapshots = try FileSystem.list(directory).filter { $0.hasSuffix(".snapshot") }.sorted()
        for old in snapshots.dropLast(2) { try FileSystem.remove(directory + "/" + old) }
    }

    // MARK: - Configuration

    public func update(config: LogConfig) {
        self.config = config
    }

    // MARK: - Append

    /// What an append did.
    public struct AppendResult: Sendable {
        public var baseOffset: Int64
        public var lastOffset: Int64
        /// The stamped time for LogAppendTime topics, else -1.
        public var logAppendTime: Int64
        public var logStartOffset: Int64
        /// Set when the batches were refused (sequence or epoch checks); nothing was appended.
        public var rejection: KafkaErrorCode? = nil
    }

    /// Appends validated batches: assigns offsets from the log end by patching each
    /// batch's baseOffset (and leader epoch 0), rolls the segment when full or old, and
    /// writes everything with one system call. With `sync`, returns only after an fsync
    /// that covers these bytes (group commit); callers that must not hold up the next
    /// append (the Produce path) pass false and call `makeDurable(upTo:)` afterwards.
    public func append(_ batches: [RecordBatch], nowMs: Int64, sync: Bool) async throws(StorageError) -> AppendResult {
        let stamp: Int64? = config.timestampType == .logAppendTime ? nowMs : nil
        let incoming = batches.reduce(0) { $0 + $1.sizeInBytes }
        try rollIfNeeded(incomingBytes: incoming, nowMs: nowMs)
        var next = logEndOffset
        let base = next
        var prepared: [PreparedBatch] = []
        prepared.reserveCapacity(batches.count)
        var table = producers
        var duplicate: (Int64, Int64)?
        for batch in batches {
            if batch.producerId >= 0 && !batch.isControl {
                let lastSequence = Int32(truncatingIfNeeded: (Int64(batch.baseSequence) + Int64(batch.lastOffsetDelta)) % (Int64(Int32.max) + 1))
                switch table.check(producerId: batch.producerId, epoch: batch.producerEpoch,
                                   firstSequence: batch.baseSequence, lastSequence: lastSequence) {
                case .reject(let code):
                    return AppendResult(baseOffset: -1, lastOffset: -1, logAppendTime: -1, logStartOffset: logStartOffset, rejection: code)
                case .duplicate(let first, let last):
                    if prepared.isEmpty && duplicate == nil { duplicate = (first, last) }
                    continue
                case .accept:
                    table.record(producerId: batch.producerId, epoch: batch.producerEpoch, firstSequence: batch.baseSequence,
                                 lastSequence: lastSequence, firstOffset: next, lastOffset: next + Int64(batch.lastOffsetDelta),
                                 timestampMs: nowMs)
                }
            }
            let ready = PreparedBatch(batch: batch, baseOffset: next, leaderEpoch: 0, logAppendTime: stamp)
            next = ready.lastOffset + 1
            prepared.append(ready)
        }
        if prepared.isEmpty, let (first, last) = duplicate {
            return AppendResult(baseOffset: first, lastOffset: last, logAppendTime: -1, logStartOffset: logStartOffset)
        }
        guard let active = segments.last else { throw .closed }
        if active.isEmpty { active.createdAtMs = nowMs }
        try active.append(prepared)
        producers = table
        let result = AppendResult(baseOffset: base, lastOffset: next - 1, logAppendTime: stamp ?? -1, logStartOffset: logStartOffset)
        let toWake = waiters
        waiters.removeAll()
        for waiter in toWake { waiter.fire() }
        if sync {
            try await self.sync(upTo: next, file: active.log)
        }
        return result
    }

    private func sync(upTo offset: Int64, file: LogFile) async throws(StorageError) {
        do {
            try await groupCommit.sync(file)
        } catch let error as StorageError {
            throw error
        } catch {
            throw .system(call: "fdatasync", path: file.path, errno: 5)
        }
        flushedOffset = max(flushedOffset, offset)
    }

    /// Returns once every record below `offset` is on stable storage (group commit).
    public func makeDurable(upTo offset: Int64) async throws(StorageError) {
        guard flushedOffset < offset, let active = segments.last else { return }
        try await sync(upTo: logEndOffset, file: active.log)
    }

    /// Fsyncs what has been appended so far (the periodic flush of `--flush os`).
    public func flush() async throws(StorageError) {
        guard let active = segments.last, flushedOffset < logEndOffset else { return }
        try await sync(upTo: logEndOffset, file: active.log)
    }

    private func rollIfNeeded(incomingBytes: Int, nowMs: Int64) throws(StorageError) {
        guard let active = segments.last, !active.isEmpty else { return }
        let full = active.size + incomingBytes > config.segmentBytes
        let old = nowMs - active.createdAtMs >= config.segmentMs
        guard full || old else { return }
        try active.sync()
        flushedOffset = max(flushedOffset, active.nextOffset)
        let segment = try LogSegment(
            directory: directory, baseOffset: active.nextOffset, indexIntervalBytes: config.indexIntervalBytes,
            recover: false, nowMs: nowMs
        )
        segments.append(segment)
        try writeProducerSnapshot(at: segment.baseOffset)
    }

    // MARK: - Read

    /// Stored batches from `offset`, for a Fetch.
    public struct ReadResult: Sendable {
        public var records: ByteBuffer
        public var highWatermark: Int64
        public var logStartOffset: Int64
    }

    /// Reads whole batches starting with the one that holds `offset`, up to `maxBytes`;
    /// the first batch is returned even when larger (Kafka's rule) if `minOneBatch`.
    /// An offset equal to the log end yields no records; outside [logStart, logEnd] throws.
    public func read(from offset: Int64, maxBytes: Int, minOneBatch: Bool) throws(StorageError) -> ReadResult {
        let end = logEndOffset
        guard offset >= logStartOffset, offset <= end else {
            throw .offsetOutOfRange(requested: offset, logStart: logStartOffset, logEnd: end)
        }
        var result = ReadResult(records: ByteBuffer(), highWatermark: end, logStartOffset: logStartOffset)
        guard offset < end, let index = segmentIndex(containing: offset) else { return result }
        var remaining = maxBytes
        var first = true
        for segment in segments[index...] {
            guard let start = try segment.position(of: offset) else { continue }
            if !first || !minOneBatch, start.size > remaining { break }
            let headers = try segment.headers(from: start, maxBytes: max(remaining, start.size))
            let length = (headers.last?.endPosition ?? start.position) - start.position
            var bytes = try segment.log.read(at: start.position, length: length)
            if first {
                result.records = bytes
            } else {
                result.records.writeBuffer(&bytes)
            }
            remaining -= length
            first = false
            // Continue into the next segment only if this one was exhausted.
            if headers.last?.lastOffset != segment.nextOffset - 1 || remaining <= 0 { break }
        }
        return result
    }

    private func segmentIndex(containing offset: Int64) -> Int? {
        var low = 0
        var high = segments.count - 1
        guard high >= 0 else { return nil }
        while low < high {
            let mid = (low + high + 1) / 2
            if segments[mid].baseOffset <= offset { low = mid } else { high = mid - 1 }
        }
        return low
    }

    /// Wakes every parked long-poll Fetch (used at shutdown).
    public func wakeWaiters() {
        let toWake = waiters
        waiters.removeAll()
        for waiter in toWake { waiter.fire() }
    }

    /// Registers a long-poll Fetch to be woken by the next append.
    public func register(_ waiter: FetchWaiter) {
        waiters.removeAll { $0.isDone }
        waiters.append(waiter)
    }

    // MARK: - Offsets by time

    /// The offset and timestamp for ListOffsets with a target time: the first record whose
    /// timestamp is at or after `timestamp`; nil when none is.
    public func offset(forTimestamp timestamp: Int64) throws(StorageError) -> (offset: Int64, timestamp: Int64)? {
        for segment in segments where segment.maxTimestamp >= timestamp {
            guard let header = try segment.firstBatch(withTimestampAtLeast: timestamp) else { continue }
            let bytes = try segment.readBatch(header)
            if let batch = try? RecordBatch(bytes: bytes), let records = try? batch.records() {
                for record in records where record.timestamp >= timestamp && record.offset >= logStartOffset {
                    return (record.offset, record.timestamp)
                }
                continue
            }
            // Compressed batch: records are not decompressed; answer with the batch.
            return (max(header.baseOffset, logStartOffset), header.maxTimestamp)
        }
        return nil
    }

    /// The record with the largest timestamp (ListOffsets -3, KIP-734); nil when empty.
    public func maxTimestampOffset() throws(StorageError) -> (offset: Int64, timestamp: Int64)? {
        guard let best = segments.filter({ !$0.isEmpty }).max(by: { $0.maxTimestamp < $1.maxTimestamp }),
              best.maxTimestamp >= 0
        else { return nil }
        guard let header = try best.firstBatch(withTimestampAtLeast: best.maxTimestamp) else { return nil }
        let bytes = try best.readBatch(header)
        if let batch = try? RecordBatch(bytes: bytes), let records = try? batch.records(),
           let record = records.last(where: { $0.timestamp == best.maxTimestamp }) {
            return (record.offset, record.timestamp)
        }
        return (header.lastOffset, header.maxTimestamp)
    }

    // MARK: - Retention and deletion

    /// Deletes whole segments (never the active one) whose newest record is older than
    /// `retention.ms`, then the oldest while the log exceeds `retention.bytes`; advances
    /// the log start offset. Returns how many segments were deleted.
    @discardableResult
    public func applyRetention(nowMs: Int64) throws(StorageError) -> Int {
        _ = producers.expire(idleBefore: nowMs - config.producerIdExpirationMs)
        var deleted = 0
        while segments.count > 1, let oldest = segments.first {
            let expired = config.retentionMs >= 0 && !oldest.isEmpty && nowMs - oldest.maxTimestamp > config.retentionMs
            let oversized = config.retentionBytes >= 0 && Int64(sizeInBytes - oldest.size) >= config.retentionBytes
            let belowStart = oldest.nextOffset <= logStartOffset
            guard expired || oversized || belowStart else { break }
            try oldest.delete()
            segments.removeFirst()
            deleted += 1
        }
        if let first = segments.first, first.baseOffset > logStartOffset {
            logStartOffset = first.baseOffset
        }
        return deleted
    }

    /// Advances the log start offset (DeleteRecords). `offset` -1 means the log end.
    public func deleteRecords(before offset: Int64) throws(StorageError) -> Int64 {
        let target = offset == -1 ? logEndOffset : offset
        guard target >= 0, target <= logEndOffset else {
            throw .offsetOutOfRange(requested: offset, logStart: logStartOffset, logEnd: logEndOffset)
        }
        if target > logStartOffset {
            logStartOffset = target
            try FileSystem.writeAtomically(Array(String(target).utf8), to: directory + "/" + Self.logStartFile)
            _ = try applyRetention(nowMs: Int64.min / 2)
        }
        return logStartOffset
    }

    /// Flushes and closes for a clean shutdown.
    public func close() throws(StorageError) {
        for segment in segments { try segment.sync() }
        for waiter in waiters { waiter.fire() }
        waiters.removeAll()
    }

    /// Removes the partition's files (DeleteTopics).
    public func deleteFiles() throws(StorageError) {
        for waiter in waiters { waiter.fire() }
        waiters.removeAll()
        segments.removeAll()
        try FileSystem.removeDirectory(directory)
    }
}
