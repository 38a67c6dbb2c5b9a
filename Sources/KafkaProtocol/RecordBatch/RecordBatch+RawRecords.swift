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
        var result: [RawRecord] = []
        result.reserveCapacity(Int(max(0, min(recordsCount, Int32(body.readableBytes)))))
        let base = body.readerIndex
        let (baseOffset, baseTimestamp) = (self.baseOffset, self.baseTimestamp)
        let failure: RecordBatchError? = body.withUnsafeReadableBytes { bytes in
            Self.walk(body: bytes, count: Int(max(0, recordsCount)), lastOffsetDelta: lastOffsetDelta, contiguous: false) { span in
                result.append(RawRecord(
                    offset: baseOffset &+ Int64(span.offsetDelta), timestamp: baseTimestamp &+ span.timestampDelta,
                    key: span.key.flatMap { body.getSlice(at: base + $0.lowerBound, length: $0.count) },
                    isTombstone: span.value == nil,
                    bytes: body.getSlice(at: base + span.bytes.lowerBound, length: span.bytes.count) ?? ByteBuffer()
                ))
            }
        }
        if let failure { throw failure }
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
        let crc = CRC32C.checksum(bytes, skipping: Self.crcStart)
        bytes.setInteger(crc, at: 17, endianness: .big)
        return (try? RecordBatch(bytes: bytes)) ?? RecordBatch(unchecked: bytes)
    }
}
