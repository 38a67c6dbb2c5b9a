import CreekStorage
import KafkaProtocol

/// DeleteRecords (key 21), v0-2: advances a partition's log start offset (-1 = the high
/// watermark); whole segments below it are deleted. An offset past the high watermark
/// gets OFFSET_OUT_OF_RANGE.
struct DeleteRecordsHandler: ApiHandler {
    static let versions: ClosedRange<Int16> = 0...2
    let broker: Broker

    func handle(_ request: DeleteRecordsRequest, context: RequestContext) async -> DeleteRecordsResponse? {
        var topics: [DeleteRecordsResponse.DeleteRecordsTopicResult] = []
        for wanted in request.topics {
            var partitions: [DeleteRecordsResponse.DeleteRecordsPartitionResult] = []
            let deletable = broker.authorized(context, .delete, .topic, wanted.name)
            for target in wanted.partitions {
                guard deletable else {
                    partitions.append(.init(partitionIndex: target.partitionIndex, lowWatermark: -1, errorCode: KafkaErrorCode.topicAuthorizationFailed.rawValue))
                    continue
                }
                guard let partition = await broker.topics.partition(wanted.name, target.partitionIndex) else {
                    partitions.append(.init(partitionIndex: target.partitionIndex, lowWatermark: -1, errorCode: KafkaErrorCode.unknownTopicOrPartition.rawValue))
                    continue
                }
                do {
                    let low = try await partition.deleteRecords(before: target.offset)
                    partitions.append(.init(partitionIndex: target.partitionIndex, lowWatermark: low, errorCode: 0))
                } catch {
                    let code = KafkaErrorCode(storage: error)
                    partitions.append(.init(partitionIndex: target.partitionIndex, lowWatermark: -1, errorCode: code.rawValue))
                }
            }
            topics.append(.init(name: wanted.name, partitions: partitions))
        }
        return DeleteRecordsResponse(throttleTimeMs: 0, topics: topics)
    }
}
