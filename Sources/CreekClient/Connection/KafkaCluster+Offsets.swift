import KafkaProtocol

extension KafkaCluster {
    /// ListOffsets for `partitions` at `timestamp` (-1 latest, -2 earliest, else the first
    /// offset at or after that time, -1 when there is none), asking each partition's leader.
    public func listOffsets(
        _ partitions: [TopicPartition], at timestamp: Int64, isolationLevel: Int8 = 0
    ) async throws -> [TopicPartition: Int64] {
        var byLeader: [Int32: [TopicPartition]] = [:]
        for partition in partitions {
            byLeader[try await leader(of: partition.topic, partition: partition.partition), default: []].append(partition)
        }
        var result: [TopicPartition: Int64] = [:]
        for (leader, group) in byLeader {
            let connection = try await connection(to: leader)
            let version = try connection.version(of: .listOffsets, supported: 1...8)
            var request = ListOffsetsRequest()
            request.replicaId = -1
            request.isolationLevel = isolationLevel
            request.topics = Dictionary(grouping: group, by: \.topic).map { topic, parts in
                .init(name: topic, partitions: parts.map { .init(partitionIndex: $0.partition, currentLeaderEpoch: -1, timestamp: timestamp, maxNumOffsets: 1) })
            }
            let response = try await connection.send(request, version: version, timeout: config.requestTimeout)
            for topic in response.topics {
                for partition in topic.partitions {
                    try KafkaClientError.check(partition.errorCode, "ListOffsets \(topic.name)-\(partition.partitionIndex)")
                    result[TopicPartition(topic.name, partition.partitionIndex)] = partition.offset
                }
            }
        }
        return result
    }
}
