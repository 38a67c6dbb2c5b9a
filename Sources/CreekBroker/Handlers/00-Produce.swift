import KafkaCompression
import CreekStorage
import KafkaProtocol
import Logging

/// Produce (key 0), v0-11 advertised (librdkafka 2.0.2 enables compression only when the
/// range includes v0), served from v3: v0-2 carry magic 0/1 message sets and every
/// partition gets UNSUPPORTED_FOR_MESSAGE_FORMAT. Each partition's batches are checked
/// (magic 2, CRC-32C, record count, record structure, size against `max.message.bytes`)
/// and appended with offsets patched in.
///
/// Two phases: `appendPhase` runs in request order on its connection (so one producer's
/// pipelined requests append in the order sent, as Kafka guarantees), and the returned
/// completion waits for durability (an fsync under `--flush acks-all` with acks=-1, or
/// `always`) concurrently, so the next request can append meanwhile. acks=0 gets no response.
/// Batches with a producer id are checked against the partition's producer state
/// (`ProducerStateTable`): a retry of one of the producer's last five batches succeeds with
/// its original offsets and appends nothing; a gap gets OUT_OF_ORDER_SEQUENCE_NUMBER; an old
/// epoch INVALID_PRODUCER_EPOCH. Transactional batches open the producer's transaction in
/// the partition (see `PartitionLog+Transactions`); as with Kafka's transaction protocol
/// version 1, the broker does not check that the partition was added to the transaction.
struct ProduceHandler: ApiHandler {
    static let versions: ClosedRange<Int16> = 0...11
    let broker: Broker

    typealias PartitionResponse = ProduceResponse.PartitionProduceResponse

    /// A partition's append result, still waiting to become durable.
    struct Appended: Sendable {
        var topic: String
        var response: PartitionResponse
        var durableAfter: (any PartitionStorage, Int64)?
    }

    func handle(_ request: ProduceRequest, context: RequestContext) async -> ProduceResponse? {
        switch await appendPhase(validate(request, context: context))() {
        case .respond(let response): return response
        case .none, .close: return nil
        }
    }

    /// How a Produce ends: a response, none (acks=0), or — for an acks=0 request that
    /// failed — a closed connection, so the client notices (as Kafka does).
    enum Completion: Sendable {
        case respond(ProduceResponse)
        case none
        case close(String)
    }

    /// One partition of a Produce request after validation: either its error response,
    /// or the partition log and the checked batches to append.
    struct ValidatedPartition: Sendable {
        var topic: String
        var index: Int32
        var failure: PartitionResponse?
        var target: (any PartitionStorage)?
        var batches: [RecordBatch]
    }

    /// A Produce request whose batches have all been checked. Validation needs no
    /// partition's actor, so it runs as soon as the request arrives, concurrently with
    /// other requests; only the append is ordered.
    struct ValidatedRequest: Sendable {
        var acks: Int16
        var sync: Bool
        var partitions: [ValidatedPartition]
        /// The client's producer_byte_rate throttle, reported in the response.
        var throttleMs: Int32 = 0
    }

    /// Checks every partition's batches (magic, CRC-32C, counts, records, size).
    func validate(_ request: ProduceRequest, context: RequestContext) -> ValidatedRequest {
        let failure: (KafkaErrorCode, String)?
        if context.apiVersion < 3 {
            failure = (.unsupportedForMessageFormat, "Produce v\(context.apiVersion) (message format v0/v1) is not supported; Creek accepts RecordBatch v2 from Produce v3 on.")
        } else if ![-1, 0, 1].contains(request.acks) {
            failure = (.invalidRequiredAcks, "acks must be -1, 0 or 1 (got \(request.acks)).")
        } else if let transactionalId = request.transactionalId, !broker.authorized(context, .write, .transactionalId, transactionalId) {
            broker.logDenied(context, .write, .transactionalId, transactionalId)
            failure = (.transactionalIdAuthorizationFailed, "Not authorized to write with transactional id \(transactionalId).")
        } else {
            failure = nil
        }
        let sync = broker.config.flush == .always || (broker.config.flush == .acksAll && request.acks == -1)
        var partitions: [ValidatedPartition] = []
        for topicData in request.topicData {
            let topic = broker.topics.topic(named: topicData.name)
            let maxBytes = topic?.logConfig.maxMessageBytes ?? 0
            let compacted = topic?.logConfig.cleanupPolicy.contains(.compact) ?? false
            let allowed = broker.authorized(context, .write, .topic, topicData.name)
            if !allowed { broker.logDenied(context, .write, .topic, topicData.name) }
            for data in topicData.partitionData {
                var validated = ValidatedPartition(topic: topicData.name, index: data.index, batches: [])
                if let (code, message) = failure {
                    validated.failure = error(data.index, code, message)
                } else if !allowed {
                    validated.failure = error(data.index, .topicAuthorizationFailed, "Not authorized to write to topic \(topicData.name).")
                } else if topic?.isInternal == true {
                    validated.failure = error(data.index, .invalidTopicException, "Topic \(topicData.name) is internal: only the broker writes to it.")
                } else {
                    switch checkBatches(data, topic: topic, maxBytes: maxBytes, compacted: compacted) {
                    case .accepted(let target, let batches):
                        validated.target = target
                        validated.batches = batches
                    case .rejected(let response):
                        validated.failure = response
                    }
                }
                partitions.append(validated)
            }
        }
        let bytes = partitions.reduce(0) { total, partition in total + partition.batches.reduce(0) { $0 + Int($1.sizeInBytes) } }
        let throttleMs = broker.quotaEnforcer.record(
            "producer_byte_rate", principal: context.principal, clientId: context.clientId, bytes: bytes, nowNanos: ProcessStats.monotonicNanos()
        )
        return ValidatedRequest(acks: request.acks, sync: sync, partitions: partitions, throttleMs: throttleMs)
    }

