/// Why bytes are not an acceptable RecordBatch. At the protocol edge these map to
/// CORRUPT_MESSAGE (bad CRC, lengths, records) or UNSUPPORTED_FOR_MESSAGE_FORMAT (magic 0/1).
public enum RecordBatchError: Error, Hashable, Sendable, CustomStringConvertible {
    /// Fewer bytes than the 61-byte header, or than batchLength says.
    case truncated(needed: Int, available: Int)
    /// batchLength is smaller than the header or otherwise impossible.
    case invalidBatchLength(Int32)
    /// Magic 0 or 1 (legacy message sets) or an unknown magic.
    case unsupportedMagic(Int8)
    /// The stored CRC does not match the bytes.
    case crcMismatch(stored: UInt32, computed: UInt32)
    /// recordsCount is not positive or disagrees with lastOffsetDelta.
    case invalidRecordCount(recordsCount: Int32, lastOffsetDelta: Int32)
    /// A record inside an uncompressed batch is malformed.
    case malformedRecord(index: Int, reason: String)
    /// The records of a compressed batch cannot be iterated without decompressing.
    case compressed(RecordBatch.Compression)
    /// The header contradicts itself or the records (timestamps, an impossible count).
    case inconsistentHeader(String)

    public var description: String {
        switch self {
        case .inconsistentHeader(let reason):
            return "record batch header is inconsistent: \(reason)"
        case .truncated(let needed, let available):
            return "record batch truncated: needs \(needed) bytes, has \(available)"
        case .invalidBatchLength(let length):
            return "record batch length \(length) is invalid"
        case .unsupportedMagic(let magic):
            return "record batch magic \(magic) is not supported: only magic 2 (Kafka 0.11+ RecordBatch) is accepted"
        case .crcMismatch(let stored, let computed):
            return "record batch CRC mismatch: stored 0x\(String(stored, radix: 16)), computed 0x\(String(computed, radix: 16))"
        case .invalidRecordCount(let count, let delta):
            return "record batch count \(count) does not match lastOffsetDelta \(delta)"
        case .malformedRecord(let index, let reason):
            return "record \(index) is malformed: \(reason)"
        case .compressed(let codec):
            return "record batch is \(codec)-compressed; its records are not iterated"
        }
    }
}
