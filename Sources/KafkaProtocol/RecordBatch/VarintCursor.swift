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
