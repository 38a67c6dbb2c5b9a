import KafkaProtocol
import NIOCore

/// What the crash runner knows must (or may) be in the broker's storage.
struct CrashModel {
    /// A batch as the runner sent it; `body` is everything after the 16 bytes the broker
    /// patches (baseOffset, length, leader epoch), which must come back unchanged.
    struct Sent: Hashable {
        var body: [UInt8]
        var producerId: Int64
        var baseSequence: Int32
    }

    struct Partition {
        /// Every batch stored at an offset since the last recovery (acknowledged or not).
        var written: [Int64: Sent] = [:]
        /// Acknowledged under a durable policy: must survive any crash.
        var durable: [Int64: Sent] = [:]
        /// The highest log start offset a DeleteRecords acknowledged.
        var acknowledgedLogStart: Int64 = 0
        /// Every batch body sent to this partition since its topic was created.
        var sent: Set<[UInt8]> = []
    }

    struct Topic {
        var partitions: [Partition]
    }

    /// An idempotent producer's batch that was sent but not acknowledged: it is retried,
    /// as a real client does, until it is.
    struct Pending {
        var topic: String
        var partition: Int32
        var batch: RecordBatch
        var lastSequence: Int32
    }

    struct Producer {
        var id: Int64
        var nextSequence: [String: Int32] = [:]
        var pending: Pending?
    }

    /// A transaction the runner has open (see `CrashRunner+Transactions`).
    struct OpenTransaction {
        var tag: Int
        var producerId: Int64
        var epoch: Int16
        var nextSequence: [String: Int32] = [:]
        var batches = 0
        var failedSend = false
    }

    var topics: [String: Topic] = [:]
    /// Open transactions by transactional id.
    var openTransactions: [String: OpenTransaction] = [:]
    /// Acknowledged EndTxn outcomes by transaction tag: true commit, false abort.
    var transactionOutcomes: [Int: Bool] = [:]
    /// Topics whose deletion was acknowledged: must not come back.
    var deleted: Set<String> = []
    /// Topics whose deletion failed part-way: they may be gone.
    var maybeDeleted: Set<String> = []
    var producers: [Producer] = []
    /// Committed offsets per group/topic/partition: the last durable value and the values
    /// written after it (any of which may survive).
    var commits: [String: [Int32: (durable: Int64?, later: [Int64])]] = [:]

    static func body(of batch: RecordBatch) -> [UInt8] {
        Array(batch.buffer.readableBytesView.dropFirst(16))
    }
}
