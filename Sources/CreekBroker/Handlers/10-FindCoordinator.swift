import KafkaProtocol

/// FindCoordinator (key 10), v0-6: this broker coordinates every consumer group. A
/// transaction key (key type 1) gets COORDINATOR_NOT_AVAILABLE until transactions exist.
/// v0-3 answer one key; v4+ a batch. The range includes v0 because librdkafka 2.0.2 looks
/// for a group coordinator only when it does.
struct FindCoordinatorHandler: ApiHandler {
    static let versions: ClosedRange<Int16> = 0...6
    let broker: Broker

    func handle(_ request: FindCoordinatorRequest, context: RequestContext) async -> FindCoordinatorResponse? {
        let node = broker.node
        let unsupported = "Creek does not coordinate transactions yet."
        if context.apiVersion < 4 {
            if request.keyType == 1 {
                return FindCoordinatorResponse(errorCode: KafkaErrorCode.coordinatorNotAvailable.rawValue, errorMessage: unsupported,
                                               nodeId: -1, host: "", port: -1)
            }
            return FindCoordinatorResponse(errorCode: 0, errorMessage: nil, nodeId: node.id, host: node.host, port: node.port)
        }
        let coordinators = request.coordinatorKeys.map { key in
            request.keyType == 1
                ? FindCoordinatorResponse.Coordinator(key: key, nodeId: -1, host: "", port: -1,
                                                     errorCode: KafkaErrorCode.coordinatorNotAvailable.rawValue, errorMessage: unsupported)
                : FindCoordinatorResponse.Coordinator(key: key, nodeId: node.id, host: node.host, port: node.port, errorCode: 0)
        }
        return FindCoordinatorResponse(coordinators: coordinators)
    }
}
