public import KafkaProtocol
import KafkaCompression
public import NIOCore

/// The latest offset of each key in the dirty part of a compacted log, bounded in memory
/// like Kafka's `log.cleaner.dedupe.buffer.size`: each key costs its bytes plus a fixed
/// overhead, and `insert` refuses a new key once the budget is spent (the pass then cleans
/// only up to where the map is complete). Keys are compared byte for byte, so two keys can
/// never be confused.
public struct KeyOffsetMap: Sendable {
    static let entryOverhead = 48
    private(set) var latest: [[UInt8]: Int64] = [:]
    private(set) var bytesUsed = 0
    let budget: Int

    public init(budget: Int) {
        self.budget = budget
    }

    /// Records `offset` as the latest for `key`; false when a new key does not fit.
    public mutating func insert(_ key: ByteBuffer, offset: Int64) -> Bool {
        let bytes = Array(key.readableBytesView)
        if let known = latest[bytes] {
            if offset > known { latest[bytes] = offset }
            return true
        }
        guard bytesUsed + bytes.count + Self.entryOverhead <= budget else { return false }
        bytesUsed += bytes.count + Self.entryOverhead
        latest[bytes] = offset
        return true
    }

    /// The latest offset seen for `key`, nil when the key is not in the mapped range.
    public func offset(of key: ByteBuffer) -> Int64? {
        latest[Array(key.readableBytesView)]
    }

    /// Maps the keys of `batch`'s records at or after `from` (none for a batch whose records
    /// cannot be read). Returns the offset of the first record whose key did not fit — the
    /// map is complete only below it — or nil when all fit.
    public mutating func insertKeys(of batch: RecordBatch, from: Int64) -> Int64? {
        guard let records = try? batch.decodedRawRecords() else { return nil }
        for record in records where record.offset >= from {
            guard let key = record.key else { continue }
            if !insert(key, offset: record.offset) { return record.offset }
        }
        return nil
    }
}
