import CreekStorage
import KafkaProtocol
import NIOCore

/// Fetch (key 1), v4-17. Stored batches are returned as they are on disk, never decoded.
/// Long-poll: when fewer than `min_bytes` are available the request waits, woken by the
/// next append to any of its partitions, until `max_wait_ms`. `max_bytes` and
/// `partition_max_bytes` bound the response, except that the first batch of the first
/// partition with data is returned even when larger (Kafka's rule). v13+ names topics
/// by id. Fetch sessions are not kept: session id 0 is returned, and a request naming a
/// session gets FETCH_SESSION_ID_NOT_FOUND so the client falls back to full fetches.
/// v0-3 (message format v0/v1) are accepted only to answer every partition with
/// UNSUPPORTED_VERSION.
struct FetchHandler: ApiHandler {
    static let versions: ClosedRange<Int16> = 4...17
    static let accepted: ClosedRange<Int16> = 0...17
    let broker: Broker

    typealias PartitionData = FetchResponse.PartitionData

    func handle(_ request: FetchRequest, context: RequestContext) async -> FetchResponse? {
        if context.apiVersion < Self.versions.lowerBound {
            let topics = request.topics.map { topic in
                FetchResponse.FetchableTopicResponse(topic: topic.topic, partitions: topic.partitions.map {
                    PartitionData(partitionIndex: $0.partition, errorCode: KafkaErrorCode.unsupportedVersion.rawValue,
                                  highWatermark: -1, records: nil)
                })
            }
            return FetchResponse(responses: topics)
        }
        if request.sessionId != 0 {
            return FetchResponse(errorCode: KafkaErrorCode.fetchSessionIdNotFound.rawValue, sessionId: 0)
        }
        let deadline = ContinuousClock.now + .milliseconds(max(0, Int(request.maxWaitMs)))
        let useIds = context.apiVersion >= 13
        while true {
            let (response, bytes, hasError) = await readOnce(request, useIds: useIds)
            let now = ContinuousClock.now
            if bytes >= Int(request.minBytes) || hasError || now >= deadline || request.maxWaitMs <= 0 || broker.isShuttingDown {
                return response
            }
            let waiter = FetchWaiter()
            for partition in partitions(of: request, useIds: useIds) {
                await partition.register(waiter)
            }
            // An append may have landed between the read and the registration.
            let (_, recheck, _) = await readOnce(request, useIds: useIds)
            if recheck >= Int(request.minBytes) { continue }
            await waiter.wait(timeout: deadline - now)
        }
    }

    private func partitions(of request: FetchRequest, useIds: Bool) -> [PartitionLog] {
        request.topics.flatMap { wanted -> [PartitionLog] in
            let topic = useIds ? broker.topics.topic(id: wanted.topicId) : broker.topics.topic(named: wanted.topic)
            return wanted.partitions.compactMap { topic?.partition($0.partition) }
        }
    }

    private func readOnce(_ request: FetchRequest, useIds: Bool) async -> (FetchResponse, Int, Bool) {
        // The broker's fetch.max.bytes bounds every response, whatever the client asks.
        var remaining = min(broker.config.fetchMaxBytes, request.maxBytes <= 0 ? Int(Int32.max) : Int(request.maxBytes))
        var total = 0
        var hasError = false
        var topics: [FetchResponse.FetchableTopicResponse] = []
        let abortedTransactions: [FetchResponse.AbortedTransaction]? = request.isolationLevel == 1 ? [] : nil
        for wanted in request.topics {
            let topic = useIds ? broker.topics.topic(id: wanted.topicId) : broker.topics.topic(named: wanted.topic)
            var partitions: [PartitionData] = []
            for fetch in wanted.partitions {
                guard let topic, let partition = topic.partition(fetch.partition) else {
                    let code: KafkaErrorCode = useIds && topic == nil ? .unknownTopicId : .unknownTopicOrPartition
                    partitions.append(PartitionData(partitionIndex: fetch.partition, errorCode: code.rawValue, highWatermark: -1, records: nil))
                    hasError = true
                    continue
                }
                let limit = min(remaining, Int(max(0, fetch.partitionMaxBytes)))
                do {
                    let read = try await partition.read(from: fetch.fetchOffset, maxBytes: limit, minOneBatch: total == 0)
                    let size = read.records.readableBytes
                    total += size
                    remaining = max(0, remaining - size)
                    partitions.append(PartitionData(
                        partitionIndex: fetch.partition, errorCode: 0, highWatermark: read.highWatermark,
                        lastStableOffset: read.highWatermark, logStartOffset: read.logStartOffset,
                        abortedTransactions: abortedTransactions, preferredReadReplica: -1, records: .bytes(read.records)
                    ))
                } catch let error {
                    hasError = true
                    let (start, end) = (await partition.logStartOffset, await partition.highWatermark)
                    let code = KafkaErrorCode(storage: error)
                    if code == .kafkaStorageError {
                        broker.logger.error("fetch failed", metadata: ["partition": "\(topic.name)-\(fetch.partition)", "error": "\(error)"])
                    }
                    partitions.append(PartitionData(
                        partitionIndex: fetch.partition, errorCode: code.rawValue, highWatermark: end,
                        lastStableOffset: end, logStartOffset: start, abortedTransactions: abortedTransactions,
                        preferredReadReplica: -1, records: .empty
                    ))
                }
            }
            topics.append(.init(topic: wanted.topic, topicId: topic?.id ?? wanted.topicId, partitions: partitions))
        }
        return (FetchResponse(throttleTimeMs: 0, errorCode: 0, sessionId: 0, responses: topics), total, hasError)
    }
}
