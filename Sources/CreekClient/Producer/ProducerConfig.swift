public import KafkaProtocol

/// Producer settings (the Java client's, in camel case). Defaults follow the Java client
/// since 3.0 (idempotent, acks=all) except `batchSize`, which follows librdkafka (1 MB),
/// since larger batches are how a producer reaches throughput.
public struct ProducerConfig: Sendable {
    public enum Acks: Int16, Sendable {
        case none = 0
        case leader = 1
        case all = -1
    }

    public var client: ClientConfig
    public var acks: Acks = .all
    /// How long a partition's batch waits for more records before it is sent.
    public var linger: Duration = .milliseconds(5)
    /// A partition's batch is sent once it holds this many bytes.
    public var batchSize = 1_000_000
    /// Bytes of records waiting to be sent or acknowledged; `send` suspends above it.
    public var bufferMemory = 64 << 20
    /// Produce requests in flight per broker.
    public var maxInFlight = 5
    /// Sequence numbers and a producer id, so retries never store a record twice.
    public var enableIdempotence = true
    public var compression: RecordBatch.Compression = .none
    /// Makes the producer transactional (implies idempotence): call `initTransactions()`
    /// (or `start`), then send only between `beginTransaction()` and commit/abort.
    public var transactionalId: String?
    /// How long the coordinator lets a transaction stay open before aborting it.
    public var transactionTimeout: Duration = .seconds(60)

    public init(bootstrapServers: [String]) {
        client = ClientConfig(bootstrapServers: bootstrapServers)
        client.allowAutoTopicCreation = true
    }
}
