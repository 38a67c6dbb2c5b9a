import KafkaProtocol

/// CreatePartitions (key 37), v0-3: raises a topic's partition count; assignments, when
/// given, may name only this broker. validate_only checks without changing anything.
struct CreatePartitionsHandler: ApiHandler {
    static let versions: ClosedRange<Int16> = 0...3
    let broker: Broker

    func handle(_ request: CreatePartitionsRequest, context: RequestContext) async -> CreatePartitionsResponse? {
        var results: [CreatePartitionsResponse.CreatePartitionsTopicResult] = []
        for wanted in request.topics {
            let node = broker.node.id
            guard broker.authorized(context, .alter, .topic, wanted.name) else {
                broker.logDenied(context, .alter, .topic, wanted.name)
                results.append(.init(name: wanted.name, errorCode: KafkaErrorCode.topicAuthorizationFailed.rawValue, errorMessage: nil))
                continue
            }
            if let assignments = wanted.assignments, assignments.contains(where: { $0.brokerIds != [node] }) {
                results.append(.init(name: wanted.name, errorCode: KafkaErrorCode.invalidReplicaAssignment.rawValue,
                                     errorMessage: "Assignments may name only broker \(node)."))
                continue
            }
            do {
                try await broker.topics.createPartitions(name: wanted.name, total: wanted.count, validateOnly: request.validateOnly)
                results.append(.init(name: wanted.name, errorCode: 0, errorMessage: nil))
            } catch {
                results.append(.init(name: wanted.name, errorCode: error.code.rawValue, errorMessage: error.message))
            }
        }
        return CreatePartitionsResponse(throttleTimeMs: 0, results: results)
    }
}
