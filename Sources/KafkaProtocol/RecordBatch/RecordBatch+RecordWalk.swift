/// Where one record lies in a batch body, and its fixed fields: byte ranges relative to the
/// start of the body (its length prefix included in `bytes`). A span exists only for a
/// record the walk checked completely, header section included.
struct RecordSpan {
    var bytes: Range<Int>
    var attributes: Int8
    var timestampDelta: Int64
    var offsetDelta: Int32
    /// nil for a null key or value.
    var key: Range<Int>?
    var value: Range<Int>?
    var headerCount: Int
    /// The header section: `headerCount` (key, nullable value) pairs.
    var headers: Range<Int>
}

extension RecordBatch {
    /// The one record parser: walks `count` records in raw body bytes in a single pass,
    /// checking that every record's length covers exactly its fields, lengths are -1 or
    /// non-negative and inside the record, and that the body holds nothing after the last
    /// record. With `contiguous`, offset deltas must run 0, 1, 2… (as a producer writes
    /// them); without, they need only rise within `lastOffsetDelta` (a batch the log cleaner
    /// thinned keeps its records' original offsets). `visit` sees each record as it is
    /// checked; the answer is the first problem, or nil.
    static func walk(
        body bytes: UnsafeRawBufferPointer, count: Int, lastOffsetDelta: Int32, contiguous: Bool,
        _ visit: (RecordSpan) -> Void
    ) -> RecordBatchError? {
        guard count >= 0 else { return .invalidRecordCount(recordsCount: Int32(clamping: count), lastOffsetDelta: lastOffsetDelta) }
        var cursor = VarintCursor(bytes: bytes, position: 0)
        var previous: Int32 = -1
        // Lengths are read still zig-zag encoded (`raw & 1` is the sign, `raw >> 1` the size
        // of a non-negative one). Positions never pass `bytes.count` and lengths fit in 31
        // bits, so the position arithmetic cannot overflow and every range is ordered.
        for index in 0..<count {
            func fail(_ reason: String) -> RecordBatchError { .malformedRecord(index: index, reason: reason) }
            let start = cursor.position
            guard let rawLength = cursor.rawVarint() else { return fail("bad length varint") }
            let length = Int(rawLength >> 1)
            guard rawLength & 1 == 0, length <= cursor.end &- cursor.position else {
                return fail("length \(VarintCursor.zigzag(rawLength)) exceeds the batch")
            }
            let body = cursor.position
            let end = body &+ length
            var record = VarintCursor(bytes: bytes, position: body, end: end)
            // The attributes byte is skipped here and read below only if `visit` uses it.
            guard record.skip(1), let timestampDelta = record.varlong(), let rawOffsetDelta = record.rawVarint() else {
                return fail("truncated record header")
            }
            let offsetDelta: Int32
            if contiguous {
                // index < 2^31, so its zig-zag form is index << 1.
                offsetDelta = Int32(truncatingIfNeeded: index)
                guard rawOffsetDelta == UInt32(truncatingIfNeeded: index) << 1 else {
                    return fail("offset delta \(VarintCursor.zigzag(rawOffsetDelta)), expected \(index)")
                }
            } else {
                offsetDelta = VarintCursor.zigzag(rawOffsetDelta)
                guard offsetDelta > previous, offsetDelta <= lastOffsetDelta else {
                    return fail("offset delta \(offsetDelta) after \(previous), last \(lastOffsetDelta)")
                }
            }
            previous = offsetDelta
            guard let key = record.nullableBytes() else { return fail("bad key length") }
            guard let value = record.nullableBytes() else { return fail("bad value length") }
            guard let rawHeaderCount = record.rawVarint(), rawHeaderCount & 1 == 0,
                  Int(rawHeaderCount >> 1) <= end &- record.position else {
                return fail("bad header count")
            }
            let headerCount = Int(rawHeaderCount >> 1)
            let headersStart = record.position
            for _ in 0..<headerCount {
                guard let keyLength = record.rawVarint(), keyLength & 1 == 0, record.skip(Int(keyLength >> 1)) else {
                    return fail("bad header key")
                }
                guard record.nullableBytes() != nil else { return fail("bad header value") }
            }
            guard record.position == end else { return fail("\(end &- record.position) bytes left inside the record") }
            visit(RecordSpan(
                bytes: Range(uncheckedBounds: (start, end)), attributes: Int8(bitPattern: bytes[body]),
                timestampDelta: timestampDelta, offsetDelta: offsetDelta,
                key: key.range, value: value.range, headerCount: headerCount,
                headers: Range(uncheckedBounds: (headersStart, end))
            ))
            cursor.position = end
        }
        guard cursor.position == bytes.count else {
            return .malformedRecord(index: count, reason: "\(bytes.count - cursor.position) bytes after the last record")
        }
        return nil
    }

    /// The (key, value) ranges of a span's headers, as `walk` checked them.
    static func headerRanges(of span: RecordSpan, in bytes: UnsafeRawBufferPointer) -> [(key: Range<Int>, value: Range<Int>?)] {
        var cursor = VarintCursor(bytes: bytes, position: span.headers.lowerBound, end: span.headers.upperBound)
        var headers: [(key: Range<Int>, value: Range<Int>?)] = []
        headers.reserveCapacity(span.headerCount)
        for _ in 0..<span.headerCount {
            guard let keyLength = cursor.varint(), keyLength >= 0 else { break }
            let key = cursor.position..<cursor.position + Int(keyLength)
            guard cursor.skip(Int(keyLength)), let value = cursor.nullableBytes() else { break }
            headers.append((key, value.range))
        }
        return headers
    }

