import CreekStorage
import KafkaProtocol

/// DescribeConfigs (key 32), v0-4, for topics (every config Creek knows, with its source:
/// a topic override or the broker default) and for this broker (its settings, read-only).
/// Synonyms (v1+) list the broker setting a topic config defaults to.
struct DescribeConfigsHandler: ApiHandler {
    static let versions: ClosedRange<Int16> = 0...4
    let broker: Broker

    typealias Entry = DescribeConfigsResponse.DescribeConfigsResourceResult
    /// Kafka's ConfigSource values.
    enum Source: Int8 { case topicOverride = 1, dynamicBroker = 2, staticBroker = 4, defaultConfig = 5 }

    func handle(_ request: DescribeConfigsRequest, context: RequestContext) async -> DescribeConfigsResponse? {
        var results: [DescribeConfigsResponse.DescribeConfigsResult] = []
        if request.resources.contains(where: { TopicConfigs.ResourceType(rawValue: $0.resourceType) == .topic }) {
            // In a cluster another broker may have just changed or created the topic.
            await broker.topics.refreshFromStore()
        }
        for resource in request.resources {
            var result = DescribeConfigsResponse.DescribeConfigsResult(resourceType: resource.resourceType, resourceName: resource.resourceName)
            let wanted = resource.configurationKeys.map(Set.init)
            if let denied = ConfigAuthorization.denial(broker, context, .describeConfigs, resourceType: resource.resourceType, name: resource.resourceName) {
                result.errorCode = denied.rawValue
                results.append(result)
                continue
            }
            switch TopicConfigs.ResourceType(rawValue: resource.resourceType) {
            case .topic:
                guard let topic = broker.topics.topic(named: resource.resourceName) else {
                    result.errorCode = KafkaErrorCode.unknownTopicOrPartition.rawValue
                    result.errorMessage = "Topic '\(resource.resourceName)' does not exist."
                    break
                }
                let defaults = TopicConfigs.defaults(broker.config)
                for (name, brokerName) in TopicConfigs.names where wanted?.contains(name) ?? true {
                    let override = topic.overrides[name]
                    let value = override ?? defaults[name]
                    var entry = Entry(
                        name: name, value: value, readOnly: false, isDefault: override == nil,
                        configSource: (override == nil ? Source.defaultConfig : .topicOverride).rawValue, isSensitive: false,
                        configType: TopicConfigs.type(of: name).rawValue
                    )
                    if request.includeSynonyms {
                        if let override { entry.synonyms.append(.init(name: name, value: override, source: Source.topicOverride.rawValue)) }
                        entry.synonyms.append(.init(name: brokerName, value: defaults[name], source: Source.staticBroker.rawValue))
                    }
                    result.configs.append(entry)
                }
            case .broker:
                guard resource.resourceName.isEmpty || resource.resourceName == String(broker.node.id) else {
                    result.errorCode = KafkaErrorCode.invalidRequest.rawValue
                    result.errorMessage = "Broker \(resource.resourceName) is not this broker (\(broker.node.id))."
                    break
                }
                let dynamic = broker.dynamicConfig.overrides
                for (name, value, type) in broker.config.describedEntries where wanted?.contains(name) ?? true {
                    var entry = Entry(
                        name: name, value: value, readOnly: !DynamicBrokerConfig.names.contains(name), isDefault: false,
                        configSource: (dynamic[name] == nil ? Source.staticBroker : .dynamicBroker).rawValue, isSensitive: false,
                        configType: type.rawValue
                    )
                    if request.includeSynonyms, dynamic[name] != nil {
                        entry.synonyms = [.init(name: name, value: value, source: Source.dynamicBroker.rawValue)]
                    }
                    result.configs.append(entry)
                }
            case nil:
                result.errorCode = KafkaErrorCode.invalidRequest.rawValue
                result.errorMessage = "Config resource type \(resource.resourceType) is not supported."
            }
            results.append(result)
        }
        return DescribeConfigsResponse(throttleTimeMs: 0, results: results)
    }
}
