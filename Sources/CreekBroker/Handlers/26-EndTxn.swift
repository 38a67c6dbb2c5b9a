import KafkaProtocol

/// EndTxn (key 26), v0-4: commits or aborts the caller's transaction. v5 (transaction
/// protocol version 2, KIP-890, where every EndTxn bumps the epoch) is not served: Creek
/// speaks transaction version 1, so a delayed marker can never belong to a later
/// transaction of the same epoch only because markers are written before EndTxn answers.
struct EndTxnHandler: ApiHandler {
    static let versions: ClosedRange<Int16> = 0...4
    let broker: Broker

    func handle(_ request: EndTxnRequest, context: RequestContext) async -> EndTxnResponse? {
        let caller = TransactionCoordinator.Caller(
            producerId: request.producerId, producerEpoch: request.producerEpoch,
            fenced: context.apiVersion >= 2 ? .producerFenced : .invalidProducerEpoch
        )
        guard broker.authorized(context, .write, .transactionalId, request.transactionalId) else {
            return EndTxnResponse(throttleTimeMs: 0, errorCode: KafkaErrorCode.transactionalIdAuthorizationFailed.rawValue)
        }
        let code = await broker.transactions.end(transactionalId: request.transactionalId, caller: caller, commit: request.committed)
        return EndTxnResponse(throttleTimeMs: 0, errorCode: code.rawValue)
    }
}
