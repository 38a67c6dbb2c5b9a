import KafkaProtocol

/// One log directory on one broker: its path, the volume's total and usable bytes (-1 when
/// the broker does not say, before DescribeLogDirs v4) and the size of each partition in it.
public struct LogDirDescription: Sendable, Hashable {
    public var brokerId: Int32
    public var path: String
    /// The Kafka error code for the directory (0 when it is online).
    public var errorCode: Int16
    public var totalBytes: Int64
    public var usableBytes: Int64
    public var partitionSizes: [TopicPartition: Int64]
}

extension KafkaAdmin {
    // MARK: - Log directories

    /// Every log directory of every broker, with the sizes of the partitions of `topics`
    /// (every topic when nil).
    public func describeLogDirs(topics: [String]? = nil) async throws -> [LogDirDescription] {
        let metadata = try await cluster.metadata(for: topics, force: true)
        var request = DescribeLogDirsRequest()
        request.topics = topics.map { names in
            names.map { name in
                .init(topic: name, partitions: (metadata.topics[name]?.leaders.keys).map { $0.sorted() } ?? [])
            }
        }
        var directories: [LogDirDescription] = []
        for brokerId in metadata.brokers.keys.sorted() {
            let connection = try await cluster.connection(to: brokerId)
            let version = try connection.version(of: .describeLogDirs, supported: 0...4)
            let response = try await connection.send(request, version: version, timeout: config.requestTimeout)
            try KafkaClientError.check(response.errorCode, "describe log dirs of broker \(brokerId)")
            for result in response.results {
                var sizes: [TopicPartition: Int64] = [:]
                for topic in result.topics {
                    for partition in topic.partitions where !partition.isFutureKey {
                        sizes[TopicPartition(topic.name, partition.partitionIndex)] = partition.partitionSize
                    }
                }
                directories.append(LogDirDescription(
                    brokerId: brokerId, path: result.logDir, errorCode: result.errorCode,
                    totalBytes: result.totalBytes, usableBytes: result.usableBytes, partitionSizes: sizes
                ))
            }
        }
        return directories
    }
}
