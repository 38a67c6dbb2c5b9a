public import NIOCore

/// One record's stored bytes (its length prefix included, exactly as in the batch body),
/// with what the log cleaner judges it by. Copying `bytes` into a batch with the same base
/// offset and base timestamp keeps the record's offset and timestamp.
public struct RawRecord: Sendable {
    public var offset: Int64
    public var timestamp: Int64
    public var key: ByteBuffer?
    /// A null value: a tombstone on a compacted topic.
    public var isTombstone: Bool
    public var bytes: ByteBuffer
}

extension RecordBatch {
    /// The records of `body` (this batch's record bytes, decompressed when needed), each
    /// with its stored bytes. Offsets must rise (a thinned batch has gaps).
    public func rawRecords(inBody body: ByteBuffer) throws(RecordBatchError) -> [RawRecord] {
        var body = body
        var result: [RawRecord] = []
        result.reserveCapacity(Int(max(0, min(recordsCount, Int32(body.readableBytes)))))
        var previous: Int32 = -1
        for index in 0..<Int(max(0, recordsCount)) {
            let before = body
            let record = try Self.readRecord(from: &body, index: index, base: self, after: previous)
            previous = Int32(truncatingIfNeeded: record.offset &- baseOffset)
            // (get* answers nil before the reader index, so slice the copy taken before.)
            let bytes = before.getSlice(at: before.readerIndex, length: body.readerIndex - before.readerIndex) ?? ByteBuffer()
            result.append(RawRecord(offset: record.offset, timestamp: record.timestamp, key: record.key, isTombstone: record.value == nil, bytes: bytes))
        }
        guard body.readableBytes == 0 else {
            throw .malformedRecord(index: Int(recordsCount), reason: "\(body.readableBytes) bytes after the last record")
        }
        return result
    }

    /// The record bytes after the 61-byte header (compressed when the batch is).
    public var body: ByteBuffer {
        buffer.getSlice(at: buffer.readerIndex + Self.headerSize, length: buffer.readableBytes - Self.headerSize) ?? ByteBuffer()
    }

    /// This batch with `body` (already in the batch's codec) holding `count` records:
    /// every other header field kept — base offset, last offset delta, timestamps,
    /// producer id, epoch and sequence, attributes — and the length and CRC recomputed.
    public func replacingBody(_ body: ByteBuffer, count: Int32) -> RecordBatch {
        var bytes = ByteBuffer()
        bytes.reserveCapacity(Self.headerSize + body.readableBytes)
        var header = buffer.getSlice(at: buffer.readerIndex, length: Self.headerSize) ?? ByteBuffer()
        bytes.writeBuffer(&header)
        bytes.writeImmutableBuffer(body)
        bytes.setInteger(Int32(Self.headerSize - Self.logOverhead + body.readableBytes), at: 8, endianness: .big)
        bytes.setInteger(count, at: 57, endianness: .big)
        let covered = bytes.getSlice(at: Self.crcStart, length: bytes.readableBytes - Self.crcStart) ?? ByteBuffer()
        bytes.setInteger(CRC32C.checksum(covered), at: 17, endianness: .big)
        return (try? RecordBatch(bytes: bytes)) ?? RecordBatch(unchecked: bytes)
    }
}
