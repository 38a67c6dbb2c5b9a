public import CreekStorage
public import KafkaProtocol

extension KafkaErrorCode {
    /// The Kafka error code a client gets for a storage failure.
    public init(storage error: StorageError) {
        switch error {
        case .offsetOutOfRange: self = .offsetOutOfRange
        case .deleted: self = .unknownTopicOrPartition
        case .offsetOverflow: self = .invalidRecord
        case .notLeader: self = .notLeaderOrFollower
        case .notCoordinator: self = .notCoordinator
        // The topic registry reads the catalog again and retries or answers for itself;
        // should one still reach a client, a timeout is the retriable answer.
        case .catalogConflict: self = .requestTimedOut
        case .system, .corruptCatalog, .corruptSegment, .unrecoverableWrite, .offline, .closed, .database: self = .kafkaStorageError
        }
    }
}
