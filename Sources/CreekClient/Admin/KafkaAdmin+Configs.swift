import KafkaProtocol

extension KafkaAdmin {
    // MARK: - Configs

    /// Each resource's configs (all of them, or only `names`).
    public func describeConfigs(_ resource: ConfigResource, names: [String]? = nil) async throws -> [String: ConfigEntry] {
        let connection = try await connection(for: resource)
        let version = try connection.version(of: .describeConfigs, supported: 1...4)
        var request = DescribeConfigsRequest()
        request.resources = [.init(resourceType: resource.type, resourceName: resource.name, configurationKeys: names)]
        let response = try await connection.send(request, version: version, timeout: config.requestTimeout)
        var entries: [String: ConfigEntry] = [:]
        for result in response.results {
            try KafkaClientError.check(result.errorCode, "describe configs of \(result.resourceName)", message: result.errorMessage)
            for entry in result.configs {
                // configSource 5 is DEFAULT_CONFIG (v1+); v0's isDefault is folded into it.
                entries[entry.name] = ConfigEntry(
                    name: entry.name, value: entry.value, isDefault: entry.isDefault || entry.configSource == 5,
                    isReadOnly: entry.readOnly, isSensitive: entry.isSensitive
                )
            }
        }
        return entries
    }

    /// Applies `changes` to a resource's configs, leaving the others as they are.
    public func incrementalAlterConfigs(_ resource: ConfigResource, _ changes: [ConfigChange], validateOnly: Bool = false) async throws {
        let connection = try await connection(for: resource)
        let version = try connection.version(of: .incrementalAlterConfigs, supported: 0...1)
        var request = IncrementalAlterConfigsRequest()
        request.validateOnly = validateOnly
        request.resources = [.init(
            resourceType: resource.type, resourceName: resource.name,
            configs: changes.map { .init(name: $0.name, configOperation: $0.operation, value: $0.value) }
        )]
        let response = try await connection.send(request, version: version, timeout: config.requestTimeout)
        for result in response.responses {
            try KafkaClientError.check(result.errorCode, "alter configs of \(result.resourceName)", message: result.errorMessage)
        }
    }

    /// Broker configs go to that broker; topic configs to any.
    private func connection(for resource: ConfigResource) async throws -> BrokerConnection {
        if case .broker(let id) = resource { return try await cluster.connection(to: id) }
        return try await cluster.controllerConnection()
    }

    // MARK: - Records

    /// Deletes every record before each given offset (-1: the high watermark); returns
    /// each partition's new log start offset.
    public func deleteRecords(before offsets: [TopicPartition: Int64]) async throws -> [TopicPartition: Int64] {
        try await cluster.perLeader(offsets) { connection, share in
            let version = try connection.version(of: .deleteRecords, supported: 0...2)
            var request = DeleteRecordsRequest()
            request.timeoutMs = timeoutMs
            request.topics = Dictionary(grouping: share, by: \.key.topic).map { topic, parts in
                .init(name: topic, partitions: parts.map { .init(partitionIndex: $0.key.partition, offset: $0.value) })
            }
            let response = try await connection.send(request, version: version, timeout: config.requestTimeout)
            var starts: [TopicPartition: Int64] = [:]
            for topic in response.topics {
                for partition in topic.partitions {
                    try KafkaClientError.check(partition.errorCode, "delete records of \(topic.name)-\(partition.partitionIndex)")
                    starts[TopicPartition(topic.name, partition.partitionIndex)] = partition.lowWatermark
                }
            }
            return starts
        }
    }

    /// Each partition's offset at `target`: `.beginning` (log start), `.end` (high
    /// watermark), `.timestamp` (first record at or after it, -1 if none) or `.offset` as given.
    public func listOffsets(_ partitions: [TopicPartition], at target: SeekTarget, readCommitted: Bool = false) async throws -> [TopicPartition: Int64] {
        let timestamp: Int64
        switch target {
        case .beginning: timestamp = -2
        case .end: timestamp = -1
        case .timestamp(let time): timestamp = time
        case .offset(let offset): return Dictionary(uniqueKeysWithValues: partitions.map { ($0, offset) })
        }
        return try await cluster.listOffsets(partitions, at: timestamp, isolationLevel: readCommitted ? 1 : 0)
    }
}
