import CreekStorage
import KafkaProtocol

/// AddPartitionsToTxn (key 24), v0-3 — the client form (v4+ batches transactions for
/// inter-broker verification, which one node does not need). Fenced producers get
/// INVALID_PRODUCER_EPOCH before v2 and PRODUCER_FENCED from v2 (KIP-588).
struct AddPartitionsToTxnHandler: ApiHandler {
    static let versions: ClosedRange<Int16> = 0...3
    let broker: Broker

    func handle(_ request: AddPartitionsToTxnRequest, context: RequestContext) async -> AddPartitionsToTxnResponse? {
        let caller = TransactionCoordinator.Caller(
            producerId: request.v3AndBelowProducerId, producerEpoch: request.v3AndBelowProducerEpoch,
            fenced: context.apiVersion >= 2 ? .producerFenced : .invalidProducerEpoch
        )
        if let denied = denial(request, context: context) { return denied }
        let partitions = request.v3AndBelowTopics.flatMap { topic in
            topic.partitions.map { TransactionMetadata.Partition(topic: topic.name, partition: $0) }
        }
        let outcome = await broker.transactions.add(transactionalId: request.v3AndBelowTransactionalId, caller: caller, partitions: partitions)
        let results = request.v3AndBelowTopics.map { topic in
            AddPartitionsToTxnResponse.AddPartitionsToTxnTopicResult(name: topic.name, resultsByPartition: topic.partitions.map { index in
                let code: KafkaErrorCode
                switch outcome {
                case .added: code = .none
                case .failed(let failure): code = failure
                case .unknownPartitions(let unknown):
                    code = unknown.contains(.init(topic: topic.name, partition: index)) ? .unknownTopicOrPartition : .operationNotAttempted
                }
                return .init(partitionIndex: index, partitionErrorCode: code.rawValue)
            })
        }
        return AddPartitionsToTxnResponse(throttleTimeMs: 0, resultsByTopicV3AndBelow: results)
    }

    /// WRITE on the transactional id and on every topic, or the response saying which failed
    /// (the others OPERATION_NOT_ATTEMPTED), as Kafka answers.
    private func denial(_ request: AddPartitionsToTxnRequest, context: RequestContext) -> AddPartitionsToTxnResponse? {
        let id = request.v3AndBelowTransactionalId
        let idAllowed = broker.authorized(context, .write, .transactionalId, id)
        let deniedTopics = Set(request.v3AndBelowTopics.map(\.name).filter { !broker.authorized(context, .write, .topic, $0) })
        guard !idAllowed || !deniedTopics.isEmpty else { return nil }
        let results = request.v3AndBelowTopics.map { topic in
            AddPartitionsToTxnResponse.AddPartitionsToTxnTopicResult(name: topic.name, resultsByPartition: topic.partitions.map { index in
                let code: KafkaErrorCode = !idAllowed ? .transactionalIdAuthorizationFailed
                    : deniedTopics.contains(topic.name) ? .topicAuthorizationFailed : .operationNotAttempted
                return .init(partitionIndex: index, partitionErrorCode: code.rawValue)
            })
        }
        return AddPartitionsToTxnResponse(throttleTimeMs: 0, resultsByTopicV3AndBelow: results)
    }
}
