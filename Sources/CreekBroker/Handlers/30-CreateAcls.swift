import KafkaProtocol

/// CreateAcls (key 30), v0-3: adds ACLs, each checked on its own (INVALID_REQUEST with the
/// reason) and all accepted ones saved durably before the response. Needs ALTER on the
/// cluster; SECURITY_DISABLED when the authorizer is off.
struct CreateAclsHandler: ApiHandler {
    static let versions: ClosedRange<Int16> = 0...3
    let broker: Broker

    func handle(_ request: CreateAclsRequest, context: RequestContext) async -> CreateAclsResponse? {
        func refusal(_ code: KafkaErrorCode, _ message: String?) -> CreateAclsResponse {
            CreateAclsResponse(throttleTimeMs: 0, results: request.creations.map { _ in .init(errorCode: code.rawValue, errorMessage: message) })
        }
        guard broker.authorizer.enabled else { return refusal(.securityDisabled, "No authorizer is configured on this broker.") }
        guard broker.authorizedOnCluster(context, .alter) else {
            broker.logDenied(context, .alter, .cluster, AclResourceType.clusterName)
            return refusal(.clusterAuthorizationFailed, nil)
        }
        var results: [CreateAclsResponse.AclCreationResult] = []
        var accepted: [AclBinding] = []
        for creation in request.creations {
            if let problem = AclBinding.problem(
                resourceType: creation.resourceType, resourceName: creation.resourceName, patternType: creation.resourcePatternType,
                principal: creation.principal, host: creation.host, operation: creation.operation, permission: creation.permissionType
            ) {
                results.append(.init(errorCode: KafkaErrorCode.invalidRequest.rawValue, errorMessage: problem))
                continue
            }
            guard let type = AclResourceType(rawValue: creation.resourceType), let pattern = AclPatternType(rawValue: creation.resourcePatternType),
                  let operation = AclOperation(rawValue: creation.operation), let permission = AclPermission(rawValue: creation.permissionType)
            else {
                results.append(.init(errorCode: KafkaErrorCode.invalidRequest.rawValue, errorMessage: "Invalid ACL."))
                continue
            }
            accepted.append(AclBinding(
                resourceType: type, resourceName: creation.resourceName, patternType: pattern, principal: creation.principal,
                host: creation.host, operation: operation, permission: permission
            ))
            results.append(.init(errorCode: 0, errorMessage: nil))
        }
        do {
            try await broker.authorizer.add(accepted)
            if !accepted.isEmpty {
                broker.logger.notice("ACLs added", metadata: ["count": "\(accepted.count)", "by": "\(context.principal)"])
            }
        } catch {
            let code = KafkaErrorCode(storage: error)
            for index in results.indices where results[index].errorCode == 0 {
                results[index] = .init(errorCode: code.rawValue, errorMessage: "Could not save the ACLs: \(error)")
            }
        }
        return CreateAclsResponse(throttleTimeMs: 0, results: results)
    }
}
