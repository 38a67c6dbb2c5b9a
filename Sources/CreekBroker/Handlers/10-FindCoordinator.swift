import KafkaProtocol

/// FindCoordinator (key 10), v0-6: the coordinator of a consumer group or transactional id
/// (key type 1) — this broker when alone, else the live broker the key hashes to
/// (`Broker+Cluster`); other key types get INVALID_REQUEST.
/// v0-3 answer one key; v4+ a batch. The range includes v0 because librdkafka 2.0.2 looks
/// for a group coordinator only when it does.
struct FindCoordinatorHandler: ApiHandler {
    static let versions: ClosedRange<Int16> = 0...6
    let broker: Broker

    func handle(_ request: FindCoordinatorRequest, context: RequestContext) async -> FindCoordinatorResponse? {
        let refusal: KafkaErrorCode? = request.keyType == 0 || request.keyType == 1 ? nil : .invalidRequest
        // DESCRIBE on the group (key type 0) or the transactional id (1).
        func denial(_ key: String) -> KafkaErrorCode? {
            let type: AclResourceType = request.keyType == 1 ? .transactionalId : .group
            guard !broker.authorized(context, .describe, type, key) else { return nil }
            broker.logDenied(context, .describe, type, key)
            return type == .group ? .groupAuthorizationFailed : .transactionalIdAuthorizationFailed
        }
        if context.apiVersion < 4 {
            if let refusal {
                return FindCoordinatorResponse(errorCode: refusal.rawValue, errorMessage: "Unknown coordinator key type \(request.keyType).",
                                               nodeId: -1, host: "", port: -1)
            }
            if let denied = denial(request.key) {
                return FindCoordinatorResponse(errorCode: denied.rawValue, errorMessage: nil, nodeId: -1, host: "", port: -1)
            }
            let node = broker.coordinator(for: request.key, listener: context.listener)
            return FindCoordinatorResponse(errorCode: 0, errorMessage: nil, nodeId: node.id, host: node.host, port: node.port)
        }
        let coordinators = request.coordinatorKeys.map { key in
            if refusal == nil, let denied = denial(key) {
                return FindCoordinatorResponse.Coordinator(key: key, nodeId: -1, host: "", port: -1, errorCode: denied.rawValue, errorMessage: nil)
            }
            return refusal.map {
                FindCoordinatorResponse.Coordinator(key: key, nodeId: -1, host: "", port: -1, errorCode: $0.rawValue,
                                                    errorMessage: "Unknown coordinator key type \(request.keyType).")
            } ?? {
                let node = broker.coordinator(for: key, listener: context.listener)
                return FindCoordinatorResponse.Coordinator(key: key, nodeId: node.id, host: node.host, port: node.port, errorCode: 0)
            }()
        }
        return FindCoordinatorResponse(coordinators: coordinators)
    }
}
