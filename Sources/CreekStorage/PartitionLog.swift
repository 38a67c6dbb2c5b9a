public import KafkaProtocol
import NIOCore

/// One partition's log: an ordered list of segments in `<data>/<topic>-<partition>/`.
/// This actor is the partition's single owner: offsets are assigned and bytes appended
/// in order, with no locks shared with other partitions.
///
/// Invariants: segments are sorted by base offset and contiguous; only the last one is
/// written; `logStartOffset <= logEndOffset`; records below `logStartOffset` are never
/// served. Once a write or fsync fails the log is offline (`failure` is set): it appends
/// nothing more, acknowledges nothing more, and serves nothing above `flushedOffset`.
public actor PartitionLog {
    public nonisolated let topic: String
    public nonisolated let partition: Int32
    public nonisolated let directory: String
    nonisolated let files: any FileOperations
    public internal(set) var config: LogConfig
    var segments: [LogSegment]
    public internal(set) var logStartOffset: Int64
    let groupCommit: GroupCommit
    var waiters: [FetchWaiter] = []
    /// Offset below which everything is known to be fsynced.
    public internal(set) var flushedOffset: Int64
    /// Idempotent producers' recent batches (see `ProducerStateTable`).
    public internal(set) var producers = ProducerStateTable()
    /// The log start offset last written to `log-start-offset` (0 when never).
    var persistedLogStart: Int64 = 0
    /// Below this offset the log is compacted (`cleaner-offset-checkpoint`; nil until read).
    var cleanerCheckpoint: Int64?
    /// Why the log is offline, or nil while it serves.
    public internal(set) var failure: StorageError?
    /// Runs this actor off Swift's cooperative pool (its file I/O blocks).
    nonisolated let executor: StorageExecutor
    public nonisolated var unownedExecutor: UnownedSerialExecutor { executor.asUnownedSerialExecutor() }

    public static let logStartFile = "log-start-offset"

    public var logEndOffset: Int64 { segments.last?.nextOffset ?? logStartOffset }
    public var sizeInBytes: Int { segments.reduce(0) { $0 + $1.size } }
    public var segmentCount: Int { segments.count }
    public var isOffline: Bool { failure != nil }

    public static func directoryName(topic: String, partition: Int32) -> String { topic + "-" + String(partition) }

    /// Opens the partition directory (creating it, durably, when missing). With `recover`
    /// (after an unclean stop), the newest segment is validated and cut at the first torn
    /// or corrupt batch, then fsynced, so everything it keeps is durable.
    public init(
        topic: String, partition: Int32, dataDirectory: String, config: LogConfig,
        recover: Bool, nowMs: Int64, files: any FileOperations = PosixFileOperations()
    ) throws(StorageError) {
        self.topic = topic
        self.partition = partition
        self.directory = dataDirectory + "/" + Self.directoryName(topic: topic, partition: partition)
        self.files = files
        self.config = config
        self.groupCommit = GroupCommit(label: "\(topic)-\(partition)")
        self.executor = StorageExecutor(label: "\(topic)-\(partition)")
        try files.makeDirectoryDurably(directory)
        try SegmentSwap.recover(directory: directory, files: files)
        let bases = try files.list(directory)
            .filter { $0.hasSuffix(".log") }
            .compactMap { Int64($0.dropLast(4)) }
            .filter { $0 >= 0 }
            .sorted()
        var opened: [LogSegment] = []
        var recovered: LogSegment?
        for (index, base) in bases.enumerated() {
            // After an unclean stop only the newest segment can hold unsynced bytes:
            // older ones were fsynced when they rolled. Validate the newest in full.
            let validate = recover && index == bases.count - 1
            let segment = try LogSegment(
                directory: directory, baseOffset: base, indexIntervalBytes: config.indexIntervalBytes,
                recover: validate, nowMs: nowMs, files: files
            )
            if let previous = opened.last, previous.nextOffset != segment.baseOffset, segment.isEmpty, index == bases.count - 1 {
                // An empty trailing segment with a wrong name: drop it.
                try segment.delete()
                try files.syncDirectory(directory)
                continue
            }
            if validate {
                try segment.syncAll()
                recovered = segment
            }
            opened.append(segment)
        }
        if opened.isEmpty {
            opened.append(try LogSegment(
                directory: directory, baseOffset: 0, indexIntervalBytes: config.indexIntervalBytes, recover: false,
                nowMs: nowMs, files: files
            ))
        }
        var start = opened.first?.baseOffset ?? 0
        if let saved = try? files.readAll(directory + "/" + Self.logStartFile),
           let value = Int64(String(decoding: saved, as: UTF8.self).filter { !$0.isWhitespace }), value >= 0 {
            if let end = opened.last?.nextOffset, value > end {
                // DeleteRecords moved the start past what survived (a crash lost the tail):
                // as Kafka does, empty the log and continue at the start, so offsets below
                // it are never handed out again.
                for segment in opened { try segment.delete() }
                // The producer state those segments built is gone with them: open
                // transactions there must not pin the last stable offset.
                for name in try files.list(directory) where name.hasSuffix(".snapshot") {
                    try files.remove(directory + "/" + name)
                }
                try files.syncDirectory(directory)
                opened = [try LogSegment(
                    directory: directory, baseOffset: value, indexIntervalBytes: config.indexIntervalBytes, recover: false,
                    nowMs: nowMs, files: files
                )]
            }
            start = max(start, value)
            persistedLogStart = value
        }
        segments = opened
        logStartOffset = start
        flushedOffset = opened.last?.nextOffset ?? 0
        producers = try Self.loadProducerState(
            directory: directory, segments: opened, recovered: recovered.flatMap { segment in opened.contains { $0 === segment } ? segment : nil },
            nowMs: nowMs, files: files
        )
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

        public init(baseOffset: Int64, lastOffset: Int64, logAppendTime: Int64, logStartOffset: Int64, rejection: KafkaErrorCode? = nil) {
            self.baseOffset = baseOffset
            self.lastOffset = lastOffset
            self.logAppendTime = logAppendTime
            self.logStartOffset = logStartOffset
            self.rejection = rejection
        }
    }

    /// Appends validated batches: assigns offsets from the log end by patching each
    /// batch's baseOffset (and leader epoch 0), rolls the segment when full, old, or when
    /// the batch's offsets would not fit its 32-bit index, and writes everything with one
    /// system call. With `sync`, returns only after an fsync that covers these bytes
    /// (group commit); callers that must not hold up the next append (the Produce path)
    /// pass false and call `makeDurable(upTo:)` afterwards — also for a duplicate, whose
    /// original may not be durable yet.
    ///
    /// A full disk fails the append and leaves the log as it was; any other write failure
    /// takes the log offline.
    public func append(_ batches: [RecordBatch], nowMs: Int64, sync: Bool) async throws(StorageError) -> AppendResult {
        let result = try appendNow(batches, nowMs: nowMs)
        if sync, result.rejection == nil { try await self.sync(upTo: result.lastOffset + 1) }
        return result
    }

    /// The synchronous part of `append`: checks, offsets, roll, one write; no fsync.
    func appendNow(_ batches: [RecordBatch], nowMs: Int64) throws(StorageError) -> AppendResult {
        if let failure { throw failure }
        let stamp: Int64? = config.timestampType == .logAppendTime ? nowMs : nil
        var incoming = 0
        var span: Int64 = 0
        for batch in batches {
            incoming += batch.sizeInBytes
            span += Int64(batch.lastOffsetDelta) + 1
        }
        let base = logEndOffset
        var prepared: [PreparedBatch] = []
        prepared.reserveCapacity(batches.count)
        var table = producers
        let next: Int64
        switch table.admit(batches, from: base, nowMs: nowMs, accept: { batch, offset in
            prepared.append(PreparedBatch(batch: batch, baseOffset: offset, leaderEpoch: 0, logAppendTime: stamp))
        }) {
        case .rejected(let code):
            return AppendResult(baseOffset: -1, lastOffset: -1, logAppendTime: -1, logStartOffset: logStartOffset, rejection: code)
        case .duplicate(let first, let last):
            return AppendResult(baseOffset: first, lastOffset: last, logAppendTime: -1, logStartOffset: logStartOffset)
        case .accepted(let end):
            next = end
        }
        // Offsets do not change when a segment rolls, so the roll can follow the checks.
        try guarded { () throws(StorageError) in try rollIfNeeded(incomingBytes: incoming, incomingOffsets: span, nowMs: nowMs) }
        guard let active = segments.last else { throw .closed }
        let wasEmpty = active.isEmpty
        try guarded { () throws(StorageError) in try active.append(prepared) }
        if wasEmpty, let first = prepared.first { active.createdAtMs = first.maxTimestamp >= 0 ? first.maxTimestamp : nowMs }
        producers = table
        let result = AppendResult(baseOffset: base, lastOffset: next - 1, logAppendTime: stamp ?? -1, logStartOffset: logStartOffset)
        wakeWaiters()
        return result
    }

    /// Runs a write step; a failure other than a full disk (whose write was undone) takes
    /// the log offline.
    func guarded(_ body: () throws(StorageError) -> Void) throws(StorageError) {
        do {
            try body()
        } catch {
            if error.isOutOfSpace { throw error }
            throw takeOffline(error)
        }
    }

    /// Marks the log offline (once) and returns the error every later call gets.
    @discardableResult
    func takeOffline(_ cause: StorageError) -> StorageError {
        if let failure { return failure }
        let offline = StorageError.offline(partition: "\(topic)-\(partition)", cause: cause.description)
        failure = offline
        wakeWaiters()
        return offline
    }

    /// Fsyncs the active segment (group commit) and advances `flushedOffset` to `offset`.
    /// A failed fsync takes the log offline: its unsynced bytes may already be gone.
    func sync(upTo offset: Int64) async throws(StorageError) {
        if let failure { throw failure }
        guard flushedOffset < offset, let active = segments.last else { return }
        let end = logEndOffset
        do {
            try await groupCommit.sync(active.log)
        } catch let error as StorageError {
            throw takeOffline(error)
        } catch {
            throw takeOffline(.system(call: "fdatasync", path: active.log.path, errno: 5))
        }
        if let failure { throw failure }
        flushedOffset = max(flushedOffset, end)
    }

    /// Returns once every record below `offset` is on stable storage (group commit).
    public func makeDurable(upTo offset: Int64) async throws(StorageError) {
        try await sync(upTo: offset)
    }

    /// Fsyncs what has been appended so far (the periodic flush of `--flush os`).
    public func flush() async throws(StorageError) {
        try await sync(upTo: logEndOffset)
    }

    private func rollIfNeeded(incomingBytes: Int, incomingOffsets: Int64, nowMs: Int64) throws(StorageError) {
        guard let active = segments.last, !active.isEmpty else { return }
        let full = active.size + incomingBytes > config.segmentBytes
        let old = nowMs - active.createdAtMs >= config.segmentMs
        let overflow = active.wouldOverflow(lastOffset: active.nextOffset + incomingOffsets - 1, bytes: incomingBytes)
        guard full || old || overflow else { return }
        try roll(nowMs: nowMs)
    }

    /// Closes the active segment (fsynced with its indexes) and starts an empty one.
    /// The producer-state snapshot at the new base is written (durably) before the segment
    /// exists, so every segment but the first has one: a restart replays only the newest
    /// segment, and deleting older segments (retention, DeleteRecords) never removes
    /// batches a restart would need. If the snapshot cannot be written the log does not roll.
    func roll(nowMs: Int64) throws(StorageError) {
        guard let active = segments.last else { throw .closed }
        try active.syncAll()
        flushedOffset = max(flushedOffset, active.nextOffset)
        try writeProducerSnapshot(at: active.nextOffset)
        let segment = try LogSegment(
            directory: directory, baseOffset: active.nextOffset, indexIntervalBytes: config.indexIntervalBytes,
            recover: false, nowMs: nowMs, files: files
        )
        segments.append(segment)
    }
}
