import CreekStorage
import KafkaProtocol
import NIOCore

/// Fetch (key 1), v4-17. Stored batches are returned as they are on disk, never decoded.
/// Long-poll: when fewer than `min_bytes` are available the request waits, woken by the
/// next append to any of its partitions, until `max_wait_ms`. `max_bytes` and
/// `partition_max_bytes` bound the response, except that the first batch of the first
/// partition with data is returned even when larger (Kafka's rule). v13+ names topics
/// by id. v7+ may use incremental fetch sessions (KIP-227, `FetchSessionCache`): epoch 0
/// opens one, later requests list only changed partitions and get only partitions with
/// news. v0-3 (message format v0/v1) are accepted only to answer every partition with
/// UNSUPPORTED_VERSION.
struct FetchHandler: ApiHandler {
    static let versions: ClosedRange<Int16> = 4...17
    static let accepted: ClosedRange<Int16> = 0...17
    let broker: Broker

    typealias PartitionData = FetchResponse.PartitionData

    func handle(_ request: FetchRequest, context: RequestContext) async -> FetchResponse? {
        if let refusal = refusal(request, context: context) { return refusal }
        let useIds = context.apiVersion >= 13
        let opened = broker.fetchSessions.open(request, usesTopicIds: useIds)
        let deadline = ContinuousClock.now + .milliseconds(max(0, Int(request.maxWaitMs)))
        while true {
            let read = readOnce(opened.plan, request, useIds: useIds, context: context)
            if isFinal(read, request, opened) || ContinuousClock.now >= deadline {
                return counted(broker.fetchSessions.close(opened, response: read.response, request: request, usesTopicIds: useIds), context: context)
            }
            let waiter = FetchWaiter()
            for (partition, _) in read.watermarks {
                await partition.register(waiter)
            }
            // An append may have landed between the read and the registration: a cheap
            // watermark check, not a second read of what was just read.
            if read.watermarks.contains(where: { $0.partition.boundsInPlace.highWatermark != $0.highWatermark }) { continue }
            await waiter.wait(timeout: deadline - ContinuousClock.now)
        }
    }

    /// The response when the request needs no waiting — enough bytes, an error, no wait
    /// allowed, or a refusal — read on the calling thread (the connection's event loop);
    /// nil when it must long-poll (`handle`), in which case no session state changed.
    func answerInPlace(_ request: FetchRequest, context: RequestContext) -> FetchResponse? {
        if let refusal = refusal(request, context: context) { return refusal }
        let useIds = context.apiVersion >= 13
        let opened = broker.fetchSessions.open(request, usesTopicIds: useIds)
        let read = readOnce(opened.plan, request, useIds: useIds, context: context)
        guard isFinal(read, request, opened) else { return nil }
        return counted(broker.fetchSessions.close(opened, response: read.response, request: request, usesTopicIds: useIds), context: context)
    }

    /// Counts the records and bytes a response returns, per topic, and charges them to the
    /// client's consumer_byte_rate quota (the throttle goes in the response), then returns it.
    private func counted(_ response: FetchResponse, context: RequestContext) -> FetchResponse {
        var response = response
        if !broker.quotas.isEmpty {
            let bytes = response.responses.reduce(0) { total, topic in
                total + topic.partitions.reduce(0) { $0 + ($1.records?.byteCount ?? 0) }
            }
            response.throttleTimeMs = broker.quotaEnforcer.record(
                "consumer_byte_rate", principal: context.principal, clientId: context.clientId, bytes: bytes, nowNanos: ProcessStats.monotonicNanos()
            )
        }
        guard broker.metrics.enabled else { return response }
        for topic in response.responses {
            var records = 0
            var bytes = 0
            for partition in topic.partitions {
                guard let buffer = partition.records?.buffer else { continue }
                records += RecordBatch.recordCount(in: buffer)
                bytes += buffer.readableBytes
            }
            guard bytes > 0 else { continue }
            let name = topic.topic.isEmpty ? broker.topics.topic(id: topic.topicId)?.name : topic.topic
            if let name { broker.metrics.fetched(topic: name, records: records, bytes: bytes) }
        }
        return response
    }

