import CreekStorage
import KafkaProtocol

/// WriteTxnMarkers (key 27), v0-1: the inter-broker request a transaction coordinator sends
/// the leaders of a transaction's partitions (in a cluster, when it does not lead them
/// itself). Each partition gets the marker appended and made durable; `__consumer_offsets`
/// stands for the groups this broker coordinates, whose staged transactional offsets are
/// committed or dropped. A marker from a coordinator epoch older than the last one written
/// for the producer is refused (TRANSACTION_COORDINATOR_FENCED). Needs CLUSTER_ACTION on the
/// cluster, as in Kafka.
struct WriteTxnMarkersHandler: ApiHandler {
    static let versions: ClosedRange<Int16> = 0...1
    let broker: Broker

    func handle(_ request: WriteTxnMarkersRequest, context: RequestContext) async -> WriteTxnMarkersResponse? {
        let allowed = broker.authorizedOnCluster(context, .clusterAction)
        if !allowed { broker.logDenied(context, .clusterAction, .cluster, AclResourceType.clusterName) }
        var results: [WriteTxnMarkersResponse.WritableTxnMarkerResult] = []
        for marker in request.markers {
            var topics: [WriteTxnMarkersResponse.WritableTxnMarkerTopicResult] = []
            for topic in marker.topics {
                var partitions: [WriteTxnMarkersResponse.WritableTxnMarkerPartitionResult] = []
                for index in topic.partitionIndexes {
                    let code = allowed ? await write(marker, topic: topic.name, partition: index) : .clusterAuthorizationFailed
                    var result = WriteTxnMarkersResponse.WritableTxnMarkerPartitionResult()
                    result.partitionIndex = index
                    result.errorCode = code.rawValue
                    partitions.append(result)
                }
                var named = WriteTxnMarkersResponse.WritableTxnMarkerTopicResult()
                named.name = topic.name
                named.partitions = partitions
                topics.append(named)
            }
            var result = WriteTxnMarkersResponse.WritableTxnMarkerResult()
            result.producerId = marker.producerId
            result.topics = topics
            results.append(result)
        }
        var response = WriteTxnMarkersResponse()
        response.markers = results
        return response
    }

    private func write(_ marker: WriteTxnMarkersRequest.WritableTxnMarker, topic: String, partition index: Int32) async -> KafkaErrorCode {
        if topic == TransactionCoordinator.offsetsTopic {
            return await broker.transactions.finishStagedOffsets(producerId: marker.producerId, commit: marker.transactionResult)
        }
        guard let partition = broker.topics.topic(named: topic)?.partition(index) else { return .unknownTopicOrPartition }
        let control = TransactionMarker(commit: marker.transactionResult, coordinatorEpoch: marker.coordinatorEpoch)
        do {
            switch try await partition.appendMarker(producerId: marker.producerId, epoch: marker.producerEpoch, marker: control, nowMs: broker.clock()) {
            case .written(let offset):
                try await partition.makeDurable(upTo: offset + 1)
            case .staleEpoch:
                break
            case .coordinatorFenced:
                broker.logger.warning("transaction marker from a replaced coordinator refused", metadata: [
                    "partition": "\(topic)-\(index)", "producerId": "\(marker.producerId)", "coordinatorEpoch": "\(marker.coordinatorEpoch)",
                ])
                return .transactionCoordinatorFenced
            }
            return .none
        } catch {
            broker.logger.warning("transaction marker not written", metadata: ["partition": "\(topic)-\(index)", "error": "\(error)"])
            return KafkaErrorCode(storage: error)
        }
    }
}
