import KafkaProtocol

/// AlterClientQuotas (key 49), v0-1: sets or removes quota values per entity (user and/or
/// client-id, named or default). Checked per entry (INVALID_REQUEST with the reason: unknown
/// or repeated entity types, unknown keys, values that are not positive); accepted entries
/// are saved durably before the response and enforced from the next request. Needs
/// ALTER_CONFIGS on the cluster.
struct AlterClientQuotasHandler: ApiHandler {
    static let versions: ClosedRange<Int16> = 0...1
    let broker: Broker

    func handle(_ request: AlterClientQuotasRequest, context: RequestContext) async -> AlterClientQuotasResponse? {
        var results: [AlterClientQuotasResponse.EntryData] = []
        var changes: [ClientQuotas.Change] = []
        let allowed = broker.authorizedOnCluster(context, .alterConfigs)
        for entry in request.entries {
            let echoed = entry.entity.map { AlterClientQuotasResponse.EntityData(entityType: $0.entityType, entityName: $0.entityName) }
            func refuse(_ code: KafkaErrorCode, _ message: String?) {
                results.append(.init(errorCode: code.rawValue, errorMessage: message, entity: echoed))
            }
            guard allowed else { refuse(.clusterAuthorizationFailed, nil); continue }
            var entity = ClientQuotas.Entity()
            var problem: String?
            for part in entry.entity {
                switch part.entityType {
                case "user" where entity.user == nil: entity.user = .some(part.entityName)
                case "client-id" where entity.clientId == nil: entity.clientId = .some(part.entityName)
                case "user", "client-id": problem = "Entity type \(part.entityType) appears twice."
                default: problem = "Creek supports quotas for user and client-id entities, not \(part.entityType)."
                }
            }
            if entry.entity.isEmpty { problem = "The entity is empty." }
            for op in entry.ops where problem == nil {
                if !ClientQuotas.keys.contains(op.key) {
                    problem = "Unknown quota \(op.key); known: \(ClientQuotas.keys.sorted().joined(separator: ", "))."
                } else if !op.remove && !(op.value > 0 && op.value.isFinite) {
                    problem = "\(op.key) must be a positive number."
                }
            }
            if let problem { refuse(.invalidRequest, problem); continue }
            changes += entry.ops.map { ClientQuotas.Change(entity: entity, key: $0.key, value: $0.remove ? nil : $0.value) }
            results.append(.init(errorCode: 0, errorMessage: nil, entity: echoed))
        }
        if !request.validateOnly && !changes.isEmpty {
            do {
                try await broker.quotas.apply(changes)
                broker.logger.notice("client quotas changed", metadata: ["changes": "\(changes.count)", "by": "\(context.principal)"])
            } catch {
                let code = KafkaErrorCode(storage: error)
                for index in results.indices where results[index].errorCode == 0 {
                    results[index].errorCode = code.rawValue
                    results[index].errorMessage = "Could not save the quotas: \(error)"
                }
            }
        }
        return AlterClientQuotasResponse(throttleTimeMs: 0, entries: results)
    }
}
