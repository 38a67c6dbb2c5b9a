import CreekStorage
import KafkaProtocol

/// OffsetCommit (key 8), v0-9. Kafka's checks: a client outside the group may commit with
/// generation -1 while the group is empty; members need the current generation
/// (ILLEGAL_GENERATION, UNKNOWN_MEMBER_ID, REBALANCE_IN_PROGRESS, FENCED_INSTANCE_ID).
/// Unknown partitions get UNKNOWN_TOPIC_OR_PARTITION, metadata over
/// `offset.metadata.max.bytes` OFFSET_METADATA_TOO_LARGE. Offsets are journaled and, under
/// `--flush acks-all` and `always`, fsynced before the response (see docs/durability.md).
/// Leaves out: v1's per-partition commit timestamps and v2-4's retention time (offsets
/// expire by `offsets.retention.minutes` only).
struct OffsetCommitHandler: ApiHandler {
    static let versions: ClosedRange<Int16> = 0...9
    let broker: Broker

    func handle(_ request: OffsetCommitRequest, context: RequestContext) async -> OffsetCommitResponse? {
        guard broker.coordinatesLocally(request.groupId) else {
            return OffsetCommitResponse(throttleTimeMs: 0, topics: request.topics.map { topic in
                .init(name: topic.name, partitions: topic.partitions.map {
                    .init(partitionIndex: $0.partitionIndex, errorCode: KafkaErrorCode.notCoordinator.rawValue)
                })
            })
        }
        // In a cluster: the group's offsets as the shared store has them, once after taking it.
        if (try? await broker.groups.offsets.adopt(group: request.groupId)) == nil {
            return OffsetCommitResponse(throttleTimeMs: 0, topics: request.topics.map { topic in
                .init(name: topic.name, partitions: topic.partitions.map {
                    .init(partitionIndex: $0.partitionIndex, errorCode: KafkaErrorCode.coordinatorLoadInProgress.rawValue)
                })
            })
        }
        guard broker.authorized(context, .read, .group, request.groupId) else {
            broker.logDenied(context, .read, .group, request.groupId)
            return OffsetCommitResponse(throttleTimeMs: 0, topics: request.topics.map { topic in
                .init(name: topic.name, partitions: topic.partitions.map {
                    .init(partitionIndex: $0.partitionIndex, errorCode: KafkaErrorCode.groupAuthorizationFailed.rawValue)
                })
            })
        }
        let groupError = context.apiVersion == 0
            ? (await broker.groups.validateCommit(groupId: request.groupId, memberId: request.memberId, groupInstanceId: nil, generationId: -1))
            : (await broker.groups.validateCommit(
                groupId: request.groupId, memberId: request.memberId, groupInstanceId: request.groupInstanceId,
                generationId: request.generationIdOrMemberEpoch))
        let now = broker.clock()
        var entries: [(topic: String, partition: Int32, value: CommittedOffset)] = []
        var topics: [OffsetCommitResponse.OffsetCommitResponseTopic] = []
        for topic in request.topics {
            let known = broker.topics.topic(named: topic.name)
            let readable = broker.authorized(context, .read, .topic, topic.name)
            var partitions: [OffsetCommitResponse.OffsetCommitResponsePartition] = []
            for partition in topic.partitions {
                var code = groupError
                if code == .none {
                    if !readable {
                        code = .topicAuthorizationFailed
                    } else if known?.partition(partition.partitionIndex) == nil {
                        code = .unknownTopicOrPartition
                    } else if (partition.committedMetadata?.utf8.count ?? 0) > broker.config.offsetMetadataMaxBytes {
                        code = .offsetMetadataTooLarge
                    } else {
                        entries.append((topic.name, partition.partitionIndex, CommittedOffset(
                            offset: partition.committedOffset, leaderEpoch: partition.committedLeaderEpoch,
                            metadata: partition.committedMetadata, commitTimestampMs: now
                        )))
                    }
                }
                partitions.append(.init(partitionIndex: partition.partitionIndex, errorCode: code.rawValue))
            }
            topics.append(.init(name: topic.name, partitions: partitions))
        }
        if !entries.isEmpty {
            do {
                try broker.groups.offsets.commit(group: request.groupId, entries)
                if broker.config.flush != .os { try await broker.groups.offsets.sync() }
            } catch {
                broker.logger.error("offset commit failed", metadata: ["group": "\(request.groupId)", "error": "\(error)"])
                for index in topics.indices {
                    for partition in topics[index].partitions.indices where topics[index].partitions[partition].errorCode == 0 {
                        topics[index].partitions[partition].errorCode = KafkaErrorCode.kafkaStorageError.rawValue
                    }
                }
            }
        }
        return OffsetCommitResponse(throttleTimeMs: 0, topics: topics)
    }
}
