public import KafkaProtocol

/// What a Metadata response said about the cluster: brokers by node id and, per topic, its
/// id and each partition's leader. A value; the cluster replaces it on refresh.
public struct ClusterMetadata: Sendable {
    public struct Broker: Sendable, Hashable {
        public var nodeId: Int32
        public var host: String
        public var port: Int
    }

    public struct Topic: Sendable {
        public var name: String
        public var id: KafkaUUID
        public var error: KafkaErrorCode?
        public var isInternal = false
        /// Partition index → leader node id (-1: no leader now).
        public var leaders: [Int32: Int32]
        public var partitionCount: Int { leaders.count }
    }

    public var brokers: [Int32: Broker] = [:]
    public var topics: [String: Topic] = [:]
    public var controllerId: Int32 = -1
    public var clusterId: String?

    init() {}

    init(_ response: MetadataResponse) {
        for broker in response.brokers {
            brokers[broker.nodeId] = Broker(nodeId: broker.nodeId, host: broker.host, port: Int(broker.port))
        }
        for topic in response.topics {
            guard let name = topic.name else { continue }
            var leaders: [Int32: Int32] = [:]
            for partition in topic.partitions { leaders[partition.partitionIndex] = partition.errorCode == 0 || partition.leaderId >= 0 ? partition.leaderId : -1 }
            topics[name] = Topic(
                name: name, id: topic.topicId, error: topic.errorCode == 0 ? nil : KafkaErrorCode(rawValue: topic.errorCode) ?? .unknownServerError,
                isInternal: topic.isInternal, leaders: leaders
            )
        }
        controllerId = response.controllerId
        clusterId = response.clusterId
    }
}
