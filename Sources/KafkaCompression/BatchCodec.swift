public import KafkaProtocol
import NIOCore

/// Why a batch body could not be compressed or decompressed.
public enum CompressionError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The codec's library is not on this machine (lz4 and zstd are loaded at run time).
    case unavailable(RecordBatch.Compression, String)
    /// The bytes are not valid in the codec's format.
    case corrupt(RecordBatch.Compression, String)
    /// Decompressing would exceed the caller's limit (a small batch that expands to
    /// gigabytes must not exhaust memory).
    case tooLarge(RecordBatch.Compression, limit: Int)

    public var description: String {
        switch self {
        case .unavailable(let codec, let reason): return "\(codec) is not available: \(reason)"
        case .corrupt(let codec, let reason): return "corrupt \(codec) data: \(reason)"
        case .tooLarge(let codec, let limit): return "\(codec) data expands past \(limit) bytes"
        }
    }
}

/// The four codecs Kafka's record batches use, in the framing Kafka's clients write and
/// read: gzip (zlib, linked), snappy (this module's own implementation; reads raw snappy
/// and the xerial framing of the Java client, writes the xerial framing), lz4 (the LZ4
/// frame format) and zstd (both loaded from the system's shared libraries at run time, so
/// building Creek needs neither library's headers). Stateless; safe from any thread.
public enum BatchCodec {
    /// Default cap on one batch's decompressed size.
    public static let defaultLimit = 64 << 20

    /// True when `codec` can be used on this machine.
    public static func isAvailable(_ codec: RecordBatch.Compression) -> Bool {
        switch codec {
        case .none, .gzip, .snappy: return true
        case .lz4: return LZ4Frame.library != nil
        case .zstd: return Zstd.library != nil
        }
    }

    public static func compress(_ bytes: [UInt8], with codec: RecordBatch.Compression) throws(CompressionError) -> [UInt8] {
        switch codec {
        case .none: return bytes
        case .gzip: return try Gzip.compress(bytes)
        case .snappy: return Snappy.compressFramed(bytes)
        case .lz4: return try LZ4Frame.compress(bytes)
        case .zstd: return try Zstd.compress(bytes)
        }
    }

    public static func decompress(
        _ bytes: [UInt8], with codec: RecordBatch.Compression, limit: Int = defaultLimit
    ) throws(CompressionError) -> [UInt8] {
        switch codec {
        case .none: return bytes
        case .gzip: return try Gzip.decompress(bytes, limit: limit)
        case .snappy: return try Snappy.decompressAny(bytes, limit: limit)
        case .lz4: return try LZ4Frame.decompress(bytes, limit: limit)
        case .zstd: return try Zstd.decompress(bytes, limit: limit)
        }
    }
}
