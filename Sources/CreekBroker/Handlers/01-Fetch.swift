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
            let read = broker.topics.servesInPlace
                ? readOnce(opened.plan, request, useIds: useIds, context: context)
                : await readAwaiting(opened.plan, request, useIds: useIds, context: context)
            if isFinal(read, request, opened) || ContinuousClock.now >= deadline {
                return counted(broker.fetchSessions.close(opened, response: read.response, request: request, usesTopicIds: useIds), context: context)
            }
            let waiter = FetchWaiter()
            for (partition, _) in read.watermarks {
                await partition.register(waiter)
            }
            // An append may have landed between the read and the registration: a cheap
            // watermark check, not a second read of what was just read.
            var moved = false
            for (partition, seen) in read.watermarks {
                let now = if let log = partition as? PartitionLog { log.boundsInPlace.highWatermark } else { await partition.highWatermark }
                if now != seen { moved = true }
            }
            if moved { continue }
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

    private typealias Read = FetchPass.Read

    /// One pass over the plan, read on the calling thread (the local log's in-place reads).
    private func readOnce(_ plan: FetchPlan, _ request: FetchRequest, useIds: Bool, context: RequestContext) -> Read {
        var pass = FetchPass(broker: broker, request: request, useIds: useIds, context: context)
        for wanted in plan.topics {
            let (topic, allowed) = pass.lookUp(wanted)
            for fetch in wanted.partitions {
                guard let storage = pass.target(fetch, in: topic, allowed: allowed) else { continue }
                guard let log = storage as? PartitionLog else {
                    pass.record(.closed, of: fetch, topic: wanted.name, offsets: (-1, -1, -1))
                    continue
                }
                let (maxBytes, minOneBatch) = pass.bounds(fetch)
                do {
                    let read = try log.readInPlace(from: fetch.fetchOffset, maxBytes: maxBytes, minOneBatch: minOneBatch, committedOnly: pass.committedOnly)
                    pass.record(read, of: fetch, from: log)
                } catch {
                    pass.record(error, of: fetch, topic: topic?.name ?? wanted.name, offsets: log.offsetsInPlace)
                }
            }
            pass.finishTopic(wanted, topic)
        }
        return pass.finish()
    }

    /// One pass over the plan through the partitions' actors (engines other than the local log).
    private func readAwaiting(_ plan: FetchPlan, _ request: FetchRequest, useIds: Bool, context: RequestContext) async -> Read {
        var pass = FetchPass(broker: broker, request: request, useIds: useIds, context: context)
        for wanted in plan.topics {
            let (topic, allowed) = pass.lookUp(wanted)
            for fetch in wanted.partitions {
                guard let storage = pass.target(fetch, in: topic, allowed: allowed) else { continue }
                let (maxBytes, minOneBatch) = pass.bounds(fetch)
                do {
                    let read = try await storage.read(from: fetch.fetchOffset, maxBytes: maxBytes, minOneBatch: minOneBatch, committedOnly: pass.committedOnly)
                    pass.record(read, of: fetch, from: storage)
                } catch {
                    let offsets = await (storage.logStartOffset, storage.lastStableOffset, storage.highWatermark)
                    pass.record(error, of: fetch, topic: topic?.name ?? wanted.name, offsets: offsets)
                }
            }
            pass.finishTopic(wanted, topic)
        }
        return pass.finish()
    }
}
