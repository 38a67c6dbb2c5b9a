import KafkaProtocol

/// InitProducerId (key 22), v0-5, for idempotent producers: a new producer id with epoch 0;
/// with an existing id and epoch (v3+, KIP-360) the same id with the epoch bumped (a new id
/// when the epoch would overflow). A transactional id gets
/// TRANSACTIONAL_ID_AUTHORIZATION_FAILED: transactions are not implemented yet.
struct InitProducerIdHandler: ApiHandler {
    static let versions: ClosedRange<Int16> = 0...5
    let broker: Broker

    func handle(_ request: InitProducerIdRequest, context: RequestContext) async -> InitProducerIdResponse? {
        if let transactionalId = request.transactionalId, !transactionalId.isEmpty {
            broker.logger.notice("refused a transactional producer: transactions are not supported yet",
                                 metadata: ["transactionalId": "\(transactionalId)"])
            return InitProducerIdResponse(errorCode: KafkaErrorCode.transactionalIdAuthorizationFailed.rawValue, producerId: -1, producerEpoch: -1)
        }
        do {
            if request.producerId >= 0, request.producerEpoch >= 0, request.producerEpoch < Int16.max - 1 {
                return InitProducerIdResponse(errorCode: 0, producerId: request.producerId, producerEpoch: request.producerEpoch + 1)
            }
            return InitProducerIdResponse(errorCode: 0, producerId: try broker.producerIds.nextId(), producerEpoch: 0)
        } catch {
            broker.logger.error("producer id allocation failed", metadata: ["error": "\(error)"])
            return InitProducerIdResponse(errorCode: KafkaErrorCode.kafkaStorageError.rawValue, producerId: -1, producerEpoch: -1)
        }
    }
}
