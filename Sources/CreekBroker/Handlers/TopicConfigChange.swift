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
            do {
                let overrides = try await broker.topics.changeConfigs(name: resourceName, validateOnly: validateOnly) {
                    (current) throws(TopicError) -> [String: String] in try compute(current).get()
                }
                if !validateOnly {
                    broker.logger.info("changed topic configs", metadata: ["topic": "\(resourceName)", "configs": "\(overrides)"])
                }
                return (.none, nil)
            } catch {
                return (error.code, error.message)
            }
        case .broker:
            return (.invalidRequest, "Broker settings are read-only; set them with --set NAME=VALUE at startup.")
        case nil:
            return (.invalidRequest, "Config resource type \(resourceType) is not supported.")
        }
    }
}