    private enum BatchCheck {
        case accepted(any PartitionStorage, [RecordBatch])
        case rejected(PartitionResponse)
    }

    private func checkBatches(_ data: ProduceRequest.PartitionProduceData, topic: Topic?, maxBytes: Int, compacted: Bool) -> BatchCheck {
        guard let topic, let partition = topic.partition(data.index) else {
            return .rejected(error(data.index, .unknownTopicOrPartition, "This server does not host this topic-partition."))
        }
        guard let records = data.records?.buffer, records.readableBytes > 0 else {
            return .rejected(error(data.index, .corruptMessage, "The request carries no record batch."))
        }
        var remaining = records
        var batches: [RecordBatch] = []
        do {
            while let batch = try RecordBatch.next(from: &remaining) {
                guard batch.sizeInBytes <= maxBytes else {
                    return .rejected(error(data.index, .messageTooLarge, "Batch of \(batch.sizeInBytes) bytes exceeds max.message.bytes (\(maxBytes))."))
                }
                try batch.validate()
                if compacted, let refusal = Self.keyRefusal(batch, topic: topic.name, partition: data.index) {
                    return .rejected(error(data.index, refusal.code, refusal.message))
                }
                batches.append(batch)
            }
        } catch {
            return .rejected(self.error(data.index, Self.code(for: error), "\(error)"))
        }
        return .accepted(partition, batches)
    }

    /// Appends every validated partition, in request order; returns the completion.
    func appendPhase(_ request: ValidatedRequest) async -> @Sendable () async -> Completion {
        var appended: [Appended] = []
        for partition in request.partitions {
            appended.append(await append(partition, sync: request.sync))
        }
        let acks = request.acks
        let throttleMs = request.throttleMs
        let logger = broker.logger
        let done = appended
        return {
            var results = done
            let pending = results.indices.filter { results[$0].durableAfter != nil }
            if pending.count == 1, let index = pending.first, let (partition, offset) = results[index].durableAfter {
                if let failed = await Self.waitDurable(partition, offset, logger: logger) { results[index].response = failed }
            } else if pending.count > 1 {
                let failures = await withTaskGroup(of: (Int, PartitionResponse?).self) { group in
                    for index in pending {
                        guard let (partition, offset) = results[index].durableAfter else { continue }
                        let response = results[index].response
                        group.addTask {
                            let failed = await Self.waitDurable(partition, offset, logger: logger)
                            return (index, failed.map { failure in
                                PartitionResponse(index: response.index, errorCode: failure.errorCode, baseOffset: -1, errorMessage: failure.errorMessage)
                            })
                        }
                    }
                    var collected: [(Int, PartitionResponse?)] = []
                    for await item in group { collected.append(item) }
                    return collected
                }
                for (index, failed) in failures {
                    if let failed { results[index].response = failed }
                }
            }
            return Self.completion(results, acks: acks, throttleMs: throttleMs)
        }
    }

    /// The response (or none, or a closed connection for a failed acks=0) once every
    /// partition's result is final.
    static func completion(_ results: [Appended], acks: Int16, throttleMs: Int32) -> Completion {
        if acks == 0 {
            if let failed = results.first(where: { $0.response.errorCode != 0 }) {
                return .close("acks=0 produce to \(failed.topic)-\(failed.response.index) failed with error \(failed.response.errorCode)")
            }
            return .none
        }
        var topics: [ProduceResponse.TopicProduceResponse] = []
        for result in results {
            if let last = topics.indices.last, topics[last].name == result.topic {
                topics[last].partitionResponses.append(result.response)
            } else {
                topics.append(.init(name: result.topic, partitionResponses: [result.response]))
            }
        }
        return .respond(ProduceResponse(responses: topics, throttleTimeMs: throttleMs))
    }

