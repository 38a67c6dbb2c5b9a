public import KafkaProtocol
public import Logging

/// Administers any Kafka-compatible cluster: topics, configs, records, groups and the
/// cluster itself, each call one or a few requests with Kafka's errors turned into
/// `KafkaClientError`s (per-item failures throw the first one, naming the item). Holds only
/// its connections; thread-safe. `close()` when done.
public final class KafkaAdmin: Sendable {
    public let config: ClientConfig
    let cluster: KafkaCluster
    let logger: Logger

    public init(config: ClientConfig, logger: Logger = Logger(label: "creek.admin")) {
        self.config = config
        self.logger = logger
        cluster = KafkaCluster(config: config)
    }

    public func close() async {
        await cluster.close()
    }

    var timeoutMs: Int32 { Int32(clamping: config.requestTimeout.components.seconds * 1000) }

    // MARK: - Topics

    /// Creates `topics`; with `validateOnly` the broker only checks them.
    public func createTopics(_ topics: [NewTopic], validateOnly: Bool = false) async throws {
        let connection = try await cluster.controllerConnection()
        let version = try connection.version(of: .createTopics, supported: 2...7)
        var request = CreateTopicsRequest()
        request.timeoutMs = timeoutMs
        request.validateOnly = validateOnly
        request.topics = topics.map { topic in
            .init(
                name: topic.name, numPartitions: topic.partitions, replicationFactor: topic.replicationFactor, assignments: [],
                configs: topic.configs.sorted { $0.key < $1.key }.map { .init(name: $0.key, value: $0.value) }
            )
        }
        let response = try await connection.send(request, version: version, timeout: config.requestTimeout)
        for result in response.topics {
            try KafkaClientError.check(result.errorCode, "create topic \(result.name)", message: result.errorMessage)
        }
        if !validateOnly { try? await cluster.refreshMetadata() }
    }

    public func deleteTopics(_ names: [String]) async throws {
        let connection = try await cluster.controllerConnection()
        let version = try connection.version(of: .deleteTopics, supported: 1...6)
        var request = DeleteTopicsRequest()
        request.timeoutMs = timeoutMs
        request.topicNames = names
        request.topics = names.map { .init(name: $0, topicId: .zero) }
        let response = try await connection.send(request, version: version, timeout: config.requestTimeout)
        for result in response.responses {
            try KafkaClientError.check(result.errorCode, "delete topic \(result.name ?? "\(result.topicId)")", message: result.errorMessage)
        }
        try? await cluster.refreshMetadata()
    }

    /// Every topic's name (internal ones only when asked).
    public func listTopics(includeInternal: Bool = false) async throws -> [String] {
        let metadata = try await cluster.metadata(for: nil, force: true)
        return metadata.topics.values.filter { includeInternal || !$0.isInternal }.map(\.name).sorted()
    }

    /// Each named topic's id and partition leaders; throws UNKNOWN_TOPIC_OR_PARTITION for a
    /// topic the cluster does not have.
    public func describeTopics(_ names: [String]) async throws -> [String: TopicDescription] {
        let metadata = try await cluster.metadata(for: names, force: true)
        var result: [String: TopicDescription] = [:]
        for name in names {
            guard let topic = metadata.topics[name] else { throw KafkaClientError.broker(.unknownTopicOrPartition, message: nil, context: "describe topic \(name)") }
            if let error = topic.error { throw KafkaClientError.broker(error, message: nil, context: "describe topic \(name)") }
            result[name] = TopicDescription(name: name, id: topic.id, isInternal: topic.isInternal, leaders: topic.leaders)
        }
        return result
    }

    /// Raises each topic's partition count to the given total.
    public func createPartitions(_ totals: [String: Int32], validateOnly: Bool = false) async throws {
        let connection = try await cluster.controllerConnection()
        let version = try connection.version(of: .createPartitions, supported: 0...3)
        var request = CreatePartitionsRequest()
        request.timeoutMs = timeoutMs
        request.validateOnly = validateOnly
        request.topics = totals.sorted { $0.key < $1.key }.map { .init(name: $0.key, count: $0.value, assignments: nil) }
        let response = try await connection.send(request, version: version, timeout: config.requestTimeout)
        for result in response.results {
            try KafkaClientError.check(result.errorCode, "create partitions of \(result.name)", message: result.errorMessage)
        }
        if !validateOnly { try? await cluster.refreshMetadata() }
    }

    // MARK: - Cluster

    /// The API versions a broker (any, when nil) serves, from its ApiVersions answer.
    public func apiVersions(of nodeId: Int32? = nil) async throws -> [ApiKey: ClosedRange<Int16>] {
        let connection = if let nodeId { try await cluster.connection(to: nodeId) } else { try await cluster.anyConnection() }
        return connection.brokerVersions
    }

    /// The cluster id, controller and brokers (DescribeCluster, or Metadata on brokers
    /// without it).
    public func describeCluster() async throws -> ClusterDescription {
        let connection = try await cluster.anyConnection()
        if let version = try? connection.version(of: .describeCluster, supported: 0...1) {
            var request = DescribeClusterRequest()
            request.endpointType = 1
            let response = try await connection.send(request, version: version, timeout: config.requestTimeout)
            try KafkaClientError.check(response.errorCode, "describe cluster", message: response.errorMessage)
            return ClusterDescription(
                clusterId: response.clusterId, controllerId: response.controllerId,
                brokers: response.brokers.map { .init(nodeId: $0.brokerId, host: $0.host, port: Int($0.port)) }.sorted { $0.nodeId < $1.nodeId }
            )
        }
        let metadata = try await cluster.metadata(for: nil, force: true)
        return ClusterDescription(clusterId: metadata.clusterId, controllerId: metadata.controllerId, brokers: metadata.brokers.values.sorted { $0.nodeId < $1.nodeId })
    }
}
