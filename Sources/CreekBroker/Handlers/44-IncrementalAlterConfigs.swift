import KafkaProtocol

/// IncrementalAlterConfigs (key 44), v0-1: SET (0) and DELETE (1) per topic config;
/// APPEND (2) and SUBTRACT (3) apply to list configs (only `cleanup.policy`, whose only
/// allowed value is `delete`). On the broker resource (this broker's id, or "" for the
/// cluster default: one node, one set) the dynamic settings change (`DynamicBrokerConfig`);
/// the others are INVALID_REQUEST.
struct IncrementalAlterConfigsHandler: ApiHandler {
    static let versions: ClosedRange<Int16> = 0...1
    let broker: Broker

    func handle(_ request: IncrementalAlterConfigsRequest, context: RequestContext) async -> IncrementalAlterConfigsResponse? {
        var responses: [IncrementalAlterConfigsResponse.AlterConfigsResourceResponse] = []
        for resource in request.resources {
            if let denied = ConfigAuthorization.denial(broker, context, .alterConfigs, resourceType: resource.resourceType, name: resource.resourceName) {
                responses.append(.init(errorCode: denied.rawValue, errorMessage: nil, resourceType: resource.resourceType, resourceName: resource.resourceName))
                continue
            }
            if TopicConfigs.ResourceType(rawValue: resource.resourceType) == .broker {
                let (code, message) = await alterBroker(resource, validateOnly: request.validateOnly)
                responses.append(.init(errorCode: code.rawValue, errorMessage: message, resourceType: resource.resourceType, resourceName: resource.resourceName))
                continue
            }
            let (code, message) = await TopicConfigChange(broker: broker).apply(
                resourceType: resource.resourceType, resourceName: resource.resourceName, validateOnly: request.validateOnly
            ) { current in
                var overrides = current
                for change in resource.configs {
                    guard TopicConfigs.isKnown(change.name) else {
                        return .failure(.invalidConfig("Unknown topic config \(change.name)."))
                    }
                    switch change.configOperation {
                    case 0:
                        guard let value = change.value else { return .failure(.invalidConfig("SET \(change.name) needs a value.")) }
                        overrides[change.name] = value
                    case 1:
                        overrides[change.name] = nil
                    case 2, 3:
                        guard TopicConfigs.type(of: change.name) == .list else {
                            return .failure(.invalidConfig("APPEND and SUBTRACT apply only to list configs, not \(change.name)."))
                        }
                        if change.configOperation == 2, let value = change.value { overrides[change.name] = value }
                    default:
                        return .failure(.invalidConfig("Unknown config operation \(change.configOperation)."))
                    }
                }
                return .success(overrides)
            }
            responses.append(.init(errorCode: code.rawValue, errorMessage: message, resourceType: resource.resourceType, resourceName: resource.resourceName))
        }
        return IncrementalAlterConfigsResponse(throttleTimeMs: 0, responses: responses)
    }

    private func alterBroker(_ resource: IncrementalAlterConfigsRequest.AlterConfigsResource, validateOnly: Bool) async -> (KafkaErrorCode, String?) {
        guard resource.resourceName.isEmpty || resource.resourceName == String(broker.node.id) else {
            return (.invalidRequest, "Broker \(resource.resourceName) is not this broker (\(broker.node.id)).")
        }
        let changes = resource.configs.map { DynamicBrokerConfig.Change(name: $0.name, operation: $0.configOperation, value: $0.value) }
        let (code, message) = await broker.dynamicConfig.alter(changes, validateOnly: validateOnly, topics: broker.topics)
        if code == .none && !validateOnly {
            broker.logger.notice("changed broker configs", metadata: ["configs": "\(broker.dynamicConfig.overrides)"])
        }
        return (code, message)
    }
}
