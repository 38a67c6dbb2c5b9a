import KafkaProtocol

/// DeleteAcls (key 31), v0-3: removes the ACLs each filter matches and returns them per
/// filter; saved durably before the response. Needs ALTER on the cluster;
/// SECURITY_DISABLED when the authorizer is off.
struct DeleteAclsHandler: ApiHandler {
    static let versions: ClosedRange<Int16> = 0...3
    let broker: Broker

    func handle(_ request: DeleteAclsRequest, context: RequestContext) async -> DeleteAclsResponse? {
        func refusal(_ code: KafkaErrorCode, _ message: String?) -> DeleteAclsResponse {
            DeleteAclsResponse(throttleTimeMs: 0, filterResults: request.filters.map { _ in .init(errorCode: code.rawValue, errorMessage: message) })
        }
        guard broker.authorizer.enabled else { return refusal(.securityDisabled, "No authorizer is configured on this broker.") }
        guard broker.authorizedOnCluster(context, .alter) else {
            broker.logDenied(context, .alter, .cluster, AclResourceType.clusterName)
            return refusal(.clusterAuthorizationFailed, nil)
        }
        let filters = request.filters.map {
            AclFilter(
                resourceType: $0.resourceTypeFilter, resourceName: $0.resourceNameFilter, patternType: $0.patternTypeFilter,
                principal: $0.principalFilter, host: $0.hostFilter, operation: $0.operation, permission: $0.permissionType
            )
        }
        let removed: [[AclBinding]]
        do {
            removed = try await broker.authorizer.remove(matching: filters.compactMap { $0 })
        } catch {
            return refusal(KafkaErrorCode(storage: error), "Could not save the ACLs: \(error)")
        }
        var next = removed.makeIterator()
        let results: [DeleteAclsResponse.DeleteAclsFilterResult] = filters.map { filter in
            guard filter != nil else {
                return .init(errorCode: KafkaErrorCode.invalidRequest.rawValue, errorMessage: "The filter holds an unknown value.")
            }
            let matched = next.next() ?? []
            return .init(errorCode: 0, errorMessage: nil, matchingAcls: matched.map {
                .init(
                    errorCode: 0, errorMessage: nil, resourceType: $0.resourceType.rawValue, resourceName: $0.resourceName,
                    patternType: $0.patternType.rawValue, principal: $0.principal, host: $0.host, operation: $0.operation.rawValue,
                    permissionType: $0.permission.rawValue
                )
            })
        }
        if removed.contains(where: { !$0.isEmpty }) {
            broker.logger.notice("ACLs removed", metadata: ["count": "\(removed.joined().count)", "by": "\(context.principal)"])
        }
        return DeleteAclsResponse(throttleTimeMs: 0, filterResults: results)
    }
}
