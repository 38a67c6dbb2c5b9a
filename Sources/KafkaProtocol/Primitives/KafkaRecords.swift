public import NIOCore

/// The content of a `records` field: record batches, either as bytes in memory or
/// as a placeholder for bytes the IO layer sends from elsewhere (a file region),
/// so a Fetch response never has to copy stored batches into one big buffer.
///
/// Decoding always yields `.bytes`, a slice of the received frame (no copy).
public enum KafkaRecords: Hashable, Sendable {
    case bytes(ByteBuffer)
    case external(ExternalRecords)

    /// The in-memory bytes, or nil for external records.
    public var buffer: ByteBuffer? {
        if case .bytes(let buffer) = self { return buffer }
        return nil
    }

    /// Number of bytes this field contributes after its length prefix.
    public var byteCount: Int {
        switch self {
        case .bytes(let buffer): return buffer.readableBytes
        case .external(let external): return external.length
        }
    }

    public static let empty = KafkaRecords.bytes(ByteBuffer())
}

/// Records that the IO layer will splice into the outbound stream: `length` bytes
/// identified by `token`, which only the caller interprets (e.g. an index into a
/// list of file regions).
public struct ExternalRecords: Hashable, Sendable {
    public var token: Int
    public var length: Int

    public init(token: Int, length: Int) {
        self.token = token
        self.length = length
    }
}
