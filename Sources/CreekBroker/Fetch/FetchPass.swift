import CreekStorage
import KafkaProtocol

/// One pass of a Fetch over its plan's partitions, built partition by partition in
/// response order: the broker's `fetch.max.bytes` and the request's bounds shared across
/// partitions, authorization and unknown partitions answered without a read. The caller
/// does the reads (on the event loop for the local log, awaited for other engines) and
/// hands each result to `record`.
struct FetchPass {
    typealias PartitionData = FetchResponse.PartitionData

    /// The response, its record bytes, whether a partition failed, and each partition's
    /// high watermark as read.
    struct Read {
        var response: FetchResponse
        var bytes: Int
        var hasError: Bool
        var watermarks: [(partition: any PartitionStorage, highWatermark: Int64)]
    }

    let broker: Broker
    let useIds: Bool
    let committedOnly: Bool
    let context: RequestContext
    private var remaining: Int
    private var total = 0
    private var hasError = false
    private var topics: [FetchResponse.FetchableTopicResponse] = []
    private var partitions: [PartitionData] = []
    private var watermarks: [(partition: any PartitionStorage, highWatermark: Int64)] = []

    init(broker: Broker, request: FetchRequest, useIds: Bool, context: RequestContext) {
        self.broker = broker
        self.useIds = useIds
        self.context = context
        committedOnly = request.isolationLevel == 1
        // The broker's fetch.max.bytes bounds every response, whatever the client asks.
        remaining = min(broker.config.fetchMaxBytes, request.maxBytes <= 0 ? Int(Int32.max) : Int(request.maxBytes))
    }

    /// Looks the topic up and checks READ on it (a topic the principal may not read looks
    /// the same whether it exists or not).
    func lookUp(_ wanted: FetchPlan.Topic) -> (topic: Topic?, allowed: Bool) {
        let topic = useIds ? broker.topics.topic(id: wanted.id) : broker.topics.topic(named: wanted.name)
        return (topic, broker.authorized(context, .read, .topic, topic?.name ?? wanted.name))
    }

    /// The partition to read, or nil when its answer (an error) is already recorded.
    mutating func target(_ fetch: FetchPlan.Partition, in topic: Topic?, allowed: Bool) -> (any PartitionStorage)? {
        guard allowed else {
            partitions.append(PartitionData(partitionIndex: fetch.index, errorCode: KafkaErrorCode.topicAuthorizationFailed.rawValue, highWatermark: -1, records: nil))
            hasError = true
            return nil
        }
        guard let topic, let partition = topic.partition(fetch.index) else {
            let code: KafkaErrorCode = useIds && topic == nil ? .unknownTopicId : .unknownTopicOrPartition
            partitions.append(PartitionData(partitionIndex: fetch.index, errorCode: code.rawValue, highWatermark: -1, records: nil))
            hasError = true
            return nil
        }
        return partition
    }

    /// How much the read of `fetch` may return, and whether it must return a first batch
    /// larger than that (only the first partition with data does).
    func bounds(_ fetch: FetchPlan.Partition) -> (maxBytes: Int, minOneBatch: Bool) {
        (min(remaining, Int(max(0, fetch.maxBytes))), total == 0)
    }

    mutating func record(_ read: PartitionLog.ReadResult, of fetch: FetchPlan.Partition, from partition: any PartitionStorage) {
        watermarks.append((partition, read.highWatermark))
        let size = read.records.readableBytes
        total += size
        remaining = max(0, remaining - size)
        partitions.append(PartitionData(
            partitionIndex: fetch.index, errorCode: 0, highWatermark: read.highWatermark,
            lastStableOffset: read.lastStableOffset, logStartOffset: read.logStartOffset,
            abortedTransactions: committedOnly ? read.abortedTransactions.map {
                FetchResponse.AbortedTransaction(producerId: $0.producerId, firstOffset: $0.firstOffset)
            } : nil,
            preferredReadReplica: -1, records: .bytes(read.records)
        ))
    }

    mutating func record(
        _ error: StorageError, of fetch: FetchPlan.Partition, topic: String,
        offsets: (logStart: Int64, lastStable: Int64, highWatermark: Int64)
    ) {
        hasError = true
        let code = KafkaErrorCode(storage: error)
        if code == .kafkaStorageError {
            broker.logger.error("fetch failed", metadata: ["partition": "\(topic)-\(fetch.index)", "error": "\(error)"])
        }
        partitions.append(PartitionData(
            partitionIndex: fetch.index, errorCode: code.rawValue, highWatermark: offsets.highWatermark,
            lastStableOffset: offsets.lastStable, logStartOffset: offsets.logStart, abortedTransactions: committedOnly ? [] : nil,
            preferredReadReplica: -1, records: .empty
        ))
    }

    /// Closes the topic's entry in the response.
    mutating func finishTopic(_ wanted: FetchPlan.Topic, _ topic: Topic?) {
        topics.append(.init(topic: useIds ? "" : wanted.name, topicId: topic?.id ?? wanted.id, partitions: partitions))
        partitions = []
    }

    func finish() -> Read {
        Read(
            response: FetchResponse(throttleTimeMs: 0, errorCode: 0, sessionId: 0, responses: topics), bytes: total,
            hasError: hasError, watermarks: watermarks
        )
    }
}
