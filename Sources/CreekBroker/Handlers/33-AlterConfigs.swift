import KafkaProtocol

/// AlterConfigs (key 33), v0-2: replaces a topic's whole override set (configs not named
/// return to their defaults). Broker resources are read-only (INVALID_REQUEST).
struct AlterConfigsHandler: ApiHandler {
    static let versions: ClosedRange<Int16> = 0...2
    let broker: Broker

    func handle(_ request: AlterConfigsRequest, context: RequestContext) async -> AlterConfigsResponse? {
        var responses: [AlterConfigsResponse.AlterConfigsResourceResponse] = []
        for resource in request.resources {
            if let denied = ConfigAuthorization.denial(broker, context, .alterConfigs, resourceType: resource.resourceType, name: resource.resourceName) {
                responses.append(.init(errorCode: denied.rawValue, errorMessage: nil, resourceType: resource.resourceType, resourceName: resource.resourceName))
                continue
            }
            let (code, message) = await TopicConfigChange(broker: broker).apply(
                resourceType: resource.resourceType, resourceName: resource.resourceName, validateOnly: request.validateOnly
            ) { _ in
                var overrides: [String: String] = [:]
                for config in resource.configs {
                    guard let value = config.value else { continue }
                    overrides[config.name] = value
                }
                return .success(overrides)
            }
            responses.append(.init(errorCode: code.rawValue, errorMessage: message, resourceType: resource.resourceType, resourceName: resource.resourceName))
        }
        return AlterConfigsResponse(throttleTimeMs: 0, responses: responses)
    }
}
