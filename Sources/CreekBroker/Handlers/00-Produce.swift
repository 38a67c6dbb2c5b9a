import CreekStorage
import KafkaProtocol

/// Produce (key 0), v0-11 advertised (librdkafka 2.0.2 enables compression only when the
/// range includes v0), served from v3: v0-2 carry magic 0/1 message sets and every
/// partition gets UNSUPPORTED_FOR_MESSAGE_FORMAT. Each partition's batches are checked
/// (magic 2, CRC-32C, record count, size against `max.message.bytes`) outside the
/// partition's actor, then appended with offsets patched in. acks=0 gets no response;
/// acks=-1 waits for an fsync under `--flush acks-all` and `always`.
/// Leaves out: transactional produce (INVALID_REQUEST until transactions exist) and the
/// idempotent producer's sequence checks (the next issue).
struct ProduceHandler: ApiHandler {
    static let versions: ClosedRange<Int16> = 0...11
    let broker: Broker

    typealias PartitionResponse = ProduceResponse.PartitionProduceResponse

    func handle(_ request: ProduceRequest, context: RequestContext) async -> ProduceResponse? {
        let failure: (KafkaErrorCode, String)?
        if context.apiVersion < 3 {
            failure = (.unsupportedForMessageFormat, "Produce v\(context.apiVersion) (message format v0/v1) is not supported; Creek accepts RecordBatch v2 from Produce v3 on.")
        } else if ![-1, 0, 1].contains(request.acks) {
            failure = (.invalidRequiredAcks, "acks must be -1, 0 or 1 (got \(request.acks)).")
        } else if request.transactionalId != nil {
            failure = (.invalidRequest, "Transactional produce is not supported yet.")
        } else {
            failure = nil
        }
        let sync = broker.config.flush == .always || (broker.config.flush == .acksAll && request.acks == -1)
        var topics: [ProduceResponse.TopicProduceResponse] = []
        for topicData in request.topicData {
            var partitions: [PartitionResponse] = []
            if let (code, message) = failure {
                partitions = topicData.partitionData.map { error($0.index, code, message) }
            } else if topicData.partitionData.count == 1, let only = topicData.partitionData.first {
                partitions = [await append(only, topic: topicData.name, sync: sync)]
            } else {
                partitions = await withTaskGroup(of: PartitionResponse.self) { group in
                    for data in topicData.partitionData {
                        group.addTask { await append(data, topic: topicData.name, sync: sync) }
                    }
                    var collected: [PartitionResponse] = []
                    for await response in group { collected.append(response) }
                    return collected.sorted { $0.index < $1.index }
                }
            }
            topics.append(.init(name: topicData.name, partitionResponses: partitions))
        }
        if request.acks == 0 { return nil }
        return ProduceResponse(responses: topics, throttleTimeMs: 0)
    }

    private func error(_ index: Int32, _ code: KafkaErrorCode, _ message: String) -> PartitionResponse {
        PartitionResponse(index: index, errorCode: code.rawValue, baseOffset: -1, errorMessage: message)
    }

    private func append(_ data: ProduceRequest.PartitionProduceData, topic name: String, sync: Bool) async -> PartitionResponse {
        guard let topic = broker.topics.topic(named: name), let partition = topic.partition(data.index) else {
            return error(data.index, .unknownTopicOrPartition, "This server does not host \(name)-\(data.index).")
        }
        guard let records = data.records?.buffer, records.readableBytes > 0 else {
            return error(data.index, .corruptMessage, "The request carries no record batch.")
        }
        let maxBytes = await partition.config.maxMessageBytes
        var remaining = records
        var batches: [RecordBatch] = []
        do {
            while let batch = try RecordBatch.next(from: &remaining) {
                guard batch.sizeInBytes <= maxBytes else {
                    return error(data.index, .messageTooLarge, "Batch of \(batch.sizeInBytes) bytes exceeds max.message.bytes (\(maxBytes)).")
                }
                try batch.validate()
                batches.append(batch)
            }
        } catch {
            return self.error(data.index, Self.code(for: error), "\(error)")
        }
        do {
            let result = try await partition.append(batches, nowMs: broker.clock(), sync: sync)
            return PartitionResponse(
                index: data.index, errorCode: 0, baseOffset: result.baseOffset,
                logAppendTimeMs: result.logAppendTime, logStartOffset: result.logStartOffset
            )
        } catch {
            broker.logger.error("append failed", metadata: ["partition": "\(name)-\(data.index)", "error": "\(error)"])
            return self.error(data.index, .kafkaStorageError, "\(error)")
        }
    }

    static func code(for error: RecordBatchError) -> KafkaErrorCode {
        switch error {
        case .unsupportedMagic: return .unsupportedForMessageFormat
        case .invalidRecordCount, .malformedRecord: return .invalidRecord
        case .truncated, .invalidBatchLength, .crcMismatch, .compressed: return .corruptMessage
        }
    }
}
