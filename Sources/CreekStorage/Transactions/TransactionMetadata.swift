/// One transactional id's coordinator state (Kafka's `TransactionMetadata`): the producer
/// id and epoch it maps to, the open transaction's partitions, consumer groups and pending
/// offsets, and where it stands. Stored whole on every change (`TransactionStateStore`).
///
/// Invariant: `partitions`, `groups` and `pendingOffsets` are empty unless the state is
/// `ongoing`, `prepareCommit` or `prepareAbort`.
public struct TransactionMetadata: Codable, Hashable, Sendable {
    public enum State: String, Codable, Sendable {
        /// Initialised, no transaction open.
        case empty
        /// Partitions or offsets were added; not yet ended.
        case ongoing
        /// EndTxn decided commit (durably); markers are being written.
        case prepareCommit
        /// EndTxn or a timeout decided abort (durably); markers are being written.
        case prepareAbort
        case completeCommit
        case completeAbort

        /// Kafka's names (DescribeTransactions, ListTransactions).
        public var kafkaName: String {
            switch self {
            case .empty: return "Empty"
            case .ongoing: return "Ongoing"
            case .prepareCommit: return "PrepareCommit"
            case .prepareAbort: return "PrepareAbort"
            case .completeCommit: return "CompleteCommit"
            case .completeAbort: return "CompleteAbort"
            }
        }
    }

    public struct Partition: Codable, Hashable, Sendable, Comparable {
        public var topic: String
        public var partition: Int32

        public init(topic: String, partition: Int32) {
            self.topic = topic
            self.partition = partition
        }

        public static func < (lhs: Self, rhs: Self) -> Bool {
            (lhs.topic, lhs.partition) < (rhs.topic, rhs.partition)
        }
    }

    /// An offset committed inside the transaction (TxnOffsetCommit), applied on commit.
    public struct PendingOffset: Codable, Hashable, Sendable {
        public var group: String
        public var topic: String
        public var partition: Int32
        public var offset: Int64
        public var leaderEpoch: Int32
        public var metadata: String?

        public init(group: String, topic: String, partition: Int32, offset: Int64, leaderEpoch: Int32, metadata: String?) {
            self.group = group
            self.topic = topic
            self.partition = partition
            self.offset = offset
            self.leaderEpoch = leaderEpoch
            self.metadata = metadata
        }
    }

    public var transactionalId: String
    public var producerId: Int64
    public var producerEpoch: Int16
    /// The epoch before the last bump, so a producer retrying InitProducerId after a lost
    /// response (KIP-360) is recognised.
    public var lastProducerEpoch: Int16
    public var timeoutMs: Int32
    public var state: State
    public var partitions: Set<Partition>
    public var groups: Set<String>
    public var pendingOffsets: [PendingOffset]
    /// When the open transaction began (its first AddPartitionsToTxn / AddOffsetsToTxn).
    public var startTimestampMs: Int64
    public var updateTimestampMs: Int64

    public init(transactionalId: String, producerId: Int64, producerEpoch: Int16, timeoutMs: Int32, nowMs: Int64) {
        self.transactionalId = transactionalId
        self.producerId = producerId
        self.producerEpoch = producerEpoch
        self.lastProducerEpoch = -1
        self.timeoutMs = timeoutMs
        self.state = .empty
        self.partitions = []
        self.groups = []
        self.pendingOffsets = []
        self.startTimestampMs = -1
        self.updateTimestampMs = nowMs
    }

    /// True while a transaction is open or being completed.
    public var isInFlight: Bool { state == .ongoing || state == .prepareCommit || state == .prepareAbort }
}
