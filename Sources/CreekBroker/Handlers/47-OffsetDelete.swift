import KafkaProtocol

/// OffsetDelete (key 47), v0: removes committed offsets of chosen partitions, refusing
/// (GROUP_SUBSCRIBED_TO_TOPIC) partitions of topics an active consumer group subscribes to.
struct OffsetDeleteHandler: ApiHandler {
    static let versions: ClosedRange<Int16> = 0...0
    let broker: Broker

    func handle(_ request: OffsetDeleteRequest, context: RequestContext) async -> OffsetDeleteResponse? {
        guard broker.authorized(context, .delete, .group, request.groupId) else {
            broker.logDenied(context, .delete, .group, request.groupId)
            return OffsetDeleteResponse(errorCode: KafkaErrorCode.groupAuthorizationFailed.rawValue)
        }
        guard await broker.groups.describe(request.groupId) != nil else {
            return OffsetDeleteResponse(errorCode: KafkaErrorCode.groupIdNotFound.rawValue)
        }
        let subscribed = await broker.groups.subscribedTopics(request.groupId) ?? []
        var deletions: [(topic: String, partition: Int32)] = []
        var topics: [OffsetDeleteResponse.OffsetDeleteResponseTopic] = []
        for topic in request.topics {
            let code: KafkaErrorCode
            if !broker.authorized(context, .read, .topic, topic.name) {
                code = .topicAuthorizationFailed
            } else if subscribed.contains(topic.name) {
                code = .groupSubscribedToTopic
            } else if broker.topics.topic(named: topic.name) == nil {
                code = .unknownTopicOrPartition
            } else {
                code = .none
                deletions += topic.partitions.map { (topic.name, $0.partitionIndex) }
            }
            topics.append(.init(name: topic.name, partitions: topic.partitions.map { .init(partitionIndex: $0.partitionIndex, errorCode: code.rawValue) }))
        }
        do {
            if !deletions.isEmpty { try broker.groups.offsets.delete(group: request.groupId, partitions: deletions) }
        } catch {
            return OffsetDeleteResponse(errorCode: KafkaErrorCode.kafkaStorageError.rawValue)
        }
        return OffsetDeleteResponse(errorCode: 0, throttleTimeMs: 0, topics: topics)
    }
}
