import KafkaProtocol

extension KafkaAdmin {
    /// Every group of every broker.
    public func listGroups() async throws -> [GroupListing] {
        let metadata = try await cluster.metadata(for: nil)
        var connections: [BrokerConnection] = []
        for node in metadata.brokers.keys.sorted() { connections.append(try await cluster.connection(to: node)) }
        if connections.isEmpty { connections = [try await cluster.anyConnection()] }
        var groups: [GroupListing] = []
        for connection in connections {
            let version = try connection.version(of: .listGroups, supported: 0...5)
            let response = try await connection.send(ListGroupsRequest(), version: version, timeout: config.requestTimeout)
            try KafkaClientError.check(response.errorCode, "list groups")
            groups += response.groups.map { GroupListing(groupId: $0.groupId, protocolType: $0.protocolType, state: $0.groupState) }
        }
        return groups.sorted { $0.groupId < $1.groupId }
    }

    public func describeGroup(_ groupId: String) async throws -> GroupDescription {
        let connection = try await coordinator(of: groupId)
        let version = try connection.version(of: .describeGroups, supported: 0...5)
        var request = DescribeGroupsRequest()
        request.groups = [groupId]
        let response = try await connection.send(request, version: version, timeout: config.requestTimeout)
        guard let group = response.groups.first(where: { $0.groupId == groupId }) else {
            throw KafkaClientError.malformedResponse("DescribeGroups did not describe \(groupId)")
        }
        try KafkaClientError.check(group.errorCode, "describe group \(groupId)")
        return GroupDescription(
            groupId: groupId, state: group.groupState, protocolType: group.protocolType, protocolName: group.protocolData,
            members: group.members.map { member in
                .init(
                    memberId: member.memberId, groupInstanceId: member.groupInstanceId, clientId: member.clientId, clientHost: member.clientHost,
                    assignment: group.protocolType == "consumer" ? GroupCoordinatorClient.decodeAssignment(member.memberAssignment) : []
                )
            }
        )
    }

    /// Deletes empty groups and their offsets (GROUP_NOT_EMPTY while members remain).
    public func deleteGroups(_ groupIds: [String]) async throws {
        for groupId in groupIds {
            let connection = try await coordinator(of: groupId)
            let version = try connection.version(of: .deleteGroups, supported: 0...2)
            var request = DeleteGroupsRequest()
            request.groupsNames = [groupId]
            let response = try await connection.send(request, version: version, timeout: config.requestTimeout)
            for result in response.results { try KafkaClientError.check(result.errorCode, "delete group \(result.groupId)") }
        }
    }

    /// The group's committed offsets: of `partitions`, or of every partition it committed.
    public func listGroupOffsets(_ groupId: String, partitions: [TopicPartition]? = nil) async throws -> [TopicPartition: CommittedOffset] {
        let connection = try await coordinator(of: groupId)
        let version = try connection.version(of: .offsetFetch, supported: 1...7)
        var request = OffsetFetchRequest()
        request.groupId = groupId
        request.topics = partitions.map { wanted in
            Dictionary(grouping: wanted, by: \.topic).map { .init(name: $0.key, partitionIndexes: $0.value.map(\.partition)) }
        }
        if partitions == nil && version < 2 { throw KafkaClientError.unsupportedVersion(.offsetFetch) }
        let response = try await connection.send(request, version: version, timeout: config.requestTimeout)
        try KafkaClientError.check(response.errorCode, "list offsets of group \(groupId)")
        var result: [TopicPartition: CommittedOffset] = [:]
        for topic in response.topics {
            for partition in topic.partitions {
                try KafkaClientError.check(partition.errorCode, "list offsets of group \(groupId) in \(topic.name)-\(partition.partitionIndex)")
                guard partition.committedOffset >= 0 else { continue }
                result[TopicPartition(topic.name, partition.partitionIndex)] = CommittedOffset(offset: partition.committedOffset, metadata: partition.metadata ?? "")
            }
        }
        return result
    }

    /// Sets the group's committed offsets (the group must have no active members: Kafka
    /// answers UNKNOWN_MEMBER_ID otherwise, as a member would overwrite them).
    public func alterGroupOffsets(_ groupId: String, _ offsets: [TopicPartition: CommittedOffset]) async throws {
        let connection = try await coordinator(of: groupId)
        let version = try connection.version(of: .offsetCommit, supported: 2...8)
        var request = OffsetCommitRequest()
        request.groupId = groupId
        request.generationIdOrMemberEpoch = -1
        request.memberId = ""
        request.retentionTimeMs = -1
        request.topics = Dictionary(grouping: offsets, by: \.key.topic).map { topic, entries in
            .init(name: topic, partitions: entries.map {
                .init(partitionIndex: $0.key.partition, committedOffset: $0.value.offset, committedLeaderEpoch: -1, commitTimestamp: -1, committedMetadata: $0.value.metadata)
            })
        }
        let response = try await connection.send(request, version: version, timeout: config.requestTimeout)
        for topic in response.topics {
            for partition in topic.partitions {
                try KafkaClientError.check(partition.errorCode, "alter offsets of group \(groupId) in \(topic.name)-\(partition.partitionIndex)")
            }
        }
    }

    /// Resets the group's offsets of `partitions` to `target` (kafka-consumer-groups
    /// --reset-offsets): looks the offsets up, then commits them. Returns what it set.
    @discardableResult
    public func resetGroupOffsets(_ groupId: String, _ partitions: [TopicPartition], to target: SeekTarget) async throws -> [TopicPartition: Int64] {
        var offsets = try await listOffsets(partitions, at: target)
        if case .timestamp = target {
            // No record at or after the time: the end, as the Kafka tool does.
            let ends = try await listOffsets(partitions.filter { (offsets[$0] ?? -1) < 0 }, at: .end)
            offsets.merge(ends) { $1 }
        }
        try await alterGroupOffsets(groupId, offsets.mapValues { CommittedOffset(offset: $0) })
        return offsets
    }

    /// Removes the group's committed offsets of `partitions` (OffsetDelete, KIP-496).
    public func deleteGroupOffsets(_ groupId: String, _ partitions: [TopicPartition]) async throws {
        let connection = try await coordinator(of: groupId)
        let version = try connection.version(of: .offsetDelete, supported: 0...0)
        var request = OffsetDeleteRequest()
        request.groupId = groupId
        request.topics = Dictionary(grouping: partitions, by: \.topic).map { .init(name: $0.key, partitions: $0.value.map { .init(partitionIndex: $0.partition) }) }
        let response = try await connection.send(request, version: version, timeout: config.requestTimeout)
        try KafkaClientError.check(response.errorCode, "delete offsets of group \(groupId)")
        for topic in response.topics {
            for partition in topic.partitions {
                try KafkaClientError.check(partition.errorCode, "delete offsets of group \(groupId) in \(topic.name)-\(partition.partitionIndex)")
            }
        }
    }

    private func coordinator(of groupId: String) async throws -> BrokerConnection {
        try await cluster.retrying("find coordinator of \(groupId)") {
            try await GroupCoordinatorClient(cluster: cluster, groupId: groupId, timeout: config.requestTimeout).coordinator()
        }
    }
}
