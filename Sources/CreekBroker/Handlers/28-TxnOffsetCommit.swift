import CreekStorage
import KafkaProtocol

/// TxnOffsetCommit (key 28), v0-4: offsets committed inside a transaction, held by the
/// coordinator and written to the group's offsets only when the transaction commits.
/// From v3 the member id and generation, when given, are checked as OffsetCommit checks
/// them (a zombie member of an older generation is refused).
struct TxnOffsetCommitHandler: ApiHandler {
    static let versions: ClosedRange<Int16> = 0...4
    let broker: Broker

    func handle(_ request: TxnOffsetCommitRequest, context: RequestContext) async -> TxnOffsetCommitResponse? {
        let answer = { (code: (String, Int32) -> KafkaErrorCode) in
            TxnOffsetCommitResponse(throttleTimeMs: 0, topics: request.topics.map { topic in
                .init(name: topic.name, partitions: topic.partitions.map { .init(partitionIndex: $0.partitionIndex, errorCode: code(topic.name, $0.partitionIndex).rawValue) })
            })
        }
        if !broker.authorized(context, .write, .transactionalId, request.transactionalId) {
            return answer { _, _ in .transactionalIdAuthorizationFailed }
        }
        if !broker.authorized(context, .read, .group, request.groupId) {
            return answer { _, _ in .groupAuthorizationFailed }
        }
        let unreadable = Set(request.topics.map(\.name).filter { !broker.authorized(context, .read, .topic, $0) })
        if !unreadable.isEmpty {
            return answer { topic, _ in unreadable.contains(topic) ? .topicAuthorizationFailed : .operationNotAttempted }
        }
        // Sent to the group's coordinator (in a cluster, not necessarily the transaction's).
        guard broker.coordinatesLocally(request.groupId) else { return answer { _, _ in .notCoordinator } }
        if context.apiVersion >= 3 && !request.memberId.isEmpty {
            let check = await broker.groups.validateCommit(
                groupId: request.groupId, memberId: request.memberId, groupInstanceId: request.groupInstanceId, generationId: request.generationId
            )
            if check != .none { return answer { _, _ in check } }
        }
        let tooLong = request.topics.contains { topic in
            topic.partitions.contains { ($0.committedMetadata?.utf8.count ?? 0) > broker.config.offsetMetadataMaxBytes }
        }
        let pending = request.topics.flatMap { topic in
            topic.partitions.map {
                TransactionMetadata.PendingOffset(
                    group: request.groupId, topic: topic.name, partition: $0.partitionIndex, offset: $0.committedOffset,
                    leaderEpoch: $0.committedLeaderEpoch, metadata: $0.committedMetadata
                )
            }
        }
        if tooLong { return answer { _, _ in .offsetMetadataTooLarge } }
        let caller = TransactionCoordinator.Caller(
            producerId: request.producerId, producerEpoch: request.producerEpoch,
            fenced: context.apiVersion >= 2 ? .producerFenced : .invalidProducerEpoch
        )
        let code = await broker.transactions.commitOffsets(
            transactionalId: request.transactionalId, caller: caller, group: request.groupId, offsets: pending
        )
        return answer { _, _ in code }
    }
}
