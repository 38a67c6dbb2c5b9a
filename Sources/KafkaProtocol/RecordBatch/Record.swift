public import NIOCore

/// One record of an uncompressed batch, as slices of the batch's bytes (no copies).
/// `offset` and `timestamp` are absolute: the batch's base plus the record's deltas.
public struct Record: Hashable, Sendable {
    public var offset: Int64
    public var timestamp: Int64
    public var attributes: Int8
    public var key: ByteBuffer?
    public var value: ByteBuffer?
    public var headers: [RecordHeader]

    public init(offset: Int64, timestamp: Int64, attributes: Int8 = 0, key: ByteBuffer?, value: ByteBuffer?, headers: [RecordHeader] = []) {
        self.offset = offset
        self.timestamp = timestamp
        self.attributes = attributes
        self.key = key
        self.value = value
        self.headers = headers
    }
}

/// A record header: a UTF-8 key (never null) and an optional value.
public struct RecordHeader: Hashable, Sendable {
    public var key: String
    public var value: ByteBuffer?

    public init(key: String, value: ByteBuffer?) {
        self.key = key
        self.value = value
    }
}

extension ByteBuffer {
    /// Zig-zag varint (int32) as used inside records.
    public mutating func readVarint() -> Int32? {
        guard let raw = readVarUInt(maxBytes: 5), raw <= UInt64(UInt32.max) else { return nil }
        let value = UInt32(raw)
        return Int32(bitPattern: (value >> 1) ^ (0 &- (value & 1)))
    }

    /// Zig-zag varlong (int64) as used inside records.
    public mutating func readVarlong() -> Int64? {
        guard let raw = readVarUInt(maxBytes: 10) else { return nil }
        return Int64(bitPattern: (raw >> 1) ^ (0 &- (raw & 1)))
    }

    /// One bounds check for the whole varint (not one per byte); the reader index moves
    /// only when a complete varint was read.
    private mutating func readVarUInt(maxBytes: Int) -> UInt64? {
        let parsed: (value: UInt64, length: Int)? = withUnsafeReadableBytes { bytes in
            var cursor = VarintCursor(bytes: bytes, position: 0)
            return cursor.unsigned(maxBytes: maxBytes).map { ($0, cursor.position) }
        }
        guard let parsed else { return nil }
        moveReaderIndex(forwardBy: parsed.length)
        return parsed.value
    }

    public mutating func writeVarint(_ value: Int32) {
        writeVarlong(Int64(value))
    }

    public mutating func writeVarlong(_ value: Int64) {
        var zigzag = UInt64(bitPattern: (value << 1) ^ (value >> 63))
        while zigzag >= 0x80 {
            writeInteger(UInt8(truncatingIfNeeded: zigzag) | 0x80)
            zigzag >>= 7
        }
        writeInteger(UInt8(zigzag))
    }
}

extension RecordBatch {
    /// The records of an uncompressed batch, checked against the batch header:
    /// every record's length matches its bytes, lengths are non-negative (or -1 for
    /// null), offset deltas run 0, 1, 2…, and the count matches recordsCount.
    public func records() throws(RecordBatchError) -> [Record] {
        guard compression == RecordBatch.Compression.none else {
            throw .compressed(compression ?? .none)
        }
        let body = buffer.getSlice(at: buffer.readerIndex + Self.headerSize, length: buffer.readableBytes - Self.headerSize)
            ?? ByteBuffer()
        return try records(inBody: body, contiguous: true)
    }

    /// The records in `body` — this batch's record bytes, or their decompressed form — read
    /// against this batch's header. With `contiguous` offset deltas must run 0, 1, 2… (as a
    /// producer writes them); without, they need only rise within `lastOffsetDelta` (a batch
    /// the log cleaner has thinned keeps its records' original offsets).
    public func records(inBody body: ByteBuffer, contiguous: Bool) throws(RecordBatchError) -> [Record] {
        var records: [Record] = []
        records.reserveCapacity(min(max(Int(recordsCount), 0), body.readableBytes))
        try forEachRecord(inBody: body, contiguous: contiguous) { records.append($0) }
        return records
    }

    /// The same walk and checks as `records(inBody:contiguous:)`, handing each record to
    /// `visit` as it is read (no array of them); key, value and header values are slices
    /// of `body`.
    public func forEachRecord(inBody body: ByteBuffer, contiguous: Bool, _ visit: (Record) -> Void) throws(RecordBatchError) {
        let base = body.readerIndex
        let (baseOffset, baseTimestamp) = (self.baseOffset, self.baseTimestamp)
        func slice(_ range: Range<Int>?) -> ByteBuffer? {
            range.flatMap { body.getSlice(at: base + $0.lowerBound, length: $0.count) }
        }
        let failure: RecordBatchError? = body.withUnsafeReadableBytes { bytes in
            Self.walk(body: bytes, count: Int(recordsCount), lastOffsetDelta: lastOffsetDelta, contiguous: contiguous) { span in
                var headers: [RecordHeader] = []
                if span.headerCount > 0 {
                    headers = Self.headerRanges(of: span, in: bytes).map { key, value in
                        // Like Kafka, a header key that is not valid UTF-8 is not an error;
                        // invalid sequences become U+FFFD here.
                        RecordHeader(key: String(decoding: UnsafeRawBufferPointer(rebasing: bytes[key]), as: UTF8.self), value: slice(value))
                    }
                }
                visit(Record(
                    offset: baseOffset &+ Int64(span.offsetDelta), timestamp: baseTimestamp &+ span.timestampDelta,
                    attributes: span.attributes, key: slice(span.key), value: slice(span.value), headers: headers
                ))
            }
        }
        if let failure { throw failure }
    }
}
