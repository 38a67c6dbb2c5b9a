import CreekStorage
import KafkaProtocol

/// DescribeProducers (key 61), v0: the producers a partition keeps state for — epoch, last
/// sequence, last append time and the first offset of an open transaction.
struct DescribeProducersHandler: ApiHandler {
    static let versions: ClosedRange<Int16> = 0...0
    let broker: Broker

    func handle(_ request: DescribeProducersRequest, context: RequestContext) async -> DescribeProducersResponse? {
        var topics: [DescribeProducersResponse.TopicResponse] = []
        for wanted in request.topics {
            var partitions: [DescribeProducersResponse.PartitionResponse] = []
            let readable = broker.authorized(context, .read, .topic, wanted.name)
            for index in wanted.partitionIndexes {
                guard readable else {
                    partitions.append(.init(partitionIndex: index, errorCode: KafkaErrorCode.topicAuthorizationFailed.rawValue, errorMessage: nil, activeProducers: []))
                    continue
                }
                guard let log = broker.topics.topic(named: wanted.name)?.partition(index) else {
                    partitions.append(.init(partitionIndex: index, errorCode: KafkaErrorCode.unknownTopicOrPartition.rawValue,
                                            errorMessage: "This server does not host this topic-partition.", activeProducers: []))
                    continue
                }
                let table = await log.producers
                let producers = table.producers.sorted { $0.key < $1.key }.map { id, entry in
                    DescribeProducersResponse.ProducerState(
                        producerId: id, producerEpoch: Int32(entry.epoch), lastSequence: entry.batches.last?.lastSequence ?? -1,
                        lastTimestamp: entry.lastTimestampMs, coordinatorEpoch: 0, currentTxnStartOffset: entry.currentTxnFirstOffset ?? -1
                    )
                }
                partitions.append(.init(partitionIndex: index, errorCode: 0, errorMessage: nil, activeProducers: producers))
            }
            topics.append(.init(name: wanted.name, partitions: partitions))
        }
        return DescribeProducersResponse(throttleTimeMs: 0, topics: topics)
    }
}
