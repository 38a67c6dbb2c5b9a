import CreekStorage
import KafkaProtocol

/// CreateTopics (key 19), v2-7. Partition count (or manual assignments, each naming only
/// this broker), replication factor -1 or 1, configs (validated by name and value),
/// validate_only. Errors: TOPIC_ALREADY_EXISTS, INVALID_PARTITIONS, INVALID_REPLICATION_FACTOR,
/// INVALID_TOPIC_EXCEPTION, INVALID_CONFIG, INVALID_REQUEST for a name given twice.
/// v5+ returns the partition count, replication factor and the topic's configs.
struct CreateTopicsHandler: ApiHandler {
    static let versions: ClosedRange<Int16> = 2...7
    let broker: Broker

    typealias Result = CreateTopicsResponse.CreatableTopicResult

    func handle(_ request: CreateTopicsRequest, context: RequestContext) async -> CreateTopicsResponse? {
        var seen: [String: Int] = [:]
        for topic in request.topics { seen[topic.name, default: 0] += 1 }
        var results: [Result] = []
        for wanted in request.topics {
            if seen[wanted.name, default: 0] > 1 {
                results.append(failure(wanted.name, .invalidRequest, "Topic '\(wanted.name)' appears more than once in the request."))
                continue
            }
            guard broker.authorizedOnCluster(context, .create) || broker.authorized(context, .create, .topic, wanted.name) else {
                broker.logDenied(context, .create, .topic, wanted.name)
                results.append(failure(wanted.name, .topicAuthorizationFailed, "Not authorized to create topic \(wanted.name)."))
                continue
            }
            var partitions = wanted.numPartitions
            if !wanted.assignments.isEmpty {
                guard wanted.numPartitions == -1, wanted.replicationFactor == -1 else {
                    results.append(failure(wanted.name, .invalidRequest, "Give either assignments or a partition count and replication factor, not both."))
                    continue
                }
                let node = broker.node.id
                let valid = wanted.assignments.enumerated().allSatisfy { $0.element.partitionIndex == Int32($0.offset) && $0.element.brokerIds == [node] }
                guard valid else {
                    results.append(failure(wanted.name, .invalidReplicaAssignment, "Assignments must number partitions from 0 and name only broker \(node)."))
                    continue
                }
                partitions = Int32(wanted.assignments.count)
            }
            var configs: [String: String] = [:]
            for config in wanted.configs {
                configs[config.name] = config.value
            }
            do {
                let topic = try await broker.topics.create(
                    name: wanted.name, partitions: partitions, replicationFactor: wanted.replicationFactor,
                    configs: configs, validateOnly: request.validateOnly
                )
                if !request.validateOnly {
                    broker.logger.info("created topic", metadata: ["topic": "\(wanted.name)", "partitions": "\(topic.partitions.count)"])
                }
                let count = partitions == -1 ? broker.config.numPartitions : partitions
                let effective = TopicConfigs.defaults(broker.config).merging(configs) { _, override in override }
                results.append(Result(
                    name: wanted.name, topicId: request.validateOnly ? .zero : topic.id, errorCode: 0, errorMessage: nil,
                    numPartitions: count, replicationFactor: 1,
                    configs: effective.sorted { $0.key < $1.key }.map {
                        .init(name: $0.key, value: $0.value, readOnly: false, configSource: configs[$0.key] == nil ? 5 : 1, isSensitive: false)
                    }
                ))
            } catch {
                results.append(failure(wanted.name, error.code, error.message))
            }
        }
        return CreateTopicsResponse(throttleTimeMs: 0, topics: results)
    }

    private func failure(_ name: String, _ code: KafkaErrorCode, _ message: String) -> Result {
        Result(name: name, errorCode: code.rawValue, errorMessage: message, numPartitions: -1, replicationFactor: -1, configs: nil)
    }
}
