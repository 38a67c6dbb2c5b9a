extension RecordBatch {
    /// Checks what a broker must check before appending: CRC-32C over the covered bytes,
    /// a positive recordsCount equal to lastOffsetDelta + 1, and, for uncompressed
    /// batches, that every record parses and fills the batch exactly. Compressed batches
    /// are checked by header and CRC only; their records are never decompressed here.
    public func validate() throws(RecordBatchError) {
        let computed = computeCRC()
        guard computed == crc else { throw .crcMismatch(stored: crc, computed: computed) }
        guard recordsCount > 0, lastOffsetDelta >= 0, Int64(recordsCount) == Int64(lastOffsetDelta) + 1 else {
            throw .invalidRecordCount(recordsCount: recordsCount, lastOffsetDelta: lastOffsetDelta)
        }
        if compression == RecordBatch.Compression.none {
            try walkRecords()
        }
    }
}
