import CreekStorage
import KafkaProtocol

/// ListTransactions (key 66), v0-1: the transactional ids this coordinator knows, filtered
/// by state name (unknown names are echoed back in `unknown_state_filters`), by producer
/// id, and (v1) by having been open longer than `duration_filter` ms.
struct ListTransactionsHandler: ApiHandler {
    static let versions: ClosedRange<Int16> = 0...1
    let broker: Broker

    static let stateNames: Set<String> = ["Empty", "Ongoing", "PrepareCommit", "PrepareAbort", "CompleteCommit", "CompleteAbort", "Dead", "PrepareEpochFence"]

    func handle(_ request: ListTransactionsRequest, context: RequestContext) async -> ListTransactionsResponse? {
        let states = Set(request.stateFilters)
        let producers = Set(request.producerIdFilters)
        let now = broker.clock()
        let matching = broker.transactions.transactions.values.filter { metadata in
            broker.authorized(context, .describe, .transactionalId, metadata.transactionalId) && (states.isEmpty || states.contains(metadata.state.kafkaName))
                && (producers.isEmpty || producers.contains(metadata.producerId))
                && (request.durationFilter < 0 || (metadata.state == .ongoing && now - metadata.startTimestampMs > request.durationFilter))
        }
        return ListTransactionsResponse(
            throttleTimeMs: 0, errorCode: 0, unknownStateFilters: request.stateFilters.filter { !Self.stateNames.contains($0) },
            transactionStates: matching.sorted { $0.transactionalId < $1.transactionalId }.map {
                .init(transactionalId: $0.transactionalId, producerId: $0.producerId, transactionState: $0.state.kafkaName)
            }
        )
    }
}