    private func isFinal(_ read: Read, _ request: FetchRequest, _ opened: FetchSessionCache.Opened) -> Bool {
        if case .refused = opened.kind { return true }
        return read.bytes >= Int(request.minBytes) || read.hasError || request.maxWaitMs <= 0 || broker.isShuttingDown
    }

    /// Old versions, answered without reading.
    private func refusal(_ request: FetchRequest, context: RequestContext) -> FetchResponse? {
        guard context.apiVersion < Self.versions.lowerBound else { return nil }
        let topics = request.topics.map { topic in
            FetchResponse.FetchableTopicResponse(topic: topic.topic, partitions: topic.partitions.map {
                PartitionData(partitionIndex: $0.partition, errorCode: KafkaErrorCode.unsupportedVersion.rawValue,
                              highWatermark: -1, records: nil)
            })
        }
        return FetchResponse(responses: topics)
    }

    /// One pass over the requested partitions: the response, its record bytes, whether a
    /// partition failed, and each partition's high watermark as read.
    private struct Read {
        var response: FetchResponse
        var bytes: Int
        var hasError: Bool
        var watermarks: [(partition: PartitionLog, highWatermark: Int64)]
    }

    private func readOnce(_ plan: FetchPlan, _ request: FetchRequest, useIds: Bool, context: RequestContext) -> Read {
        // The broker's fetch.max.bytes bounds every response, whatever the client asks.
        var remaining = min(broker.config.fetchMaxBytes, request.maxBytes <= 0 ? Int(Int32.max) : Int(request.maxBytes))
        var total = 0
        var hasError = false
        var topics: [FetchResponse.FetchableTopicResponse] = []
        var watermarks: [(partition: PartitionLog, highWatermark: Int64)] = []
        let committedOnly = request.isolationLevel == 1
        for wanted in plan.topics {
            let topic = useIds ? broker.topics.topic(id: wanted.id) : broker.topics.topic(named: wanted.name)
            // READ on the topic (a topic the principal may not read looks the same whether it exists or not).
            let allowed = broker.authorized(context, .read, .topic, topic?.name ?? wanted.name)
            var partitions: [PartitionData] = []
            for fetch in wanted.partitions {
                guard allowed else {
                    partitions.append(PartitionData(partitionIndex: fetch.index, errorCode: KafkaErrorCode.topicAuthorizationFailed.rawValue, highWatermark: -1, records: nil))
                    hasError = true
                    continue
                }
                guard let topic, let partition = topic.partition(fetch.index) else {
                    let code: KafkaErrorCode = useIds && topic == nil ? .unknownTopicId : .unknownTopicOrPartition
                    partitions.append(PartitionData(partitionIndex: fetch.index, errorCode: code.rawValue, highWatermark: -1, records: nil))
                    hasError = true
                    continue
                }
                let limit = min(remaining, Int(max(0, fetch.maxBytes)))
                do {
                    let read = try partition.readInPlace(
                        from: fetch.fetchOffset, maxBytes: limit, minOneBatch: total == 0, committedOnly: committedOnly
                    )
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
                } catch let error {
                    hasError = true
                    let (start, stable, end) = partition.offsetsInPlace
                    let code = KafkaErrorCode(storage: error)
                    if code == .kafkaStorageError {
                        broker.logger.error("fetch failed", metadata: ["partition": "\(topic.name)-\(fetch.index)", "error": "\(error)"])
                    }
                    partitions.append(PartitionData(
                        partitionIndex: fetch.index, errorCode: code.rawValue, highWatermark: end,
                        lastStableOffset: stable, logStartOffset: start, abortedTransactions: committedOnly ? [] : nil,
                        preferredReadReplica: -1, records: .empty
                    ))
                }
            }
            topics.append(.init(topic: useIds ? "" : wanted.name, topicId: topic?.id ?? wanted.id, partitions: partitions))
        }
        return Read(
            response: FetchResponse(throttleTimeMs: 0, errorCode: 0, sessionId: 0, responses: topics), bytes: total,
            hasError: hasError, watermarks: watermarks
        )
    }
}
