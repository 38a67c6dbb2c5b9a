import KafkaCompression
import KafkaProtocol
import NIOCore

/// What one cleaning pass did (for logs, metrics and the benchmark).
public struct CleaningResult: Sendable {
    public var segmentsRewritten = 0
    public var segmentsRemoved = 0
    public var bytesRead = 0
    public var bytesWritten = 0
    public var recordsRemoved = 0
    /// Batches kept whole because their records could not be read (e.g. a missing codec).
    public var unreadableBatches: [String] = []
    /// The offset below which the log is now compacted (the next pass's dirty start).
    public var cleanedUpTo: Int64 = 0

    public init() {}
}

/// Log compaction (`cleanup.policy=compact`), Kafka's way: a pass maps each key of the
/// dirty part of the log — closed segments from the cleaner checkpoint up to the first
/// uncleanable offset (the active segment, an open transaction, or `min.compaction.lag.ms`)
/// — to its latest offset, then rewrites every closed segment below that point keeping only
/// what `CompactionFilter` keeps. Offsets never change; gaps appear. The pass runs on a
/// cleaner thread: it holds the partition only to read one window of a segment at a time
/// and to swap one rewritten segment in (`SegmentSwap`), so produce and fetch wait at most
/// that long.
extension PartitionLog {
    static let checkpointFile = "cleaner-offset-checkpoint"

    struct CleaningPlan: Sendable {
        struct Segment: Sendable {
            var base: Int64
            var size: Int
        }
        var segments: [Segment]
        /// Index in `segments` of the first segment with uncleaned records.
        var firstDirty: Int
        var checkpoint: Int64
        var end: Int64
        var aborted: [AbortedTransaction]
        var config: LogConfig
    }

    /// The pass to run now, or nil when the log is not compacted or not dirty enough.
    func planCleaning(nowMs: Int64, force: Bool) throws(StorageError) -> CleaningPlan? {
        if let failure { throw failure }
        guard config.cleanupPolicy.contains(.compact), segments.count > 1, let active = segments.last else { return nil }
        let checkpoint = cleanerCheckpoint ?? readCleanerCheckpoint()
        cleanerCheckpoint = checkpoint
        var end = active.baseOffset
        if let unstable = producers.firstUnstableOffset { end = min(end, unstable) }
        if config.minCompactionLagMs > 0, let young = segments.first(where: { $0.maxTimestamp > nowMs - config.minCompactionLagMs }) {
            end = min(end, young.baseOffset)
        }
        let closed = segments.dropLast().prefix { $0.nextOffset <= end }
        guard !closed.isEmpty else { return nil }
        // With nothing dirty, only a forced pass runs (it still expires tombstones).
        let firstDirty = closed.firstIndex { $0.nextOffset > checkpoint && !$0.isEmpty } ?? closed.endIndex
        guard force || firstDirty < closed.endIndex else { return nil }
        let total = closed.reduce(0) { $0 + $1.size }
        let dirty = closed[firstDirty...].reduce(0) { $0 + $1.size }
        let overdue = firstDirty < closed.endIndex && config.maxCompactionLagMs < Int64.max && closed[firstDirty].maxTimestamp >= 0
            && nowMs - closed[firstDirty].maxTimestamp > config.maxCompactionLagMs
        guard force || overdue || (total > 0 && Double(dirty) / Double(total) >= config.minCleanableDirtyRatio) else { return nil }
        return CleaningPlan(
            segments: closed.map { CleaningPlan.Segment(base: $0.baseOffset, size: $0.size) },
            firstDirty: firstDirty - closed.startIndex, checkpoint: checkpoint, end: end,
            aborted: abortedTransactions(from: closed.first?.baseOffset ?? 0, upTo: end), config: config
        )
    }

    private func readCleanerCheckpoint() -> Int64 {
        guard let bytes = try? files.readAll(directory + "/" + Self.checkpointFile),
              let value = Int64(String(decoding: bytes, as: UTF8.self).filter { !$0.isWhitespace })
        else { return 0 }
        return value
    }

