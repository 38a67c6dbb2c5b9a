public import KafkaProtocol

/// What went wrong in a client call, naming the Kafka error code when the broker gave one.
public enum KafkaClientError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The broker answered with an error code (and, from some versions, a message).
    case broker(KafkaErrorCode, message: String?, context: String)
    /// The connection closed or could not be opened.
    case connection(String)
    /// No answer within the request timeout.
    case timeout(String)
    /// Neither side supports a version the client can use for this API.
    case unsupportedVersion(ApiKey)
    /// The answer could not be decoded.
    case malformedResponse(String)
    /// Records could not be compressed or decompressed.
    case compression(String)
    /// The producer, consumer or client was closed.
    case closed
    /// The arguments cannot work (e.g. an unknown partition).
    case invalidArgument(String)

    public var description: String {
        switch self {
        case .broker(let code, let message, let context):
            return "\(context): \(code)" + (message.map { " (\($0))" } ?? "")
        case .connection(let reason): return "connection: \(reason)"
        case .timeout(let what): return "timed out: \(what)"
        case .unsupportedVersion(let key): return "no common version of \(key)"
        case .malformedResponse(let reason): return "malformed response: \(reason)"
        case .compression(let reason): return "compression: \(reason)"
        case .closed: return "closed"
        case .invalidArgument(let reason): return "invalid argument: \(reason)"
        }
    }

    /// The Kafka error code, when the broker gave one.
    public var code: KafkaErrorCode? {
        if case .broker(let code, _, _) = self { return code }
        return nil
    }

    /// Worth retrying after a metadata refresh and a backoff.
    public var isRetriable: Bool {
        switch self {
        case .broker(let code, _, _): return code.isRetriable
        case .connection, .timeout: return true
        default: return false
        }
    }
}

extension KafkaErrorCode {
    /// The codes Kafka marks retriable that a client meets (leader moves, topics being
    /// created, coordinators loading or moving, transient storage and timeouts).
    public var isRetriable: Bool {
        switch self {
        case .notLeaderOrFollower, .unknownTopicOrPartition, .leaderNotAvailable, .notCoordinator,
             .coordinatorNotAvailable, .coordinatorLoadInProgress, .requestTimedOut, .networkException,
             .kafkaStorageError, .notEnoughReplicas, .notEnoughReplicasAfterAppend, .fencedLeaderEpoch,
             .unknownLeaderEpoch, .concurrentTransactions, .throttlingQuotaExceeded:
            return true
        default:
            return false
        }
    }
}

extension KafkaClientError {
    /// Throws `.broker` for a non-zero error code from a response.
    static func check(_ code: Int16, _ context: @autoclosure () -> String, message: String? = nil) throws(KafkaClientError) {
        guard code != 0 else { return }
        throw .broker(KafkaErrorCode(rawValue: code) ?? .unknownServerError, message: message, context: context())
    }
}
