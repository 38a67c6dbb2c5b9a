import KafkaProtocol

/// DescribeClientQuotas (key 48), v0-1: the quota entities a filter matches, with their
/// values. A component matches an entity part exactly (0), the default (1) or any name (2);
/// `strict` leaves out entities with parts the filter does not name. Needs DESCRIBE_CONFIGS
/// on the cluster.
struct DescribeClientQuotasHandler: ApiHandler {
    static let versions: ClosedRange<Int16> = 0...1
    let broker: Broker

    func handle(_ request: DescribeClientQuotasRequest, context: RequestContext) async -> DescribeClientQuotasResponse? {
        var response = DescribeClientQuotasResponse()
        response.errorMessage = nil
        guard broker.authorizedOnCluster(context, .describeConfigs) else {
            response.errorCode = KafkaErrorCode.clusterAuthorizationFailed.rawValue
            response.entries = nil
            return response
        }
        for component in request.components where !["user", "client-id"].contains(component.entityType) || !(0...2).contains(component.matchType) {
            response.errorCode = KafkaErrorCode.invalidRequest.rawValue
            response.errorMessage = "Unknown entity type \(component.entityType) or match type \(component.matchType)."
            response.entries = nil
            return response
        }
        func part(_ entity: ClientQuotas.Entity, _ type: String) -> String?? { type == "user" ? entity.user : entity.clientId }
        let matching = broker.quotas.entries.filter { entity, _ in
            for component in request.components {
                guard let present = part(entity, component.entityType) else { return false }
                switch component.matchType {
                case 0: if present != component.match || component.match == nil { return false }
                case 1: if present != nil { return false }
                default: break
                }
            }
            if request.strict {
                let named = Set(request.components.map(\.entityType))
                if entity.user != nil && !named.contains("user") { return false }
                if entity.clientId != nil && !named.contains("client-id") { return false }
            }
            return true
        }
        response.entries = matching.sorted { "\($0.key)" < "\($1.key)" }.map { entity, values in
            var parts: [DescribeClientQuotasResponse.EntityData] = []
            if let user = entity.user { parts.append(.init(entityType: "user", entityName: user)) }
            if let client = entity.clientId { parts.append(.init(entityType: "client-id", entityName: client)) }
            return .init(entity: parts, values: values.sorted { $0.key < $1.key }.map { .init(key: $0.key, value: $0.value) })
        }
        return response
    }
}
