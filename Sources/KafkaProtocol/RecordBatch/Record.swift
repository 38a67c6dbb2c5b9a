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
            var result: UInt64 = 0
            var shift: UInt64 = 0
            for index in 0..<min(maxBytes, bytes.count) {
                let byte = bytes[index]
                if index == 9 && byte > 1 { return nil }
                result |= UInt64(byte & 0x7F) << shift
                if byte & 0x80 == 0 { return (result, index + 1) }
                shift += 7
            }
            return nil
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
    /// `visit` as it is read (no array of them).
    public func forEachRecord(inBody body: ByteBuffer, contiguous: Bool, _ visit: (Record) -> Void) throws(RecordBatchError) {
        let count = Int(recordsCount)
        guard count >= 0 else { throw .invalidRecordCount(recordsCount: recordsCount, lastOffsetDelta: lastOffsetDelta) }
        var body = body
        var previous: Int32 = -1
        for index in 0..<count {
            let record = try Self.readRecord(from: &body, index: index, base: self, after: contiguous ? nil : previous)
            previous = Int32(truncatingIfNeeded: record.offset &- baseOffset)
            visit(record)
        }
        guard body.readableBytes == 0 else {
            throw .malformedRecord(index: count, reason: "\(body.readableBytes) bytes after the last record")
        }
    }

    static func readRecord(
        from body: inout ByteBuffer, index: Int, base: RecordBatch, after previous: Int32?
    ) throws(RecordBatchError) -> Record {
        func fail(_ reason: String) -> RecordBatchError { .malformedRecord(index: index, reason: reason) }
        guard let length = body.readVarint() else { throw fail("bad length varint") }
        guard length >= 0, Int(length) <= body.readableBytes, var record = body.readSlice(length: Int(length)) else {
            throw fail("length \(length) exceeds the batch")
        }
        guard let attributes = record.readInteger(as: Int8.self),
              let timestampDelta = record.readVarlong(),
              let offsetDelta = record.readVarint()
        else { throw fail("truncated record header") }
        if let previous {
            guard offsetDelta > previous, offsetDelta <= base.lastOffsetDelta else {
                throw fail("offset delta \(offsetDelta) after \(previous), last \(base.lastOffsetDelta)")
            }
        } else if offsetDelta != Int32(truncatingIfNeeded: index) {
            throw fail("offset delta \(offsetDelta), expected \(index)")
        }
        let key = try readNullableBytes(from: &record, what: "key", fail: fail)
        let value = try readNullableBytes(from: &record, what: "value", fail: fail)
        guard let headerCount = record.readVarint(), headerCount >= 0, Int(headerCount) <= record.readableBytes else {
            throw fail("bad header count")
        }
        var headers: [RecordHeader] = []
        headers.reserveCapacity(Int(headerCount))
        for _ in 0..<Int(headerCount) {
            // Like Kafka, a header key that is not valid UTF-8 is not an error; invalid
            // sequences become U+FFFD here.
            guard let keyLength = record.readVarint(), keyLength >= 0, Int(keyLength) <= record.readableBytes,
                  let keyBytes = record.readSlice(length: Int(keyLength))
            else { throw fail("bad header key") }
            let headerKey = String(decoding: keyBytes.readableBytesView, as: UTF8.self)
            let headerValue = try readNullableBytes(from: &record, what: "header value", fail: fail)
            headers.append(RecordHeader(key: headerKey, value: headerValue))
        }
        guard record.readableBytes == 0 else { throw fail("\(record.readableBytes) bytes left inside the record") }
        return Record(
            offset: base.baseOffset &+ Int64(offsetDelta),
            timestamp: base.baseTimestamp &+ timestampDelta,
            attributes: attributes,
            key: key,
            value: value,
            headers: headers
        )
    }

    private static func readNullableBytes(
        from record: inout ByteBuffer, what: String, fail: (String) -> RecordBatchError
    ) throws(RecordBatchError) -> ByteBuffer? {
        guard let length = record.readVarint() else { throw fail("bad \(what) length") }
        if length == -1 { return nil }
        guard length >= 0, Int(length) <= record.readableBytes, let bytes = record.readSlice(length: Int(length)) else {
            throw fail("\(what) length \(length) is invalid")
        }
        return bytes
    }
}
