public import NIOCore

/// Accumulates an encoded Kafka message. Everything goes into `buffer`, except the
/// content of `KafkaRecords.external` fields, whose length prefix is written and
/// whose position is noted in `splices`: the IO layer sends `buffer` up to each
/// splice position, then the external bytes, then the rest (see `OutboundFrame`).
///
/// Invariant: `splices` are in ascending `position` order, and every position is a
/// writer index of `buffer` at which the external bytes belong.
public struct KafkaWriter: Sendable {
    public var buffer: ByteBuffer
    public private(set) var splices: [Splice] = []
    /// With a threshold, `.bytes` records of at least that many bytes are not copied into
    /// `buffer` either: they become splices of `attachments` (token = index), so a Fetch
    /// response goes out as the buffers it was read into (the server sets it).
    public var inlineRecordsThreshold: Int?
    /// The buffers the `.bytes` splices refer to.
    public private(set) var attachments: [ByteBuffer] = []

    /// A place in `buffer` where external record bytes belong.
    public struct Splice: Hashable, Sendable {
        public var position: Int
        public var records: ExternalRecords
    }

    public init(buffer: ByteBuffer = ByteBuffer()) {
        self.buffer = buffer
    }

    /// The frame as the buffers to send in order: `buffer` cut at each splice, with the
    /// attachment in between (slices; nothing is copied).
    public var parts: [ByteBuffer] {
        guard !splices.isEmpty else { return [buffer] }
        var parts: [ByteBuffer] = []
        var from = buffer.readerIndex
        for splice in splices {
            if let before = buffer.getSlice(at: from, length: splice.position - from), before.readableBytes > 0 { parts.append(before) }
            if attachments.indices.contains(splice.records.token) { parts.append(attachments[splice.records.token]) }
            from = splice.position
        }
        if let rest = buffer.getSlice(at: from, length: buffer.writerIndex - from), rest.readableBytes > 0 { parts.append(rest) }
        return parts
    }

    /// Total bytes of external records, which the frame length must count.
    public var externalByteCount: Int { splices.reduce(0) { $0 + $1.records.length } }

    public mutating func writeInteger<T: FixedWidthInteger>(_ value: T) {
        buffer.writeInteger(value, endianness: .big)
    }

    public mutating func writeBool(_ value: Bool) {
        buffer.writeInteger(value ? UInt8(1) : UInt8(0))
    }

    public mutating func writeFloat64(_ value: Double) {
        buffer.writeInteger(value.bitPattern, endianness: .big)
    }

    public mutating func writeUUID(_ value: KafkaUUID) {
        buffer.writeInteger(value.high, endianness: .big)
        buffer.writeInteger(value.low, endianness: .big)
    }

    public mutating func writeUnsignedVarint(_ value: UInt32) {
        buffer.writeUnsignedVarint(value)
    }

    mutating func writeLength(_ length: Int?, compact: Bool, wide: Bool) {
        if compact {
            writeUnsignedVarint(length.map { UInt32(truncatingIfNeeded: $0 + 1) } ?? 0)
        } else if wide {
            writeInteger(Int32(truncatingIfNeeded: length ?? -1))
        } else {
            writeInteger(Int16(truncatingIfNeeded: length ?? -1))
        }
    }

    public mutating func writeKafkaString(_ value: String?, compact: Bool) {
        guard let value else { return writeLength(nil, compact: compact, wide: false) }
        writeLength(value.utf8.count, compact: compact, wide: false)
        buffer.writeString(value)
    }

    public mutating func writeKafkaBytes(_ value: ByteBuffer?, compact: Bool) {
        guard let value else { return writeLength(nil, compact: compact, wide: true) }
        writeLength(value.readableBytes, compact: compact, wide: true)
        buffer.writeImmutableBuffer(value)
    }

    public mutating func writeKafkaRecords(_ value: KafkaRecords?, compact: Bool) {
        switch value {
        case nil:
            writeLength(nil, compact: compact, wide: true)
        case .bytes(let bytes):
            if let threshold = inlineRecordsThreshold, bytes.readableBytes >= threshold {
                writeLength(bytes.readableBytes, compact: compact, wide: true)
                splices.append(Splice(position: buffer.writerIndex, records: ExternalRecords(token: attachments.count, length: bytes.readableBytes)))
                attachments.append(bytes)
            } else {
                writeKafkaBytes(bytes, compact: compact)
            }
        case .external(let external):
            writeLength(external.length, compact: compact, wide: true)
            splices.append(Splice(position: buffer.writerIndex, records: external))
        }
    }

    public mutating func writeKafkaArray<Element>(
        _ value: [Element]?,
        compact: Bool,
        _ element: (inout KafkaWriter, Element) -> Void
    ) {
        guard let value else { return writeLength(nil, compact: compact, wide: true) }
        writeLength(value.count, compact: compact, wide: true)
        for item in value {
            element(&self, item)
        }
    }

    /// Writes one tagged field: tag, byte size, then what `body` writes.
    public mutating func writeTaggedField(tag: UInt32, _ body: (inout KafkaWriter) -> Void) {
        var scratch = KafkaWriter(buffer: ByteBuffer())
        body(&scratch)
        writeUnsignedVarint(tag)
        writeUnsignedVarint(UInt32(scratch.buffer.readableBytes))
        buffer.writeImmutableBuffer(scratch.buffer)
    }
}

extension ByteBuffer {
    public mutating func writeUnsignedVarint(_ value: UInt32) {
        var remaining = value
        while remaining >= 0x80 {
            writeInteger(UInt8(truncatingIfNeeded: remaining) | 0x80)
            remaining >>= 7
        }
        writeInteger(UInt8(remaining))
    }
}
