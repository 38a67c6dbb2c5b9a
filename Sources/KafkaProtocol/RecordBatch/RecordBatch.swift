public import NIOCore

/// A zero-copy view of one RecordBatch (magic 2) held in a ByteBuffer whose readable
/// bytes are exactly the batch. Layout (offsets from the batch start, big-endian):
///
///     0 baseOffset i64 | 8 batchLength i32 | 12 partitionLeaderEpoch i32 | 16 magic i8
///     17 crc u32 (CRC-32C of bytes 21..end) | 21 attributes i16 | 23 lastOffsetDelta i32
///     27 baseTimestamp i64 | 35 maxTimestamp i64 | 43 producerId i64 | 51 producerEpoch i16
///     53 baseSequence i32 | 57 recordsCount i32 | 61 records (compressed as one block if codec != 0)
///
/// Invariant: `buffer.readableBytes == batchLength + 12` and the magic is 2 (checked by
/// `init(bytes:)`); everything else is checked by `validate()`.
public struct RecordBatch: Hashable, Sendable {
    public static let headerSize = 61
    /// Bytes before the batchLength field's coverage starts (baseOffset + batchLength).
    public static let logOverhead = 12
    static let crcStart = 21

    /// The batch's bytes.
    public private(set) var buffer: ByteBuffer

    public enum Compression: Int16, Sendable, CustomStringConvertible {
        case none = 0, gzip = 1, snappy = 2, lz4 = 3, zstd = 4
        public var description: String { ["none", "gzip", "snappy", "lz4", "zstd"][Int(rawValue)] }
    }

    public enum TimestampType: Sendable, Hashable {
        case createTime, logAppendTime
    }

    /// Views `bytes` as one batch: checks the size fields and the magic byte only.
    public init(bytes: ByteBuffer) throws(RecordBatchError) {
        guard bytes.readableBytes >= Self.headerSize else {
            throw .truncated(needed: Self.headerSize, available: bytes.readableBytes)
        }
        let start = bytes.readerIndex
        let magic = bytes.getInteger(at: start + 16, as: Int8.self) ?? -1
        guard magic == 2 else { throw .unsupportedMagic(magic) }
        let length = bytes.getInteger(at: start + 8, endianness: .big, as: Int32.self) ?? -1
        guard length >= Int32(Self.headerSize - Self.logOverhead) else { throw .invalidBatchLength(length) }
        guard Int(length) + Self.logOverhead == bytes.readableBytes else {
            throw .truncated(needed: Int(length) + Self.logOverhead, available: bytes.readableBytes)
        }
        buffer = bytes
    }

    /// For the builder only, whose output is well-formed by construction.
    init(unchecked bytes: ByteBuffer) {
        buffer = bytes
    }

    /// Takes the next batch off the front of a `records` field. Returns nil when the
    /// buffer is empty; throws on a partial or malformed batch.
    public static func next(from records: inout ByteBuffer) throws(RecordBatchError) -> RecordBatch? {
        guard records.readableBytes > 0 else { return nil }
        guard records.readableBytes >= logOverhead + 5 else {
            throw .truncated(needed: logOverhead + 5, available: records.readableBytes)
        }
        let start = records.readerIndex
        let magic = records.getInteger(at: start + 16, as: Int8.self) ?? -1
        guard magic == 2 else { throw .unsupportedMagic(magic) }
        let length = records.getInteger(at: start + 8, endianness: .big, as: Int32.self) ?? -1
        guard length >= Int32(headerSize - logOverhead) else { throw .invalidBatchLength(length) }
        let total = Int(length) + logOverhead
        guard total <= records.readableBytes, let slice = records.readSlice(length: total) else {
            throw .truncated(needed: total, available: records.readableBytes)
        }
        return try RecordBatch(bytes: slice)
    }

    /// Every batch in a `records` field, each validated.
    public static func all(in records: ByteBuffer) throws(RecordBatchError) -> [RecordBatch] {
        var remaining = records
        var batches: [RecordBatch] = []
        while let batch = try next(from: &remaining) {
            try batch.validate()
            batches.append(batch)
        }
        return batches
    }

    // MARK: - Header fields

