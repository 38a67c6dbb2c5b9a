/// Why bytes from the network could not be decoded as a Kafka message.
///
/// Every decoder in this module reports failure with this type and never traps:
/// lengths are checked against the bytes actually present before anything is
/// allocated, so a field claiming gigabytes fails at once.
public struct KafkaDecodingError: Error, Hashable, Sendable, CustomStringConvertible {
    public enum Reason: Hashable, Sendable {
        /// The buffer ended before the value did.
        case truncated
        /// A length or count is negative (and not the null marker) or larger than the bytes left.
        case invalidLength(Int64)
        /// A null where this version does not allow one.
        case unexpectedNull
        /// A varint longer than its type allows.
        case malformedVarint
        /// String bytes that are not UTF-8.
        case invalidUTF8
        /// A nullable-struct marker other than -1 or 1.
        case invalidStructMarker(Int8)
        /// The version is outside the message's valid range.
        case unsupportedVersion(Int16)
    }

    public var reason: Reason
    /// The field being decoded, when known.
    public var field: String?

    public init(_ reason: Reason, field: String? = nil) {
        self.reason = reason
        self.field = field
    }

    public var description: String {
        let place = field.map { " in \($0)" } ?? ""
        switch reason {
        case .truncated: return "message truncated\(place)"
        case .invalidLength(let length): return "invalid length \(length)\(place)"
        case .unexpectedNull: return "null where this version forbids it\(place)"
        case .malformedVarint: return "malformed varint\(place)"
        case .invalidUTF8: return "string is not valid UTF-8\(place)"
        case .invalidStructMarker(let marker): return "invalid nullable-struct marker \(marker)\(place)"
        case .unsupportedVersion(let version): return "unsupported version \(version)\(place)"
        }
    }
}
