public import NIOCore

/// Writes an uncompressed RecordBatch v2 from records. Offsets are assigned 0, 1, 2…
/// relative to `baseOffset`; timestamps are stored as deltas from the first record's.
/// The result passes `RecordBatch.validate()`.
public struct RecordBatchBuilder: Sendable {
    public var baseOffset: Int64 = 0
    public var partitionLeaderEpoch: Int32 = -1
    public var producerId: Int64 = -1
    public var producerEpoch: Int16 = -1
    public var baseSequence: Int32 = -1
    public var isTransactional = false
    /// A control batch (transaction marker); its one record is the marker.
    public var isControl = false
    public var timestampType: RecordBatch.TimestampType = .createTime

    /// A record to write: offset and timestamp deltas are computed by the builder.
    public struct Entry: Hashable, Sendable {
        public var timestamp: Int64
        public var key: ByteBuffer?
        public var value: ByteBuffer?
        public var headers: [RecordHeader]

        public init(timestamp: Int64, key: ByteBuffer?, value: ByteBuffer?, headers: [RecordHeader] = []) {
            self.timestamp = timestamp
            self.key = key
            self.value = value
            self.headers = headers
        }
    }

    public private(set) var entries: [Entry] = []

    public init() {}

    public mutating func append(_ entry: Entry) {
        entries.append(entry)
    }

    /// The encoded batch. An empty builder yields a batch with no records (which
    /// `validate()` rejects, as a broker must).
    public func build() -> RecordBatch {
        let baseTimestamp = entries.first?.timestamp ?? -1
        let maxTimestamp = entries.map(\.timestamp).max() ?? -1
        var body = ByteBuffer()
        var record = ByteBuffer()
        for (index, entry) in entries.enumerated() {
            record.clear()
            record.writeInteger(Int8(0))
            record.writeVarlong(entry.timestamp &- baseTimestamp)
            record.writeVarint(Int32(index))
            Self.writeNullable(entry.key, to: &record)
            Self.writeNullable(entry.value, to: &record)
            record.writeVarint(Int32(entry.headers.count))
            for header in entry.headers {
                record.writeVarint(Int32(header.key.utf8.count))
                record.writeString(header.key)
                Self.writeNullable(header.value, to: &record)
            }
            body.writeVarint(Int32(record.readableBytes))
            body.writeImmutableBuffer(record)
        }
        var attributes: Int16 = 0
        if timestampType == .logAppendTime { attributes |= 0x08 }
        if isTransactional { attributes |= 0x10 }
        if isControl { attributes |= 0x20 }
        var batch = ByteBuffer()
        batch.reserveCapacity(RecordBatch.headerSize + body.readableBytes)
        batch.writeInteger(baseOffset, endianness: .big)
        batch.writeInteger(Int32(RecordBatch.headerSize - RecordBatch.logOverhead + body.readableBytes), endianness: .big)
        batch.writeInteger(partitionLeaderEpoch, endianness: .big)
        batch.writeInteger(Int8(2))
        batch.writeInteger(UInt32(0), endianness: .big)
        batch.writeInteger(attributes, endianness: .big)
        batch.writeInteger(Int32(max(entries.count - 1, 0)), endianness: .big)
        batch.writeInteger(baseTimestamp, endianness: .big)
        batch.writeInteger(maxTimestamp, endianness: .big)
        batch.writeInteger(producerId, endianness: .big)
        batch.writeInteger(producerEpoch, endianness: .big)
        batch.writeInteger(baseSequence, endianness: .big)
        batch.writeInteger(Int32(entries.count), endianness: .big)
        batch.writeImmutableBuffer(body)
        let crc = CRC32C.checksum(batch, skipping: RecordBatch.crcStart)
        batch.setInteger(crc, at: 17, endianness: .big)
        // The layout above always satisfies RecordBatch's size invariant.
        return (try? RecordBatch(bytes: batch)) ?? RecordBatch(unchecked: batch)
    }

    private static func writeNullable(_ bytes: ByteBuffer?, to buffer: inout ByteBuffer) {
        guard let bytes else { return buffer.writeVarint(-1) }
        buffer.writeVarint(Int32(bytes.readableBytes))
        buffer.writeImmutableBuffer(bytes)
    }
}
