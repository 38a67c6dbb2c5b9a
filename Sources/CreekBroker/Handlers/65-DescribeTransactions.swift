import CreekStorage
import KafkaProtocol

/// DescribeTransactions (key 65), v0: each transactional id's state, producer, timeout and
/// open partitions; unknown ids get TRANSACTIONAL_ID_NOT_FOUND.
struct DescribeTransactionsHandler: ApiHandler {
    static let versions: ClosedRange<Int16> = 0...0
    let broker: Broker

    func handle(_ request: DescribeTransactionsRequest, context: RequestContext) async -> DescribeTransactionsResponse? {
        let known = broker.transactions.transactions
        let states = request.transactionalIds.map { id in
            guard broker.authorized(context, .describe, .transactionalId, id) else {
                return DescribeTransactionsResponse.TransactionState(
                    errorCode: KafkaErrorCode.transactionalIdAuthorizationFailed.rawValue, transactionalId: id, transactionState: "",
                    transactionTimeoutMs: 0, transactionStartTimeMs: -1, producerId: -1, producerEpoch: -1, topics: []
                )
            }
            guard let metadata = known[id] else {
                return DescribeTransactionsResponse.TransactionState(
                    errorCode: KafkaErrorCode.transactionalIdNotFound.rawValue, transactionalId: id, transactionState: "",
                    transactionTimeoutMs: 0, transactionStartTimeMs: -1, producerId: -1, producerEpoch: -1, topics: []
                )
            }
            let topics = Dictionary(grouping: metadata.partitions, by: \.topic).sorted { $0.key < $1.key }.map { topic, partitions in
                DescribeTransactionsResponse.TopicData(topic: topic, partitions: partitions.map(\.partition).sorted())
            }
            return DescribeTransactionsResponse.TransactionState(
                errorCode: 0, transactionalId: id, transactionState: metadata.state.kafkaName, transactionTimeoutMs: metadata.timeoutMs,
                transactionStartTimeMs: metadata.state == .ongoing ? metadata.startTimestampMs : -1,
                producerId: metadata.producerId, producerEpoch: metadata.producerEpoch, topics: topics
            )
        }
        return DescribeTransactionsResponse(throttleTimeMs: 0, transactionStates: states)
    }
}
