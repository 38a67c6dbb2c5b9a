import KafkaProtocol

/// DescribeUserScramCredentials (key 50), v0: each user's SCRAM mechanisms and iteration
/// counts (never salts or keys). No users named (null or empty): every user with a credential. A named
/// user without one: RESOURCE_NOT_FOUND; a name given twice: DUPLICATE_RESOURCE.
struct DescribeUserScramCredentialsHandler: ApiHandler {
    static let versions: ClosedRange<Int16> = 0...0
    let broker: Broker

    func handle(_ request: DescribeUserScramCredentialsRequest, context: RequestContext) async -> DescribeUserScramCredentialsResponse? {
        guard broker.authorizedOnCluster(context, .describe) else {
            broker.logDenied(context, .describe, .cluster, AclResourceType.clusterName)
            return DescribeUserScramCredentialsResponse(throttleTimeMs: 0, errorCode: KafkaErrorCode.clusterAuthorizationFailed.rawValue, errorMessage: nil, results: [])
        }
        let all = broker.credentials.all
        let requested = request.users?.map(\.name) ?? []
        let names = requested.isEmpty ? all.keys.sorted() : requested
        var seen: [String: Int] = [:]
        for name in names { seen[name, default: 0] += 1 }
        var response = DescribeUserScramCredentialsResponse()
        response.errorMessage = nil
        for name in names where seen[name] != nil {
            var result = DescribeUserScramCredentialsResponse.DescribeUserScramCredentialsResult()
            result.user = name
            result.errorMessage = nil
            if seen[name, default: 0] > 1 {
                result.errorCode = KafkaErrorCode.duplicateResource.rawValue
                result.errorMessage = "Cannot describe user \(name) twice in one request."
            } else if let credentials = all[name], !credentials.isEmpty {
                result.credentialInfos = credentials.values.sorted { $0.mechanism.wireValue < $1.mechanism.wireValue }.map {
                    .init(mechanism: $0.mechanism.wireValue, iterations: $0.iterations)
                }
            } else {
                result.errorCode = KafkaErrorCode.resourceNotFound.rawValue
                result.errorMessage = "Attempt to describe a user credential that does not exist: \(name)"
            }
            seen[name] = nil
            response.results.append(result)
        }
        return response
    }
}
