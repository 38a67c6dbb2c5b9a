import KafkaProtocol

/// DeleteTopics (key 20), v0-6: by name (v0-5 `topic_names`, v6 `topics`) and by id (v6).
/// The topic leaves the catalog first, then its files are removed.
struct DeleteTopicsHandler: ApiHandler {
    static let versions: ClosedRange<Int16> = 0...6
    let broker: Broker

    func handle(_ request: DeleteTopicsRequest, context: RequestContext) async -> DeleteTopicsResponse? {
        var targets: [(name: String?, id: KafkaUUID)] = request.topicNames.map { ($0, .zero) }
        targets += request.topics.map { ($0.name, $0.topicId) }
        var results: [DeleteTopicsResponse.DeletableTopicResult] = []
        for target in targets {
            let topic = target.name.flatMap { broker.topics.topic(named: $0) } ?? (target.id == .zero ? nil : broker.topics.topic(id: target.id))
            if let name = topic?.name ?? target.name, !broker.authorized(context, .delete, .topic, name) {
                broker.logDenied(context, .delete, .topic, name)
                results.append(.init(name: target.name, topicId: target.id, errorCode: KafkaErrorCode.topicAuthorizationFailed.rawValue, errorMessage: nil))
                continue
            }
            guard let topic else {
                let code: KafkaErrorCode = target.name == nil ? .unknownTopicId : .unknownTopicOrPartition
                results.append(.init(name: target.name, topicId: target.id, errorCode: code.rawValue, errorMessage: "Unknown topic."))
                continue
            }
            if topic.isInternal {
                results.append(.init(name: topic.name, topicId: topic.id, errorCode: KafkaErrorCode.invalidTopicException.rawValue,
                                     errorMessage: "Topic \(topic.name) is internal and cannot be deleted."))
                continue
            }
            do {
                try await broker.topics.delete(name: topic.name)
                broker.metrics.forget(topic: topic.name)
                broker.logger.info("deleted topic", metadata: ["topic": "\(topic.name)"])
                results.append(.init(name: topic.name, topicId: topic.id, errorCode: 0))
            } catch {
                results.append(.init(name: topic.name, topicId: topic.id, errorCode: error.code.rawValue, errorMessage: error.message))
            }
        }
        return DeleteTopicsResponse(throttleTimeMs: 0, responses: results)
    }
}
