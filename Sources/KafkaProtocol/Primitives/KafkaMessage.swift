public import NIOCore

/// A struct of a Kafka message schema: every field has a default, so `init()` is the
/// schema's default value; decoding and encoding follow the schema for one version.
public protocol KafkaStruct: Hashable, Sendable {
    init()
    /// Decodes the struct's fields for `version`, consuming exactly their bytes.
    init(from buffer: inout ByteBuffer, version: Int16) throws(KafkaDecodingError)
    /// Encodes the fields that exist in `version`. Values of fields that the version
    /// lacks are dropped, and a nil in a version where the field is not nullable is
    /// written as the empty value (see docs/protocol-codegen.md).
    func write(to writer: inout KafkaWriter, version: Int16)
}

extension KafkaStruct {
    /// Encodes into a plain buffer. External records (`KafkaRecords.external`) get
    /// their length prefix only; use `write(to: inout KafkaWriter, ...)` for those.
    public func write(to buffer: inout ByteBuffer, version: Int16) {
        var writer = KafkaWriter(buffer: buffer)
        buffer = ByteBuffer()
        write(to: &writer, version: version)
        buffer = writer.buffer
    }
}

/// A top-level schema (request, response, header or data) with its version ranges.
public protocol KafkaMessage: KafkaStruct {
    static var messageName: String { get }
    static var validVersions: ClosedRange<Int16> { get }
    /// The first version that uses the flexible (KIP-482) encoding, nil if none does.
    static var firstFlexibleVersion: Int16? { get }
}

extension KafkaMessage {
    public static func isFlexible(version: Int16) -> Bool {
        guard let first = firstFlexibleVersion else { return false }
        return version >= first
    }
}

/// The request body of an API key.
public protocol KafkaRequestMessage: KafkaMessage {
    associatedtype Response: KafkaResponseMessage
    static var apiKey: ApiKey { get }
}

/// The response body of an API key; always encoded in its request's version.
public protocol KafkaResponseMessage: KafkaMessage {
    static var apiKey: ApiKey { get }
    /// Calls `body` with every error code the response carries (fields named `ErrorCode`
    /// or ending in it, nested ones included), zero or not.
    func forEachErrorCode(_ body: (Int16) -> Void)
    /// An empty response carrying only a top-level error code (and message, where the
    /// schema has one), for answering an API the server does not serve; nil when the
    /// response has no top-level error code.
    static func rejection(errorCode: Int16, message: String?) -> Self?
}
