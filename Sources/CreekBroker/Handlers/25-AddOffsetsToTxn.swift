import KafkaProtocol

/// AddOffsetsToTxn (key 25), v0-4: adds a consumer group to the caller's transaction, so
/// its TxnOffsetCommit offsets become visible when the transaction commits.
struct AddOffsetsToTxnHandler: ApiHandler {
    static let versions: ClosedRange<Int16> = 0...4
    let broker: Broker

    func handle(_ request: AddOffsetsToTxnRequest, context: RequestContext) async -> AddOffsetsToTxnResponse? {
        let caller = TransactionCoordinator.Caller(
            producerId: request.producerId, producerEpoch: request.producerEpoch,
            fenced: context.apiVersion >= 2 ? .producerFenced : .invalidProducerEpoch
        )
        let code: KafkaErrorCode
        if !broker.authorized(context, .write, .transactionalId, request.transactionalId) {
            code = .transactionalIdAuthorizationFailed
        } else if !broker.authorized(context, .read, .group, request.groupId) {
            code = .groupAuthorizationFailed
        } else if request.groupId.isEmpty {
            code = .invalidGroupId
        } else {
            switch await broker.transactions.add(transactionalId: request.transactionalId, caller: caller, partitions: [], group: request.groupId) {
            case .added: code = .none
            case .failed(let failure): code = failure
            case .unknownPartitions: code = .unknownTopicOrPartition
            }
        }
        return AddOffsetsToTxnResponse(throttleTimeMs: 0, errorCode: code.rawValue)
    }
}
