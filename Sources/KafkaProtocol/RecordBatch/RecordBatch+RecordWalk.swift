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
        var position = 0
        var previous: Int32 = -1
        // The layout of the last record read in full; runs of records alike skip the
        // field-by-field read. After four misses in a row the records are taken to differ and
        // a layout is learned only every 64th record.
        var shape = RecordShape.unknown
        var misses = 0
        for index in 0..<count {
            var span: RecordSpan
            let rawOffsetDelta: UInt32
            if let match = shape.match(in: bytes, at: position) {
                (span, rawOffsetDelta) = match
                misses = 0
            } else {
                switch ParsedRecord.read(in: bytes, at: position) {
                case .success(let record):
                    (span, rawOffsetDelta) = (record.span, record.rawOffsetDelta)
                    misses &+= 1
                    shape = misses <= 4 || index & 63 == 0 ? RecordShape(learning: record, in: bytes) : .unknown
                case .failure(let problem):
                    return .malformedRecord(index: index, reason: problem.reason)
                }
            }
            if contiguous {
                // index < 2^31, so its zig-zag form is index << 1.
                span.offsetDelta = Int32(truncatingIfNeeded: index)
                guard rawOffsetDelta == UInt32(truncatingIfNeeded: index) << 1 else {
                    return .malformedRecord(index: index, reason: "offset delta \(VarintCursor.zigzag(rawOffsetDelta)), expected \(index)")
                }
            } else {
                span.offsetDelta = VarintCursor.zigzag(rawOffsetDelta)
                guard span.offsetDelta > previous, span.offsetDelta <= lastOffsetDelta else {
                    return .malformedRecord(
                        index: index, reason: "offset delta \(span.offsetDelta) after \(previous), last \(lastOffsetDelta)"
                    )
                }
            }
            previous = span.offsetDelta
            visit(span)
            position = span.bytes.upperBound
        }
        guard position == bytes.count else {
            return .malformedRecord(index: count, reason: "\(bytes.count - position) bytes after the last record")
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
