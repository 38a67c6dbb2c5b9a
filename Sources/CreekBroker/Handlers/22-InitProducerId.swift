import KafkaProtocol

/// InitProducerId (key 22), v0-5. For idempotent producers: a new producer id with epoch 0;
/// with an existing id and epoch (v3+, KIP-360) the same id with the epoch bumped (a new id
/// when the epoch would overflow). With a transactional id the transaction coordinator
/// answers (`TransactionCoordinator.initProducerId`); a fenced caller gets
/// INVALID_PRODUCER_EPOCH before v4 and PRODUCER_FENCED from v4.
struct InitProducerIdHandler: ApiHandler {
    static let versions: ClosedRange<Int16> = 0...5
    let broker: Broker

    func handle(_ request: InitProducerIdRequest, context: RequestContext) async -> InitProducerIdResponse? {
        if let transactionalId = request.transactionalId, !transactionalId.isEmpty {
            guard broker.authorized(context, .write, .transactionalId, transactionalId) else {
                broker.logDenied(context, .write, .transactionalId, transactionalId)
                return InitProducerIdResponse(errorCode: KafkaErrorCode.transactionalIdAuthorizationFailed.rawValue, producerId: -1, producerEpoch: -1)
            }
            let caller = request.producerId >= 0 ? TransactionCoordinator.Caller(
                producerId: request.producerId, producerEpoch: request.producerEpoch,
                fenced: context.apiVersion >= 4 ? .producerFenced : .invalidProducerEpoch
            ) : nil
            let (code, producerId, epoch) = await broker.transactions.initProducerId(
                transactionalId: transactionalId, timeoutMs: request.transactionTimeoutMs, caller: caller
            )
            return InitProducerIdResponse(errorCode: code.rawValue, producerId: producerId, producerEpoch: epoch)
        }
        // An idempotent producer needs IDEMPOTENT_WRITE on the cluster, or (KIP-679) WRITE on some topic.
        let mayWrite = broker.authorizedOnCluster(context, .idempotentWrite)
            || broker.topics.allTopics().contains { broker.authorized(context, .write, .topic, $0.name) }
        guard mayWrite else {
            broker.logDenied(context, .idempotentWrite, .cluster, AclResourceType.clusterName)
            return InitProducerIdResponse(errorCode: KafkaErrorCode.clusterAuthorizationFailed.rawValue, producerId: -1, producerEpoch: -1)
        }
        do {
            if request.producerId >= 0, request.producerEpoch >= 0, request.producerEpoch < Int16.max - 1 {
                return InitProducerIdResponse(errorCode: 0, producerId: request.producerId, producerEpoch: request.producerEpoch + 1)
            }
            return InitProducerIdResponse(errorCode: 0, producerId: try await broker.producerIds.nextId(), producerEpoch: 0)
        } catch {
            broker.logger.error("producer id allocation failed", metadata: ["error": "\(error)"])
            return InitProducerIdResponse(errorCode: KafkaErrorCode.kafkaStorageError.rawValue, producerId: -1, producerEpoch: -1)
        }
    }
}
