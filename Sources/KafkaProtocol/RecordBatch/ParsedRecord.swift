/// One record read field by field, any valid encoding: its span (the offset delta still
/// zig-zag encoded in `rawOffsetDelta`, for the walk to check) and where its varints begin,
/// for `RecordShape` to learn its layout. Every position is inside the body and ordered.
struct ParsedRecord {
    var span: RecordSpan
    var rawOffsetDelta: UInt32
    var timestampAt: Int
    var offsetAt: Int
    var keyLengthAt: Int
    var valueLengthAt: Int
    var headerCountAt: Int

    /// The record at `start`, or why it is malformed.
    static func read(in bytes: UnsafeRawBufferPointer, at start: Int) -> Result<ParsedRecord, RecordProblem> {
        var cursor = VarintCursor(bytes: bytes, position: start)
        // Lengths are read still zig-zag encoded (`raw & 1` is the sign, `raw >> 1` the size
        // of a non-negative one). Positions never pass `bytes.count` and lengths fit in 31
        // bits, so the position arithmetic cannot overflow and every range is ordered.
        guard let rawLength = cursor.rawVarint() else { return .failure(.init("bad length varint")) }
        let length = Int(rawLength >> 1)
        guard rawLength & 1 == 0, length <= cursor.end &- cursor.position else {
            return .failure(.init("length \(VarintCursor.zigzag(rawLength)) exceeds the batch"))
        }
        let body = cursor.position
        let end = body &+ length
        var record = VarintCursor(bytes: bytes, position: body, end: end)
        // The attributes byte is skipped here and read below.
        guard record.skip(1) else { return .failure(.init("truncated record header")) }
        let timestampAt = record.position
        guard let timestampDelta = record.varlong() else { return .failure(.init("truncated record header")) }
        let offsetAt = record.position
        guard let rawOffsetDelta = record.rawVarint() else { return .failure(.init("truncated record header")) }
        let keyLengthAt = record.position
        guard let key = record.nullableBytes() else { return .failure(.init("bad key length")) }
        let valueLengthAt = record.position
        guard let value = record.nullableBytes() else { return .failure(.init("bad value length")) }
        let headerCountAt = record.position
        guard let rawHeaderCount = record.rawVarint(), rawHeaderCount & 1 == 0,
              Int(rawHeaderCount >> 1) <= end &- record.position else {
            return .failure(.init("bad header count"))
        }
        let headerCount = Int(rawHeaderCount >> 1)
        let headersStart = record.position
        for _ in 0..<headerCount {
            guard let keyLength = record.rawVarint(), keyLength & 1 == 0, record.skip(Int(keyLength >> 1)) else {
                return .failure(.init("bad header key"))
            }
            guard record.nullableBytes() != nil else { return .failure(.init("bad header value")) }
        }
        guard record.position == end else { return .failure(.init("\(end &- record.position) bytes left inside the record")) }
        return .success(ParsedRecord(
            span: RecordSpan(
                bytes: Range(uncheckedBounds: (start, end)), attributes: Int8(bitPattern: bytes[body]),
                timestampDelta: timestampDelta, offsetDelta: 0,
                key: key.range, value: value.range, headerCount: headerCount,
                headers: Range(uncheckedBounds: (headersStart, end))
            ),
            rawOffsetDelta: rawOffsetDelta, timestampAt: timestampAt, offsetAt: offsetAt, keyLengthAt: keyLengthAt,
            valueLengthAt: valueLengthAt, headerCountAt: headerCountAt
        ))
    }
}

/// Why a record could not be read.
struct RecordProblem: Error {
    var reason: String
    init(_ reason: String) { self.reason = reason }
}
