import KafkaProtocol

extension Broker {
    /// True when the request's principal may do `operation` on the resource (always true
    /// with the authorizer off).
    func authorized(_ context: RequestContext, _ operation: AclOperation, _ type: AclResourceType, _ name: String) -> Bool {
        guard authorizer.enabled else { return true }
        return authorizer.authorize(context.principal, host: context.host, operation, type, name)
    }

    /// True when the principal may do `operation` on the cluster.
    func authorizedOnCluster(_ context: RequestContext, _ operation: AclOperation) -> Bool {
        authorized(context, operation, .cluster, AclResourceType.clusterName)
    }

    /// Logs a refusal at the level operators watch for (one line per refused request).
    func logDenied(_ context: RequestContext, _ operation: AclOperation, _ type: AclResourceType, _ name: String) {
        logger.info("authorization denied", metadata: [
            "principal": "\(context.principal)", "host": "\(context.host)", "operation": "\(operation)",
            "resource": "\(type):\(name)", "api": "\(context.apiKey.name)",
        ])
    }
}

/// The ACL check of the config APIs: topics need the operation on the topic, the broker
/// resource needs it on the cluster.
enum ConfigAuthorization {
    static func denial(_ broker: Broker, _ context: RequestContext, _ operation: AclOperation, resourceType: Int8, name: String) -> KafkaErrorCode? {
        switch TopicConfigs.ResourceType(rawValue: resourceType) {
        case .topic:
            guard !broker.authorized(context, operation, .topic, name) else { return nil }
            broker.logDenied(context, operation, .topic, name)
            return .topicAuthorizationFailed
        case .broker:
            guard !broker.authorizedOnCluster(context, operation) else { return nil }
            broker.logDenied(context, operation, .cluster, AclResourceType.clusterName)
            return .clusterAuthorizationFailed
        default:
            return nil
        }
    }
}