    /// Runs one pass when the log needs it (or always with `force`). Nil when there was
    /// nothing to do or the log changed under the pass (retention deleted a segment it was
    /// reading); the next pass starts over.
    public nonisolated func clean(
        nowMs: Int64, throttle: CleanerThrottle? = nil, dedupeBufferBytes: Int = 128 << 20, force: Bool = false
    ) throws(StorageError) -> CleaningResult? {
        guard let plan = try inPlace({ log throws(StorageError) in try log.planCleaning(nowMs: nowMs, force: force) }) else { return nil }
        var result = CleaningResult()
        var map = KeyOffsetMap(budget: dedupeBufferBytes)
        let skip = CompactionFilter(map: map, aborted: plan.aborted, horizonMs: Int64.min)
        var mappedUpTo = max(plan.end, plan.checkpoint)
        mapping: for segment in plan.segments[plan.firstDirty...] {
            var full = false
            let present = try forEachBatch(of: segment, throttle: throttle, bytesRead: &result.bytesRead) { batch in
                guard !full, !batch.isControl, !skip.isAbortedData(batch), batch.lastOffset >= plan.checkpoint else { return }
                if let stop = map.insertKeys(of: batch, from: plan.checkpoint) {
                    full = true
                    mappedUpTo = stop
                }
            }
            guard present else { return nil }
            if full { break mapping }
        }
        let filter = CompactionFilter(map: map, aborted: plan.aborted, horizonMs: nowMs - plan.config.deleteRetentionMs)
        let staging = SegmentSwap.staging(directory)
        for segment in plan.segments {
            guard try rewrite(segment, with: filter, plan: plan, staging: staging, nowMs: nowMs, throttle: throttle, result: &result) else {
                return nil
            }
        }
        try files.writeAtomically(Array(String(mappedUpTo).utf8), to: directory + "/" + Self.checkpointFile)
        let cleaned = mappedUpTo
        try inPlace { log in log.cleanerCheckpoint = cleaned }
        result.cleanedUpTo = mappedUpTo
        return result
    }

    /// Copies `segment` into the staging directory through `filter`, then swaps it in.
    /// False when the segment is no longer the one planned.
    private nonisolated func rewrite(
        _ segment: CleaningPlan.Segment, with filter: CompactionFilter, plan: CleaningPlan, staging: String,
        nowMs: Int64, throttle: CleanerThrottle?, result: inout CleaningResult
    ) throws(StorageError) -> Bool {
        try files.makeDirectoryDurably(staging)
        for name in try files.list(staging) { try files.remove(staging + "/" + name) }
        let copy = try LogSegment(
            directory: staging, baseOffset: segment.base, indexIntervalBytes: plan.config.indexIntervalBytes,
            recover: false, nowMs: nowMs, files: files
        )
        var pending: [PreparedBatch] = []
        var pendingBytes = 0
        var changed = false
        func flush() throws(StorageError) {
            guard !pending.isEmpty else { return }
            try copy.append(pending)
            throttle?.take(pendingBytes)
            result.bytesWritten += pendingBytes
            pending.removeAll(keepingCapacity: true)
            pendingBytes = 0
        }
        var failure: StorageError?
        var bytesRead = 0
        defer { result.bytesRead += bytesRead }
        let present = try forEachBatch(of: segment, throttle: throttle, bytesRead: &bytesRead) { batch in
            guard failure == nil else { return }
            var kept: RecordBatch?
            do {
                let (verdict, removed) = try filter.judge(batch)
                result.recordsRemoved += removed
                switch verdict {
                case .keepWhole: kept = batch
                case .drop: changed = true
                case .rewrite(let thinner):
                    kept = thinner
                    changed = true
                }
            } catch {
                result.unreadableBatches.append("offset \(batch.baseOffset): \(error)")
                kept = batch
            }
            guard let kept else { return }
            pending.append(PreparedBatch(batch: kept, baseOffset: kept.baseOffset, leaderEpoch: kept.partitionLeaderEpoch, logAppendTime: nil))
            pendingBytes += kept.sizeInBytes
            if pendingBytes >= 1 << 20 {
                do throws(StorageError) { try flush() } catch { failure = error }
            }
        }
        if let failure { throw failure }
        guard present else { return false }
        guard changed else { return true }
        try flush()
        let aborts = try inPlace { log in log.segments.first { $0.baseOffset == segment.base }?.transactions.entries ?? [] }
        try copy.transactions.replace(with: aborts)
        try copy.syncAll()
        try files.syncDirectory(staging)
        let empty = copy.isEmpty
        let installed = try inPlace { log throws(StorageError) -> CleaningResult? in
            var counts = CleaningResult()
            return try log.install(copyOf: segment, empty: empty, nowMs: nowMs, result: &counts) ? counts : nil
        }
        guard let installed else { return false }
        result.segmentsRewritten += installed.segmentsRewritten
        result.segmentsRemoved += installed.segmentsRemoved
        return true
    }

