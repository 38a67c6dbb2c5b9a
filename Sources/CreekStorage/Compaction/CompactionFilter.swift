public import KafkaCompression
public import KafkaProtocol

/// Kafka's compaction rules for one cleaning pass, batch by batch: a keyed record is kept
/// when it is the latest for its key in the mapped range (or its key is not mapped); a
/// tombstone is dropped once its batch is older than `delete.retention.ms`; records without
/// a key are dropped; data of aborted transactions is dropped, and so, after
/// `delete.retention.ms`, is their abort marker; commit markers stay. A batch whose records
/// cannot be read (a codec missing here) is kept whole and reported.
public struct CompactionFilter {
    public enum Verdict {
        case keepWhole
        case drop
        case rewrite(RecordBatch)
    }

    let map: KeyOffsetMap
    /// Aborted ranges (first offset through abort marker) by producer id.
    let aborted: [Int64: [ClosedRange<Int64>]]
    /// Tombstones and abort markers in batches whose max timestamp is below this go.
    let horizonMs: Int64

    public init(map: KeyOffsetMap, aborted: [AbortedTransaction], horizonMs: Int64) {
        self.map = map
        self.horizonMs = horizonMs
        var ranges: [Int64: [ClosedRange<Int64>]] = [:]
        for entry in aborted { ranges[entry.producerId, default: []].append(entry.firstOffset...entry.lastOffset) }
        self.aborted = ranges
    }

    /// True for transactional data of a transaction that was aborted.
    public func isAbortedData(_ batch: RecordBatch) -> Bool {
        guard batch.isTransactional, !batch.isControl, let ranges = aborted[batch.producerId] else { return false }
        return ranges.contains { $0.contains(batch.baseOffset) }
    }

    /// What to do with `batch`, and how many records it loses.
    public func judge(_ batch: RecordBatch) throws(BatchDecodeError) -> (Verdict, removed: Int) {
        if batch.isControl {
            if let marker = TransactionMarker(controlBatch: batch), !marker.commit, batch.maxTimestamp < horizonMs {
                return (.drop, 1)
            }
            return (.keepWhole, 0)
        }
        if isAbortedData(batch) { return (.drop, Int(batch.recordsCount)) }
        let records = try batch.decodedRawRecords()
        let kept = records.filter { keeps($0, in: batch.maxTimestamp) }
        if kept.count == records.count { return (.keepWhole, 0) }
        if kept.isEmpty { return (.drop, records.count) }
        return (.rewrite(try batch.keeping(kept)), records.count - kept.count)
    }

    private func keeps(_ record: RawRecord, in batchMaxTimestamp: Int64) -> Bool {
        guard let key = record.key else { return false }
        if let latest = map.offset(of: key), record.offset < latest { return false }
        return !(record.isTombstone && batchMaxTimestamp < horizonMs)
    }
}
