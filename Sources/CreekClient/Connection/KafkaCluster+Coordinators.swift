import KafkaProtocol

extension KafkaCluster {
    /// What a coordinator is looked up for (FindCoordinator's key type).
    public enum CoordinatorKind: Int8, Sendable {
        case group = 0
        case transaction = 1
    }

    /// The node id of the coordinator of `key` (a group id or a transactional id).
    public func coordinator(of key: String, kind: CoordinatorKind) async throws -> Int32 {
        let connection = try await anyConnection()
        let version = try connection.version(of: .findCoordinator, supported: 0...3)
        var request = FindCoordinatorRequest()
        request.key = key
        request.keyType = kind.rawValue
        let answer = try await connection.send(request, version: version, timeout: config.requestTimeout)
        try KafkaClientError.check(answer.errorCode, "FindCoordinator \(key)", message: answer.errorMessage)
        if metadata.brokers[answer.nodeId] == nil { try await refreshMetadata() }
        return answer.nodeId
    }

    /// The controller's connection (any broker when the cluster names none, or one it does
    /// not list — librdkafka's mock cluster reports controller 0 beside brokers 1…N).
    func controllerConnection() async throws -> BrokerConnection {
        let known = try await metadata(for: nil)
        if known.controllerId >= 0, known.brokers[known.controllerId] != nil { return try await connection(to: known.controllerId) }
        return try await anyConnection()
    }
}
