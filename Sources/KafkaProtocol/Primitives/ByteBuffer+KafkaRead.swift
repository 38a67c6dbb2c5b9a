public import NIOCore

// Readers for Kafka's primitive types. Each one either consumes exactly the value's
// bytes or throws and leaves the reader index where the failed value started is not
// guaranteed: callers discard the buffer on error.

extension ByteBuffer {
    public mutating func readKafkaInteger<T: FixedWidthInteger>(as: T.Type = T.self) throws(KafkaDecodingError) -> T {
        guard let value = readInteger(endianness: .big, as: T.self) else {
            throw KafkaDecodingError(.truncated)
        }
        return value
    }

    public mutating func readKafkaBool() throws(KafkaDecodingError) -> Bool {
        let byte: UInt8 = try readKafkaInteger()
        return byte != 0
    }

    public mutating func readKafkaFloat64() throws(KafkaDecodingError) -> Double {
        let bits: UInt64 = try readKafkaInteger()
        return Double(bitPattern: bits)
    }

    public mutating func readKafkaUUID() throws(KafkaDecodingError) -> KafkaUUID {
        let high: UInt64 = try readKafkaInteger()
        let low: UInt64 = try readKafkaInteger()
        return KafkaUUID(high: high, low: low)
    }

    /// Protobuf-style unsigned varint of at most 5 bytes (32 bits).
    public mutating func readUnsignedVarint() throws(KafkaDecodingError) -> UInt32 {
        var result: UInt32 = 0
        var shift: UInt32 = 0
        while true {
            guard let byte = readInteger(as: UInt8.self) else { throw KafkaDecodingError(.truncated) }
            if shift == 28 && byte > 0x0F { throw KafkaDecodingError(.malformedVarint) }
            result |= UInt32(byte & 0x7F) << shift
            if byte & 0x80 == 0 { return result }
            shift += 7
        }
    }

    /// Length of a string, bytes or array: `nil` for null, else a count no larger than
    /// the bytes left (every element takes at least one byte), so nothing is
    /// allocated in proportion to a lying length.
    mutating func readKafkaLength(compact: Bool, wide: Bool) throws(KafkaDecodingError) -> Int? {
        let length: Int
        if compact {
            let raw = try readUnsignedVarint()
            if raw == 0 { return nil }
            length = Int(raw) - 1
        } else if wide {
            let raw: Int32 = try readKafkaInteger()
            if raw == -1 { return nil }
            length = Int(raw)
        } else {
            let raw: Int16 = try readKafkaInteger()
            if raw == -1 { return nil }
            length = Int(raw)
        }
        guard length >= 0 else { throw KafkaDecodingError(.invalidLength(Int64(length))) }
        guard length <= readableBytes else { throw KafkaDecodingError(.invalidLength(Int64(length))) }
        return length
    }

    public mutating func readKafkaNullableString(compact: Bool, nullable: Bool = true) throws(KafkaDecodingError) -> String? {
        guard let length = try readKafkaLength(compact: compact, wide: false) else {
            if nullable { return nil }
            throw KafkaDecodingError(.unexpectedNull)
        }
        guard let string = (try? readUTF8ValidatedString(length: length)) ?? nil else {
            throw KafkaDecodingError(.invalidUTF8)
        }
        return string
    }

    public mutating func readKafkaString(compact: Bool) throws(KafkaDecodingError) -> String {
        guard let string = try readKafkaNullableString(compact: compact, nullable: false) else {
            throw KafkaDecodingError(.unexpectedNull)
        }
        return string
    }

    /// Reads bytes as a slice of this buffer (no copy).
    public mutating func readKafkaNullableBytes(compact: Bool, nullable: Bool = true) throws(KafkaDecodingError) -> ByteBuffer? {
        guard let length = try readKafkaLength(compact: compact, wide: true) else {
            if nullable { return nil }
            throw KafkaDecodingError(.unexpectedNull)
        }
        guard let slice = readSlice(length: length) else { throw KafkaDecodingError(.truncated) }
        return slice
    }

    public mutating func readKafkaBytes(compact: Bool) throws(KafkaDecodingError) -> ByteBuffer {
        guard let bytes = try readKafkaNullableBytes(compact: compact, nullable: false) else {
            throw KafkaDecodingError(.unexpectedNull)
        }
        return bytes
    }

    public mutating func readKafkaNullableRecords(compact: Bool, nullable: Bool = true) throws(KafkaDecodingError) -> KafkaRecords? {
        try readKafkaNullableBytes(compact: compact, nullable: nullable).map { .bytes($0) }
    }

    public mutating func readKafkaRecords(compact: Bool) throws(KafkaDecodingError) -> KafkaRecords {
        .bytes(try readKafkaBytes(compact: compact))
    }

    public mutating func readKafkaNullableArray<Element>(
        compact: Bool,
        nullable: Bool = true,
        _ element: (inout ByteBuffer) throws(KafkaDecodingError) -> Element
    ) throws(KafkaDecodingError) -> [Element]? {
        guard let count = try readKafkaLength(compact: compact, wide: true) else {
            if nullable { return nil }
            throw KafkaDecodingError(.unexpectedNull)
        }
        // `count` is bounded by the bytes present, but an element in memory can be far larger
        // than on the wire: reserve a little and let the array grow with what decodes.
        var elements: [Element] = []
        elements.reserveCapacity(Swift.min(count, 64))
        for _ in 0..<count {
            elements.append(try element(&self))
        }
        return elements
    }

    public mutating func readKafkaArray<Element>(
        compact: Bool,
        _ element: (inout ByteBuffer) throws(KafkaDecodingError) -> Element
    ) throws(KafkaDecodingError) -> [Element] {
        guard let elements = try readKafkaNullableArray(compact: compact, nullable: false, element) else {
            throw KafkaDecodingError(.unexpectedNull)
        }
        return elements
    }

    /// The int8 marker before a nullable struct: true when a value follows.
    public mutating func readKafkaStructPresence() throws(KafkaDecodingError) -> Bool {
        let marker: Int8 = try readKafkaInteger()
        switch marker {
        case -1: return false
        case 1: return true
        default: throw KafkaDecodingError(.invalidStructMarker(marker))
        }
    }

    /// Reads one tagged field's header and returns its tag and its value bytes as a slice.
    public mutating func readKafkaTaggedField() throws(KafkaDecodingError) -> (tag: UInt32, value: ByteBuffer) {
        let tag = try readUnsignedVarint()
        let size = Int(try readUnsignedVarint())
        guard size <= readableBytes, let value = readSlice(length: size) else {
            throw KafkaDecodingError(.invalidLength(Int64(size)))
        }
        return (tag, value)
    }

    /// Skips a whole tagged-field section (used where no tags are known).
    public mutating func skipKafkaTaggedFields() throws(KafkaDecodingError) {
        var count = try readUnsignedVarint()
        while count > 0 {
            count -= 1
            _ = try readKafkaTaggedField()
        }
    }
}
