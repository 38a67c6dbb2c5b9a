public import CreekStorage
public import KafkaProtocol

/// A topic as the broker serves it: name, id, one `PartitionStorage` per partition, and its
/// config overrides. Immutable; adding partitions or changing configs replaces the value
/// in the `TopicRegistry`.
public struct Topic: Sendable {
    public let name: String
    public let id: KafkaUUID
    public let partitions: [any PartitionStorage]
    public let overrides: [String: String]
    /// The effective settings: broker defaults with `overrides` (derived once, here, so the
    /// produce path does not recompute them per request).
    public let logConfig: LogConfig

    /// Kafka's internal topics: written by the broker only, listed as internal in
    /// Metadata, not deletable.
    public static let internalNames: Set<String> = ["__consumer_offsets", "__transaction_state"]
    public var isInternal: Bool { Self.internalNames.contains(name) }

    public func partition(_ index: Int32) -> (any PartitionStorage)? {
        guard index >= 0, Int(index) < partitions.count else { return nil }
        return partitions[Int(index)]
    }
}

/// Why a topic operation failed; each case maps to the Kafka error code a client expects.
public enum TopicError: Error, Hashable, Sendable {
    case alreadyExists(String)
    case unknownTopic(String)
    case invalidTopic(String)
    case invalidPartitions(String)
    case invalidReplicationFactor(String)
    case invalidConfig(String)
    case deletionDisabled
    case storage(String)
    /// Another broker of the cluster changed the topic (or created one of this name) at the
    /// same moment; nothing of this change was saved.
    case changedConcurrently(String)

    public var code: KafkaErrorCode {
        switch self {
        case .alreadyExists: return .topicAlreadyExists
        case .unknownTopic: return .unknownTopicOrPartition
        case .invalidTopic: return .invalidTopicException
        case .invalidPartitions: return .invalidPartitions
        case .invalidReplicationFactor: return .invalidReplicationFactor
        case .invalidConfig: return .invalidConfig
        case .deletionDisabled: return .topicDeletionDisabled
        case .storage: return .kafkaStorageError
        // Retriable: the client sends the change again, over the catalog as it is now.
        case .changedConcurrently: return .requestTimedOut
        }
    }

    public var message: String {
        switch self {
        case .alreadyExists(let name): return "Topic '\(name)' already exists."
        case .unknownTopic(let name): return "Topic '\(name)' does not exist."
        case .invalidTopic(let reason), .invalidPartitions(let reason), .invalidReplicationFactor(let reason),
             .invalidConfig(let reason), .storage(let reason):
            return reason
        case .deletionDisabled: return "Topic deletion is disabled (delete.topic.enable=false)."
        case .changedConcurrently(let name):
            return "Topic '\(name)' was changed through another broker at the same moment; nothing was changed, try again."
        }
    }
}

/// Kafka's topic-name rules: 1-249 characters of [a-zA-Z0-9._-], not "." or "..".
public enum TopicName {
    public static let maxLength = 249

    /// A reason the name is invalid, or nil when it is valid.
    public static func problem(_ name: String) -> String? {
        if name.isEmpty { return "Topic name is empty." }
        if name == "." || name == ".." { return "Topic name cannot be \".\" or \"..\"." }
        if name.utf8.count > maxLength { return "Topic name is longer than \(maxLength) characters." }
        let legal = name.utf8.allSatisfy { byte in
            (byte >= 0x61 && byte <= 0x7A) || (byte >= 0x41 && byte <= 0x5A) || (byte >= 0x30 && byte <= 0x39)
                || byte == 0x2E || byte == 0x5F || byte == 0x2D
        }
        return legal ? nil : "Topic name '\(name)' is illegal: it contains a character other than ASCII alphanumerics, '.', '_' and '-'."
    }
}