    /// Checks the structure of an uncompressed batch's records without materialising them
    /// (the produce hot path): `walk` over the body, offset deltas 0, 1, 2… Returns the
    /// largest timestamp delta of the records.
    @discardableResult
    func walkRecords() throws(RecordBatchError) -> Int64 {
        var maxDelta = Int64.min
        let failure: RecordBatchError? = buffer.withUnsafeReadableBytes { bytes in
            guard bytes.count >= RecordBatch.headerSize else {
                return .malformedRecord(index: 0, reason: "batch shorter than its header")
            }
            return Self.walk(
                body: UnsafeRawBufferPointer(rebasing: bytes[RecordBatch.headerSize...]), count: Int(recordsCount),
                lastOffsetDelta: lastOffsetDelta, contiguous: true
            ) { span in maxDelta = max(maxDelta, span.timestampDelta) }
        }
        if let failure { throw failure }
        return maxDelta
    }
}

/// Reads zig-zag varints from raw bytes within `[position, end)`; nil on overrun, and the
/// position then says nothing useful.
struct VarintCursor {
    let bytes: UnsafeRawBufferPointer
    var position: Int
    let end: Int

    init(bytes: UnsafeRawBufferPointer, position: Int, end: Int? = nil) {
        self.bytes = bytes
        self.position = position
        self.end = end ?? bytes.count
    }

    @inline(__always)
    mutating func unsigned(maxBytes: Int) -> UInt64? {
        // Nearly every varint in a record (lengths, deltas, counts) is one or two bytes.
        guard position < end else { return nil }
        let first = bytes[position]
        if first < 0x80 {
            position += 1
            return UInt64(first)
        }
        if position + 1 < end {
            let second = bytes[position + 1]
            if second < 0x80 {
                position += 2
                return UInt64(first & 0x7F) | UInt64(second) << 7
            }
        }
        return unsignedMultiByte(maxBytes: maxBytes)
    }

    mutating func unsignedMultiByte(maxBytes: Int) -> UInt64? {
        var result: UInt64 = 0
        var shift: UInt64 = 0
        for index in 0..<maxBytes {
            guard position < end else { return nil }
            let byte = bytes[position]
            position += 1
            if index == 9 && byte > 1 { return nil }
            result |= UInt64(byte & 0x7F) << shift
            if byte & 0x80 == 0 { return result }
            shift += 7
        }
        return nil
    }

    /// A varint of at most 5 bytes still zig-zag encoded, or nil when it is longer or overruns.
    @inline(__always)
    mutating func rawVarint() -> UInt32? {
        // One bounds check covers both bytes of the common one- and two-byte forms.
        if end &- position >= 2 {
            let first = UInt32(bytes[position])
            if first < 0x80 {
                position &+= 1
                return first
            }
            let second = UInt32(bytes[position &+ 1])
            if second < 0x80 {
                position &+= 2
                return (first & 0x7F) | second << 7
            }
        } else if position < end, bytes[position] < 0x80 {
            defer { position &+= 1 }
            return UInt32(bytes[position])
        }
        guard let raw = unsignedMultiByte(maxBytes: 5), raw <= UInt64(UInt32.max) else { return nil }
        return UInt32(raw)
    }

    @inline(__always)
    mutating func varint() -> Int32? {
        rawVarint().map(Self.zigzag)
    }

    @inline(__always)
    static func zigzag(_ raw: UInt32) -> Int32 {
        Int32(bitPattern: (raw >> 1) ^ (0 &- (raw & 1)))
    }

    @inline(__always)
    mutating func varlong() -> Int64? {
        guard let raw = unsigned(maxBytes: 10) else { return nil }
        return Int64(bitPattern: (raw >> 1) ^ (0 &- (raw & 1)))
    }

    @inline(__always)
    mutating func int8() -> Int8? {
        guard position < end else { return nil }
        defer { position += 1 }
        return Int8(bitPattern: bytes[position])
    }

    /// Moves past `count` bytes; false when `count` is negative or runs past `end`
    /// (`position` never passes `end`, so `end - position` cannot overflow).
    @inline(__always)
    mutating func skip(_ count: Int) -> Bool {
        guard count >= 0, count <= end &- position else { return false }
        position &+= count
        return true
    }

    /// A length-prefixed byte string that may be null (-1): its range (nil when null), or
    /// nil itself when the length is invalid or overruns.
    @inline(__always)
    mutating func nullableBytes() -> NullableRange? {
        guard let raw = rawVarint() else { return nil }
        // Zig-zag 1 is -1 (null); any other odd value is a negative length.
        if raw & 1 != 0 { return raw == 1 ? NullableRange(range: nil) : nil }
        let length = Int(raw >> 1)
        guard length <= end &- position else { return nil }
        let start = position
        position &+= length
        return NullableRange(range: Range(uncheckedBounds: (start, position)))
    }
}

/// A byte range that may stand for null.
struct NullableRange {
    var range: Range<Int>?
}
