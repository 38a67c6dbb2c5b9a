import KafkaProtocol

/// OffsetForLeaderEpoch (key 23), v0-4. Every partition has had one leader epoch, 0, so
/// any requested epoch >= 0 ends at the log end offset; a current leader epoch above 0
/// gets UNKNOWN_LEADER_EPOCH. Clients use this to validate positions after a leader change.
struct OffsetForLeaderEpochHandler: ApiHandler {
    static let versions: ClosedRange<Int16> = 0...4
    let broker: Broker

    func handle(_ request: OffsetForLeaderEpochRequest, context: RequestContext) async -> OffsetForLeaderEpochResponse? {
        var topics: [OffsetForLeaderEpochResponse.OffsetForLeaderTopicResult] = []
        for wanted in request.topics {
            var partitions: [OffsetForLeaderEpochResponse.EpochEndOffset] = []
            for query in wanted.partitions {
                var answer = OffsetForLeaderEpochResponse.EpochEndOffset(partition: query.partition, leaderEpoch: -1, endOffset: -1)
                if !broker.authorized(context, .describe, .topic, wanted.topic) {
                    answer.errorCode = KafkaErrorCode.topicAuthorizationFailed.rawValue
                } else if let partition = await broker.topics.partition(wanted.topic, query.partition) {
                    if query.currentLeaderEpoch > 0 {
                        answer.errorCode = KafkaErrorCode.unknownLeaderEpoch.rawValue
                    } else if query.leaderEpoch >= 0 {
                        do {
                            try await partition.prepareToServe()
                            answer.leaderEpoch = 0
                            answer.endOffset = await partition.logEndOffset
                        } catch {
                            answer.errorCode = KafkaErrorCode(storage: error).rawValue
                        }
                    }
                } else {
                    answer.errorCode = KafkaErrorCode.unknownTopicOrPartition.rawValue
                }
                partitions.append(answer)
            }
            topics.append(.init(topic: wanted.topic, partitions: partitions))
        }
        return OffsetForLeaderEpochResponse(throttleTimeMs: 0, topics: topics)
    }
}