    private static func waitDurable(_ partition: any PartitionStorage, _ offset: Int64, logger: Logger) async -> PartitionResponse? {
        do {
            try await partition.makeDurable(upTo: offset)
            return nil
        } catch {
            logStorageFailure(error, partition: "\(partition.topic)-\(partition.partition)", logger: logger)
            return PartitionResponse(index: partition.partition, errorCode: KafkaErrorCode(storage: error).rawValue, baseOffset: -1, errorMessage: "\(error)")
        }
    }

    /// A partition going offline is logged as critical (once per request that meets it);
    /// a full disk or a deleted topic is an error of the request, logged less loudly.
    static func logStorageFailure(_ error: StorageError, partition: String, logger: Logger) {
        switch error {
        case .offline, .unrecoverableWrite:
            logger.critical("partition is OFFLINE after a storage failure; restart to recover", metadata: ["partition": "\(partition)", "error": "\(error)"])
        case .deleted:
            logger.info("produce to a deleted partition", metadata: ["partition": "\(partition)"])
        default:
            logger.error("append failed", metadata: ["partition": "\(partition)", "error": "\(error)"])
        }
    }

    func error(_ index: Int32, _ code: KafkaErrorCode, _ message: String) -> PartitionResponse {
        PartitionResponse(index: index, errorCode: code.rawValue, baseOffset: -1, errorMessage: message)
    }

    private func append(_ validated: ValidatedPartition, sync: Bool) async -> Appended {
        guard validated.failure == nil, let partition = validated.target else {
            return appended(validated, sync: sync, .failure(.closed))
        }
        do {
            return appended(validated, sync: sync, .success(try await partition.append(validated.batches, nowMs: broker.clock(), sync: false)))
        } catch {
            return appended(validated, sync: sync, .failure(error))
        }
    }

    /// A partition's response for the outcome of its append (nothing appended when it
    /// failed validation), and what it waits for to become durable.
    func appended(_ validated: ValidatedPartition, sync: Bool, _ outcome: Result<PartitionLog.AppendResult, StorageError>) -> Appended {
        guard validated.failure == nil, let partition = validated.target else {
            return Appended(topic: validated.topic, response: validated.failure ?? error(validated.index, .unknownServerError, "not validated"))
        }
        switch outcome {
        case .success(let result):
            if let rejection = result.rejection {
                let reason = rejection == .invalidProducerEpoch
                    ? "The producer's epoch is older than the partition's; a newer producer with the same id fenced it."
                    : "The batch's sequence number does not follow the producer's last batch on this partition."
                return Appended(topic: validated.topic, response: error(validated.index, rejection, reason))
            }
            broker.metrics.produced(
                topic: validated.topic, records: validated.batches.reduce(0) { $0 + Int($1.recordsCount) },
                batchBytes: validated.batches.map(\.buffer.readableBytes)
            )
            let response = PartitionResponse(
                index: validated.index, errorCode: 0, baseOffset: result.baseOffset,
                logAppendTimeMs: result.logAppendTime, logStartOffset: result.logStartOffset
            )
            return Appended(topic: validated.topic, response: response, durableAfter: sync ? (partition, result.lastOffset + 1) : nil)
        case .failure(let failure):
            Self.logStorageFailure(failure, partition: "\(validated.topic)-\(validated.index)", logger: broker.logger)
            return Appended(topic: validated.topic, response: error(validated.index, KafkaErrorCode(storage: failure), "\(failure)"))
        }
    }

    /// Kafka refuses records without a key on a compacted topic (the cleaner could never
    /// tell which to keep); compressed batches are decompressed to check.
    static func keyRefusal(_ batch: RecordBatch, topic: String, partition: Int32) -> (code: KafkaErrorCode, message: String)? {
        guard !batch.isControl else { return nil }
        do {
            guard try batch.decodedRecords().contains(where: { $0.key == nil }) else { return nil }
            return (.invalidRecord, "Compacted topic cannot accept message without key in topic partition \(topic)-\(partition).")
        } catch {
            switch error {
            case .compression(.unavailable): return (.unsupportedCompressionType, "\(error)")
            case .compression: return (.corruptMessage, "\(error)")
            case .records: return (.invalidRecord, "\(error)")
            }
        }
    }

    static func code(for error: RecordBatchError) -> KafkaErrorCode {
        switch error {
        case .unsupportedMagic: return .unsupportedForMessageFormat
        case .invalidRecordCount, .malformedRecord, .inconsistentHeader: return .invalidRecord
        case .truncated, .invalidBatchLength, .crcMismatch, .compressed: return .corruptMessage
        }
    }
}