    /// Swaps the staged copy of `planned` in (or, when the copy is empty and another segment
    /// precedes it, deletes the segment). False when the segment changed since it was planned.
    private func install(copyOf planned: CleaningPlan.Segment, empty: Bool, nowMs: Int64, result: inout CleaningResult) throws(StorageError) -> Bool {
        guard let index = segments.firstIndex(where: { $0.baseOffset == planned.base }), index < segments.count - 1,
              segments[index].size == planned.size
        else { return false }
        try guarded { () throws(StorageError) in
            // The first segment stays even when empty: it keeps the log start where it was
            // (Kafka's cleaner never moves it either).
            if empty && index > 0 {
                try segments[index].delete()
                segments.remove(at: index)
                try files.syncDirectory(directory)
                result.segmentsRemoved += 1
            } else {
                try SegmentSwap.install(base: planned.base, directory: directory, files: files)
                segments[index] = try LogSegment(
                    directory: directory, baseOffset: planned.base, indexIntervalBytes: config.indexIntervalBytes,
                    recover: false, nowMs: nowMs, files: files
                )
                result.segmentsRewritten += 1
            }
        }
        return true
    }

    /// Calls `visit` with each batch of the planned segment, reading it a window at a time
    /// under the partition's lock. False when the segment is gone or changed.
    private nonisolated func forEachBatch(
        of segment: CleaningPlan.Segment, throttle: CleanerThrottle?, bytesRead: inout Int,
        _ visit: (RecordBatch) -> Void
    ) throws(StorageError) -> Bool {
        var position = 0
        var length = 1 << 20
        while position < segment.size {
            let wanted = length
            let at = position
            guard let window = try inPlace({ log throws(StorageError) -> ByteBuffer? in
                guard let current = log.segments.dropLast().first(where: { $0.baseOffset == segment.base }),
                      current.size == segment.size
                else { return nil }
                return try current.log.read(at: at, length: wanted)
            }) else { return false }
            throttle?.take(window.readableBytes)
            bytesRead += window.readableBytes
            var consumed = 0
            length = 1 << 20
            while let headerBytes = window.getSlice(at: window.readerIndex + consumed, length: min(RecordBatch.headerSize, window.readableBytes - consumed)),
                  let header = BatchHeader(position: position + consumed, headerBytes: headerBytes) {
                guard consumed + header.size <= window.readableBytes else {
                    length = max(length, header.size)
                    break
                }
                guard let bytes = window.getSlice(at: window.readerIndex + consumed, length: header.size),
                      let batch = try? RecordBatch(bytes: bytes)
                else { throw .corruptSegment(path: directory + "/" + LogSegment.fileName(segment.base, ".log"), position: position + consumed) }
                visit(batch)
                consumed += header.size
            }
            if consumed == 0 && length == 1 << 20 {
                throw .corruptSegment(path: directory + "/" + LogSegment.fileName(segment.base, ".log"), position: position)
            }
            position += consumed
        }
        return true
    }
}
