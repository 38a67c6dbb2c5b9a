import KafkaProtocol

/// Shared by AlterConfigs and IncrementalAlterConfigs: validates a topic's new override
/// set and applies it (unless validate-only), as an error code and message on failure.
struct TopicConfigChange {
    let broker: Broker

    func apply(
        resourceType: Int8, resourceName: String, validateOnly: Bool,
        compute: ([String: String]) -> Result<[String: String], TopicError>
    ) async -> (KafkaErrorCode, String?) {
        switch TopicConfigs.ResourceType(rawValue: resourceType) {
        case .topic:
            // Incremental changes apply to the overrides as the store has them now; when
            // another request (on this broker or another) changes the same topic between
            // that read and the save, the save is refused and the change is computed again.
            var attempt = 1
            while true {
                await broker.topics.refreshFromStore()
                guard let topic = broker.topics.topic(named: resourceName) else {
                    return (.unknownTopicOrPartition, "Topic '\(resourceName)' does not exist.")
                }
                let overrides: [String: String]
                switch compute(topic.overrides) {
                case .success(let value): overrides = value
                case .failure(let error): return (error.code, error.message)
                }
                for (name, value) in overrides {
                    if let problem = TopicConfigs.validate(name: name, value: value) {
                        return (.invalidConfig, "Invalid config \(name)=\(value): \(problem)")
                    }
                }
                if validateOnly { return (.none, nil) }
                do {
                    try await broker.topics.setConfigs(name: resourceName, overrides: overrides, computedFrom: topic.overrides)
                    broker.logger.info("changed topic configs", metadata: ["topic": "\(resourceName)", "configs": "\(overrides)"])
                    return (.none, nil)
                } catch {
                    if case .changedConcurrently = error, attempt < 4 {
                        attempt += 1
                        continue
                    }
                    return (error.code, error.message)
                }
            }
        case .broker:
            return (.invalidRequest, "Broker settings are read-only; set them with --set NAME=VALUE at startup.")
        case nil:
            return (.invalidRequest, "Config resource type \(resourceType) is not supported.")
        }
    }
}
