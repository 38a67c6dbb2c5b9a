import KafkaProtocol

extension KafkaCluster {
    /// Sends one request per leader, each with that leader's share of `items` (a value per
    /// partition), and merges what `request` makes of each answer.
    nonisolated func perLeader<Item, Answer>(
        _ items: [TopicPartition: Item], _ request: (BrokerConnection, [TopicPartition: Item]) async throws -> [TopicPartition: Answer]
    ) async throws -> [TopicPartition: Answer] {
        var byLeader: [Int32: [TopicPartition: Item]] = [:]
        for (partition, item) in items {
            byLeader[try await leader(of: partition.topic, partition: partition.partition), default: [:]][partition] = item
        }
        var result: [TopicPartition: Answer] = [:]
        for (leader, share) in byLeader {
            result.merge(try await request(try await connection(to: leader), share)) { $1 }
        }
        return result
    }

    /// ListOffsets for `partitions` at `timestamp` (-1 latest, -2 earliest, else the first
    /// offset at or after that time, -1 when there is none), asking each partition's leader.
    /// Retriable answers (a leader that moved) are retried against fresh metadata.
    public nonisolated func listOffsets(
        _ partitions: [TopicPartition], at timestamp: Int64, isolationLevel: Int8 = 0
    ) async throws -> [TopicPartition: Int64] {
        try await retrying("ListOffsets") {
            try await listOffsetsOnce(partitions, at: timestamp, isolationLevel: isolationLevel)
        }
    }

    private nonisolated func listOffsetsOnce(
        _ partitions: [TopicPartition], at timestamp: Int64, isolationLevel: Int8
    ) async throws -> [TopicPartition: Int64] {
        try await perLeader(Dictionary(partitions.map { ($0, timestamp) }) { first, _ in first }) { connection, share in
            let version = try connection.version(of: .listOffsets, supported: 1...8)
            var request = ListOffsetsRequest()
            request.replicaId = -1
            request.isolationLevel = isolationLevel
            request.topics = Dictionary(grouping: share.keys, by: \.topic).map { topic, parts in
                .init(name: topic, partitions: parts.map { .init(partitionIndex: $0.partition, currentLeaderEpoch: -1, timestamp: timestamp, maxNumOffsets: 1) })
            }
            let response = try await connection.send(request, version: version, timeout: config.requestTimeout)
            var found: [TopicPartition: Int64] = [:]
            for topic in response.topics {
                for partition in topic.partitions {
                    try KafkaClientError.check(partition.errorCode, "ListOffsets \(topic.name)-\(partition.partitionIndex)")
                    found[TopicPartition(topic.name, partition.partitionIndex)] = partition.offset
                }
            }
            return found
        }
    }
}
