import KafkaCompression
import KafkaProtocol
public import NIOCore

extension PartitionLog {
    /// Stored batches from `offset`, for a Fetch.
    public struct ReadResult: Sendable {
        public var records: ByteBuffer
        public var highWatermark: Int64
        public var logStartOffset: Int64
        public var lastStableOffset: Int64
        /// For a read_committed read: the aborted transactions overlapping what it returned.
        public var abortedTransactions: [AbortedTransaction] = []

        public init(records: ByteBuffer, highWatermark: Int64, logStartOffset: Int64, lastStableOffset: Int64) {
            self.records = records
            self.highWatermark = highWatermark
            self.logStartOffset = logStartOffset
            self.lastStableOffset = lastStableOffset
        }
    }

    /// The offset up to which records are served: the log end, or — once the log is
    /// offline — the last durable point (nothing unsynced is served as committed).
    public var highWatermark: Int64 { failure == nil ? logEndOffset : max(logStartOffset, min(flushedOffset, logEndOffset)) }

    /// Reads whole batches starting with the one that holds `offset`, up to `maxBytes`;
    /// the first batch is returned even when larger (Kafka's rule) if `minOneBatch`.
    /// An offset equal to the high watermark yields no records; outside
    /// [logStart, highWatermark] throws. With `committedOnly` (read_committed) nothing at or
    /// past the last stable offset is returned, and the result names the aborted
    /// transactions overlapping what is.
    public func read(from offset: Int64, maxBytes: Int, minOneBatch: Bool, committedOnly: Bool = false) throws(StorageError) -> ReadResult {
        let highWatermark = highWatermark
        let stable = lastStableOffset
        guard offset >= logStartOffset, offset <= highWatermark else {
            throw .offsetOutOfRange(requested: offset, logStart: logStartOffset, logEnd: highWatermark)
        }
        let end = committedOnly ? stable : highWatermark
        var result = ReadResult(records: ByteBuffer(), highWatermark: highWatermark, logStartOffset: logStartOffset, lastStableOffset: stable)
        guard offset < end, let index = segmentIndex(containing: offset) else { return result }
        var lastReturned: Int64 = -1
        var remaining = maxBytes
        var first = true
        for segment in segments[index...] {
            guard var read = try segment.readBatches(from: offset, below: end, maxBytes: remaining, minOneBatch: first && minOneBatch) else {
                // A compacted segment may end before the next one begins: an offset in that
                // gap is served from the next segment.
                if first && offset >= segment.nextOffset { continue }
                break
            }
            remaining -= read.bytes.readableBytes
            lastReturned = read.lastOffset
            if first {
                result.records = read.bytes
            } else {
                result.records.writeBuffer(&read.bytes)
            }
            first = false
            // Continue into the next segment only if this one was exhausted.
            if !read.reachedEnd || remaining <= 0 { break }
        }
        if committedOnly && lastReturned >= offset {
            result.abortedTransactions = abortedTransactions(from: offset, upTo: lastReturned + 1)
        }
        return result
    }

    func segmentIndex(containing offset: Int64) -> Int? {
        var low = 0
        var high = segments.count - 1
        guard high >= 0 else { return nil }
        while low < high {
            let mid = (low + high + 1) / 2
            if segments[mid].baseOffset <= offset { low = mid } else { high = mid - 1 }
        }
        return low
    }

    /// Wakes every parked long-poll Fetch (after an append, at shutdown, when offline).
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
    /// timestamp is at or after `timestamp`; nil when none is. On LogAppendTime topics the
    /// batch's append time is every record's timestamp. A segment whose max timestamp
    /// qualifies but whose matching batch is not found (index and log disagree) does not
    /// end the search: the following segments are still searched.
    public func offset(forTimestamp timestamp: Int64) throws(StorageError) -> (offset: Int64, timestamp: Int64)? {
        for segment in segments where segment.maxTimestamp >= timestamp {
            var header = try segment.firstBatch(withTimestampAtLeast: timestamp)
            while let candidate = header {
                guard candidate.lastOffset >= logStartOffset else {
                    header = try segment.nextBatch(after: candidate, withTimestampAtLeast: timestamp)
                    continue
                }
                let bytes = try segment.readBatch(candidate)
                guard let batch = try? RecordBatch(bytes: bytes) else { return nil }
                if batch.timestampType == .logAppendTime {
                    return (max(candidate.baseOffset, logStartOffset), batch.maxTimestamp)
                }
                // Compressed batches are decompressed to find the exact record.
                if let records = try? batch.decodedRecords() {
                    for record in records where record.timestamp >= timestamp && record.offset >= logStartOffset {
                        return (record.offset, record.timestamp)
                    }
                    header = try segment.nextBatch(after: candidate, withTimestampAtLeast: timestamp)
                    continue
                }
                // Records that cannot be read (a codec missing here): answer with the batch.
                return (max(candidate.baseOffset, logStartOffset), candidate.maxTimestamp)
            }
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
        if let batch = try? RecordBatch(bytes: bytes), batch.timestampType == .createTime,
           let records = try? batch.decodedRecords(),
           let record = records.last(where: { $0.timestamp == best.maxTimestamp }) {
            return (record.offset, record.timestamp)
        }
        return (header.lastOffset, header.maxTimestamp)
    }
}
