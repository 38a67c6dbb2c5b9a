extension RecordBatch {
    /// A compressed batch may claim at most this many records per byte of its compressed
    /// payload. A record is at least 7 bytes before compression and deflate cannot shrink
    /// data more than about 1032:1, so real batches stay far below; a batch claiming 2^31
    /// records in a few bytes is refused instead of advancing the log by 2^31 offsets.
    public static let maxRecordsPerCompressedByte = 150

    /// Checks what a broker must check before appending: CRC-32C over the covered bytes,
    /// a positive recordsCount equal to lastOffsetDelta + 1, timestamps that agree with
    /// each other (maxTimestamp is baseTimestamp plus the largest record delta for an
    /// uncompressed CreateTime batch, and never below baseTimestamp), and, for uncompressed
    /// batches, that every record parses and fills the batch exactly. Compressed batches
    /// are checked by header and CRC, with the record count bounded by their size; their
    /// records are never decompressed here.
    public func validate() throws(RecordBatchError) {
        let computed = computeCRC()
        guard computed == crc else { throw .crcMismatch(stored: crc, computed: computed) }
        guard recordsCount > 0, lastOffsetDelta >= 0, Int64(recordsCount) == Int64(lastOffsetDelta) + 1 else {
            throw .invalidRecordCount(recordsCount: recordsCount, lastOffsetDelta: lastOffsetDelta)
        }
        guard maxTimestamp >= baseTimestamp else {
            throw .inconsistentHeader("maxTimestamp \(maxTimestamp) is before baseTimestamp \(baseTimestamp)")
        }
        if compression == RecordBatch.Compression.none {
            let maxDelta = try walkRecords()
            let (expected, overflow) = baseTimestamp.addingReportingOverflow(maxDelta)
            if timestampType == .createTime && (overflow || expected != maxTimestamp) {
                throw .inconsistentHeader("maxTimestamp \(maxTimestamp) is not the records' largest timestamp \(overflow ? "(overflow)" : String(expected))")
            }
        } else {
            let payload = sizeInBytes - Self.headerSize
            guard Int(recordsCount) <= max(1, payload) * Self.maxRecordsPerCompressedByte else {
                throw .inconsistentHeader("\(recordsCount) records cannot fit in \(payload) compressed bytes")
            }
        }
    }
}