    private func field<T: FixedWidthInteger>(_ offset: Int, as: T.Type = T.self) -> T {
        // The initializer guaranteed the 61 header bytes exist.
        buffer.getInteger(at: buffer.readerIndex + offset, endianness: .big, as: T.self) ?? 0
    }

    public var baseOffset: Int64 { field(0) }
    public var batchLength: Int32 { field(8) }
    public var partitionLeaderEpoch: Int32 { field(12) }
    public var magic: Int8 { field(16) }
    public var crc: UInt32 { field(17) }
    public var attributes: Int16 { field(21) }
    public var lastOffsetDelta: Int32 { field(23) }
    public var baseTimestamp: Int64 { field(27) }
    public var maxTimestamp: Int64 { field(35) }
    public var producerId: Int64 { field(43) }
    public var producerEpoch: Int16 { field(51) }
    public var baseSequence: Int32 { field(53) }
    public var recordsCount: Int32 { field(57) }

    /// The codec in attribute bits 0-2; nil for the unused values 5-7.
    public var compression: Compression? { Compression(rawValue: attributes & 0x07) }
    public var timestampType: TimestampType { attributes & 0x08 != 0 ? .logAppendTime : .createTime }
    public var isTransactional: Bool { attributes & 0x10 != 0 }
    public var isControl: Bool { attributes & 0x20 != 0 }
    public var hasDeleteHorizon: Bool { attributes & 0x40 != 0 }
    public var lastOffset: Int64 { baseOffset + Int64(lastOffsetDelta) }
    /// Total size in bytes, header included.
    public var sizeInBytes: Int { buffer.readableBytes }

    /// The CRC-32C of the bytes the crc field covers.
    public func computeCRC() -> UInt32 {
        let covered = buffer.getSlice(at: buffer.readerIndex + Self.crcStart, length: buffer.readableBytes - Self.crcStart)
        return covered.map(CRC32C.checksum) ?? 0
    }

    // MARK: - Patching

    /// Sets baseOffset. It lies outside the CRC, so the CRC stays valid.
    public mutating func setBaseOffset(_ offset: Int64) {
        buffer.setInteger(offset, at: buffer.readerIndex, endianness: .big)
    }

    /// Sets partitionLeaderEpoch. It lies outside the CRC, so the CRC stays valid.
    public mutating func setPartitionLeaderEpoch(_ epoch: Int32) {
        buffer.setInteger(epoch, at: buffer.readerIndex + 12, endianness: .big)
    }

    /// Marks the batch LogAppendTime with `timestamp` as maxTimestamp, as a broker does
    /// for topics with `message.timestamp.type=LogAppendTime`; rewrites the CRC.
    public mutating func setLogAppendTime(_ timestamp: Int64) {
        let start = buffer.readerIndex
        buffer.setInteger(attributes | 0x08, at: start + 21, endianness: .big)
        buffer.setInteger(timestamp, at: start + 35, endianness: .big)
        buffer.setInteger(computeCRC(), at: start + 17, endianness: .big)
    }

    /// Sets the codec bits of the attributes (for a body already in that codec); rewrites
    /// the CRC.
    public mutating func setCompression(_ codec: Compression) {
        let start = buffer.readerIndex
        buffer.setInteger((attributes & ~0x07) | codec.rawValue, at: start + 21, endianness: .big)
        buffer.setInteger(computeCRC(), at: start + 17, endianness: .big)
    }
}

extension RecordBatch {
    /// The records counted in the headers of the whole batches at the front of `records`
    /// (a Fetch response's field, which may end in a partial batch): the sum of each
    /// batch's recordsCount, control batches included. Reads headers only.
    public static func recordCount(in records: ByteBuffer) -> Int {
        var position = records.readerIndex
        let end = records.writerIndex
        var count = 0
        while end - position >= headerSize,
              let length = records.getInteger(at: position + 8, endianness: .big, as: Int32.self),
              length >= Int32(headerSize - logOverhead), end - position >= Int(length) + logOverhead {
            count += Int(records.getInteger(at: position + 57, endianness: .big, as: Int32.self) ?? 0)
            position += Int(length) + logOverhead
        }
        return count
    }
}
