import CreekStorage
import KafkaProtocol

/// OffsetFetch (key 9), v0-9: one group before v8, several from v8; a null topic list
/// means every partition the group has committed. A partition without a commit answers
/// offset -1. With `require_stable` (v7+), a partition whose offset an open transaction is
/// about to change answers UNSTABLE_OFFSET_COMMIT (the client retries until it commits or
/// aborts).
struct OffsetFetchHandler: ApiHandler {
    static let versions: ClosedRange<Int16> = 0...9
    let broker: Broker

    typealias Partition = OffsetFetchResponse.OffsetFetchResponsePartitions

    func handle(_ request: OffsetFetchRequest, context: RequestContext) async -> OffsetFetchResponse? {
        // In a cluster: each group's offsets as the shared store has them, once after taking it.
        // Offsets a transaction staged there (and has not ended) are unstable.
        var staged: [String: Set<TransactionMetadata.Partition>] = [:]
        for group in context.apiVersion >= 8 ? request.groups.map(\.groupId) : [request.groupId] where broker.coordinatesLocally(group) {
            try? await broker.groups.offsets.adopt(group: group)
            if request.requireStable { staged[group] = await broker.transactions.stagedPartitions(group: group) }
        }
        if context.apiVersion >= 8 {
            let groups = request.groups.map { group in
                OffsetFetchResponse.OffsetFetchResponseGroup(
                    groupId: group.groupId,
                    topics: answer(group: group.groupId, topics: group.topics.map { $0.map { ($0.name, $0.partitionIndexes) } }, requireStable: request.requireStable, staged: staged[group.groupId] ?? [], context: context)
                        .map { .init(name: $0.name, partitions: $0.partitions) },
                    errorCode: !broker.coordinatesLocally(group.groupId) ? KafkaErrorCode.notCoordinator.rawValue
                        : broker.authorized(context, .describe, .group, group.groupId) ? 0 : KafkaErrorCode.groupAuthorizationFailed.rawValue
                )
            }
            return OffsetFetchResponse(throttleTimeMs: 0, groups: groups)
        }
        let topics = answer(
            group: request.groupId, topics: request.topics.map { $0.map { ($0.name, $0.partitionIndexes) } },
            requireStable: context.apiVersion >= 7 && request.requireStable, staged: staged[request.groupId] ?? [], context: context
        )
        return OffsetFetchResponse(
            throttleTimeMs: 0,
            topics: topics.map { topic in
                .init(name: topic.name, partitions: topic.partitions.map {
                    .init(partitionIndex: $0.partitionIndex, committedOffset: $0.committedOffset,
                          committedLeaderEpoch: $0.committedLeaderEpoch, metadata: $0.metadata, errorCode: $0.errorCode)
                })
            },
            errorCode: !broker.coordinatesLocally(request.groupId) ? KafkaErrorCode.notCoordinator.rawValue
                : broker.authorized(context, .describe, .group, request.groupId) ? 0 : KafkaErrorCode.groupAuthorizationFailed.rawValue
        )
    }

    private func answer(
        group: String, topics wanted: [(String, [Int32])]?, requireStable: Bool, staged: Set<TransactionMetadata.Partition>, context: RequestContext
    ) -> [(name: String, partitions: [Partition])] {
        // Without DESCRIBE on the group nothing is shown (the group-level error says why);
        // asked for all topics, those the principal may not describe are left out.
        guard broker.authorized(context, .describe, .group, group) else { return [] }
        let committed = broker.groups.offsets.offsets(group: group)
        let targets = wanted ?? committed.keys.sorted().filter { broker.authorized(context, .describe, .topic, $0) }.map { name in
            (name, (committed[name] ?? [:]).keys.sorted())
        }
        return targets.map { name, indexes in
            let describable = broker.authorized(context, .describe, .topic, name)
            return (name, indexes.map { index in
                guard describable else {
                    return Partition(partitionIndex: index, committedOffset: -1, committedLeaderEpoch: -1, metadata: "",
                                     errorCode: KafkaErrorCode.topicAuthorizationFailed.rawValue)
                }
                let value = committed[name]?[index]
                let unstable = staged.contains(.init(topic: name, partition: index))
                    || broker.transactions.hasPendingOffsets(group: group, topic: name, partition: index)
                if requireStable && unstable {
                    return Partition(
                        partitionIndex: index, committedOffset: -1, committedLeaderEpoch: -1, metadata: "",
                        errorCode: KafkaErrorCode.unstableOffsetCommit.rawValue
                    )
                }
                return Partition(
                    partitionIndex: index, committedOffset: value?.offset ?? -1,
                    committedLeaderEpoch: value?.leaderEpoch ?? -1, metadata: value?.metadata ?? "", errorCode: 0
                )
            })
        }
    }
}
