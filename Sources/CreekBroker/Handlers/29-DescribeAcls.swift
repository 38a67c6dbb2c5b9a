import KafkaProtocol

/// DescribeAcls (key 29), v0-3: the ACLs a filter matches, grouped by resource. Needs
/// DESCRIBE on the cluster; SECURITY_DISABLED when the authorizer is off, as in Kafka.
struct DescribeAclsHandler: ApiHandler {
    static let versions: ClosedRange<Int16> = 0...3
    let broker: Broker

    func handle(_ request: DescribeAclsRequest, context: RequestContext) async -> DescribeAclsResponse? {
        var response = DescribeAclsResponse()
        response.errorMessage = nil
        guard broker.authorizer.enabled else {
            response.errorCode = KafkaErrorCode.securityDisabled.rawValue
            response.errorMessage = "No authorizer is configured on this broker."
            return response
        }
        guard broker.authorizedOnCluster(context, .describe) else {
            broker.logDenied(context, .describe, .cluster, AclResourceType.clusterName)
            response.errorCode = KafkaErrorCode.clusterAuthorizationFailed.rawValue
            return response
        }
        guard let filter = AclFilter(
            resourceType: request.resourceTypeFilter, resourceName: request.resourceNameFilter, patternType: request.patternTypeFilter,
            principal: request.principalFilter, host: request.hostFilter, operation: request.operation, permission: request.permissionType
        ) else {
            response.errorCode = KafkaErrorCode.invalidRequest.rawValue
            response.errorMessage = "The filter holds an unknown resource type, pattern type, operation or permission."
            return response
        }
        var byResource: [String: DescribeAclsResponse.DescribeAclsResource] = [:]
        var order: [String] = []
        for binding in broker.authorizer.all where filter.matches(binding) {
            let key = "\(binding.resourceType.rawValue)\u{0}\(binding.patternType.rawValue)\u{0}\(binding.resourceName)"
            if byResource[key] == nil {
                order.append(key)
                byResource[key] = .init(resourceType: binding.resourceType.rawValue, resourceName: binding.resourceName, patternType: binding.patternType.rawValue)
            }
            byResource[key]?.acls.append(.init(
                principal: binding.principal, host: binding.host, operation: binding.operation.rawValue, permissionType: binding.permission.rawValue
            ))
        }
        response.resources = order.compactMap { byResource[$0] }
        return response
    }
}
