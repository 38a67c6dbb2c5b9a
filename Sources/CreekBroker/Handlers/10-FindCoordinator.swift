import KafkaProtocol

/// FindCoordinator (key 10), v0-6. Consumer groups are not served yet, so every key gets
/// COORDINATOR_NOT_AVAILABLE (single-key layout before v4, batched from v4). The range
/// includes v0 because librdkafka 2.0.2 only looks for a coordinator when it does.
struct FindCoordinatorHandler: ApiHandler {
    static let versions: ClosedRange<Int16> = 0...6

    func handle(_ request: FindCoordinatorRequest, context: RequestContext) async -> FindCoordinatorResponse? {
        let code = KafkaErrorCode.coordinatorNotAvailable
        let message = "Creek does not coordinate consumer groups or transactions yet."
        if context.apiVersion < 4 {
            return FindCoordinatorResponse(errorCode: code.rawValue, errorMessage: message, nodeId: -1, host: "", port: -1)
        }
        let coordinators = request.coordinatorKeys.map {
            FindCoordinatorResponse.Coordinator(key: $0, nodeId: -1, host: "", port: -1, errorCode: code.rawValue, errorMessage: message)
        }
        return FindCoordinatorResponse(coordinators: coordinators)
    }
}
