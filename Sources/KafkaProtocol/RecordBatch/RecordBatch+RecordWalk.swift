extension RecordBatch {
    /// Checks the structure of an uncompressed batch's records without materialising them:
    /// every record's length covers exactly its fields, lengths are -1 or non-negative and
    /// inside the batch, offset deltas run 0, 1, 2…, and the count matches recordsCount.
    /// Equivalent to `records()` succeeding, but allocation-free (the produce hot path).
    /// Returns the largest timestamp delta of the records.
    @discardableResult
    func walkRecords() throws(RecordBatchError) -> Int64 {
        let count = Int(recordsCount)
        var maxDelta = Int64.min
        let failure: RecordBatchError? = buffer.withUnsafeReadableBytes { bytes -> RecordBatchError? in
            var cursor = VarintCursor(bytes: bytes, position: RecordBatch.headerSize)
            for index in 0..<count {
                guard let length = cursor.varint(), length >= 0, cursor.position + Int(length) <= bytes.count else {
                    return .malformedRecord(index: index, reason: "bad record length")
                }
                let end = cursor.position + Int(length)
                var record = VarintCursor(bytes: bytes, position: cursor.position, end: end)
                guard record.skip(1), let timestampDelta = record.varlong(), let delta = record.varint() else {
                    return .malformedRecord(index: index, reason: "truncated record header")
                }
                maxDelta = max(maxDelta, timestampDelta)
                guard delta == Int32(truncatingIfNeeded: index) else {
                    return .malformedRecord(index: index, reason: "offset delta \(delta), expected \(index)")
                }
                guard record.skipNullableBytes(), record.skipNullableBytes(), let headers = record.varint(), headers >= 0 else {
                    return .malformedRecord(index: index, reason: "bad key, value or header count")
                }
                for _ in 0..<Int(headers) {
                    guard let keyLength = record.varint(), keyLength >= 0, record.skip(Int(keyLength)), record.skipNullableBytes() else {
                        return .malformedRecord(index: index, reason: "bad header")
                    }
                }
                guard record.position == end else {
                    return .malformedRecord(index: index, reason: "\(end - record.position) bytes left inside the record")
                }
                cursor.position = end
            }
            guard cursor.position == bytes.count else {
                return .malformedRecord(index: count, reason: "\(bytes.count - cursor.position) bytes after the last record")
            }
            return nil
        }
        if let failure { throw failure }
        return maxDelta
    }
}

/// Reads zig-zag varints from raw bytes within `[position, end)`; nil on overrun.
private struct VarintCursor {
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

    @inline(__always)
    mutating func varint() -> Int32? {
        guard let raw = unsigned(maxBytes: 5), raw <= UInt64(UInt32.max) else { return nil }
        let value = UInt32(raw)
        return Int32(bitPattern: (value >> 1) ^ (0 &- (value & 1)))
    }

    @inline(__always)
    mutating func varlong() -> Int64? {
        guard let raw = unsigned(maxBytes: 10) else { return nil }
        return Int64(bitPattern: (raw >> 1) ^ (0 &- (raw & 1)))
    }

    @inline(__always)
    mutating func skip(_ count: Int) -> Bool {
        guard count >= 0, position + count <= end else { return false }
        position += count
        return true
    }

    @inline(__always)
    mutating func skipNullableBytes() -> Bool {
        guard let length = varint() else { return false }
        if length == -1 { return true }
        return length >= 0 && skip(Int(length))
    }
}
