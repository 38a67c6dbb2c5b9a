import CreekStorage
import KafkaProtocol

/// ListOffsets (key 2), v0-10. Special timestamps: -2 earliest (log start), -1 latest
/// (the high watermark; with isolation level 1, read_committed, the last stable offset —
/// the first offset of the oldest open transaction), -3 the record with the
/// largest timestamp (KIP-734), -4 earliest local and -5 earliest tiered (both the log
/// start: there is no tiered storage). Other timestamps find the first record at or after
/// them through the time index. v0 answers in `old_style_offsets`.
/// Leaves out: v0's multiple segment offsets (one offset is returned).
struct ListOffsetsHandler: ApiHandler {
    static let versions: ClosedRange<Int16> = 0...10
    let broker: Broker

    func handle(_ request: ListOffsetsRequest, context: RequestContext) async -> ListOffsetsResponse? {
        var topics: [ListOffsetsResponse.ListOffsetsTopicResponse] = []
        for wanted in request.topics {
            var partitions: [ListOffsetsResponse.ListOffsetsPartitionResponse] = []
            for query in wanted.partitions {
                var answer = ListOffsetsResponse.ListOffsetsPartitionResponse(partitionIndex: query.partitionIndex, timestamp: -1, offset: -1)
                guard broker.authorized(context, .describe, .topic, wanted.name) else {
                    answer.errorCode = KafkaErrorCode.topicAuthorizationFailed.rawValue
                    partitions.append(answer)
                    continue
                }
                do {
                    guard let partition = try await broker.topics.servingPartition(wanted.name, query.partitionIndex) else {
                        answer.errorCode = KafkaErrorCode.unknownTopicOrPartition.rawValue
                        partitions.append(answer)
                        continue
                    }
                    switch query.timestamp {
                    case -2, -4, -5:
                        answer.offset = await partition.logStartOffset
                    case -1:
                        answer.offset = request.isolationLevel == 1 ? await partition.lastStableOffset : await partition.highWatermark
                    case -3:
                        if let found = try await partition.maxTimestampOffset() {
                            answer.offset = found.offset
                            answer.timestamp = found.timestamp
                        }
                    case let timestamp where timestamp >= 0:
                        if let found = try await partition.offset(forTimestamp: timestamp) {
                            answer.offset = found.offset
                            answer.timestamp = found.timestamp
                        }
                    default:
                        answer.errorCode = KafkaErrorCode.invalidRequest.rawValue
                    }
                    answer.leaderEpoch = answer.offset >= 0 ? 0 : -1
                } catch {
                    let code = KafkaErrorCode(storage: error)
                    if code == .kafkaStorageError {
                        broker.logger.error("list offsets failed", metadata: ["partition": "\(wanted.name)-\(query.partitionIndex)", "error": "\(error)"])
                    }
                    answer.errorCode = code.rawValue
                }
                if context.apiVersion == 0 {
                    answer.oldStyleOffsets = answer.offset >= 0 ? [answer.offset] : []
                }
                partitions.append(answer)
            }
            topics.append(.init(name: wanted.name, partitions: partitions))
        }
        return ListOffsetsResponse(throttleTimeMs: 0, topics: topics)
    }
}
