public import KafkaProtocol

/// A topic to create: its partition count, replication factor (-1: the broker's default)
/// and configs by their Kafka names.
public struct NewTopic: Sendable, Hashable {
    public var name: String
    public var partitions: Int32
    public var replicationFactor: Int16
    public var configs: [String: String]

    public init(name: String, partitions: Int32 = -1, replicationFactor: Int16 = -1, configs: [String: String] = [:]) {
        self.name = name
        self.partitions = partitions
        self.replicationFactor = replicationFactor
        self.configs = configs
    }
}

/// What the cluster says about one topic: its id and each partition's leader.
public struct TopicDescription: Sendable, Hashable {
    public var name: String
    public var id: KafkaUUID
    public var isInternal: Bool
    /// Partition index → leader node id (-1 while it has none).
    public var leaders: [Int32: Int32]
    public var partitionCount: Int { leaders.count }
}

/// Something configs belong to: a topic or a broker (by its node id).
public enum ConfigResource: Sendable, Hashable {
    case topic(String)
    case broker(Int32)

    var type: Int8 {
        switch self {
        case .topic: return 2
        case .broker: return 4
        }
    }

    var name: String {
        switch self {
        case .topic(let name): return name
        case .broker(let id): return String(id)
        }
    }
}

/// One config as DescribeConfigs reports it.
public struct ConfigEntry: Sendable, Hashable {
    public var name: String
    public var value: String?
    public var isDefault: Bool
    public var isReadOnly: Bool
    public var isSensitive: Bool
}

/// An incremental config change (KIP-339).
public enum ConfigChange: Sendable, Hashable {
    case set(String, String)
    /// Back to the default.
    case delete(String)
    /// Adds to a list-valued config (e.g. cleanup.policy).
    case append(String, String)
    case subtract(String, String)

    var name: String {
        switch self {
        case .set(let name, _), .delete(let name), .append(let name, _), .subtract(let name, _): return name
        }
    }

    var operation: Int8 {
        switch self {
        case .set: return 0
        case .delete: return 1
        case .append: return 2
        case .subtract: return 3
        }
    }

    var value: String? {
        switch self {
        case .set(_, let value), .append(_, let value), .subtract(_, let value): return value
        case .delete: return nil
        }
    }
}

/// A group as ListGroups names it.
public struct GroupListing: Sendable, Hashable {
    public var groupId: String
    public var protocolType: String
    /// Empty when the broker is older than ListGroups v4.
    public var state: String
}

/// A group as DescribeGroups reports it: its state, protocol and each member's partitions.
public struct GroupDescription: Sendable, Hashable {
    public struct Member: Sendable, Hashable {
        public var memberId: String
        public var groupInstanceId: String?
        public var clientId: String
        public var clientHost: String
        /// Decoded from the consumer protocol's assignment (empty for other protocols).
        public var assignment: [TopicPartition]
    }

    public var groupId: String
    public var state: String
    public var protocolType: String
    /// The assignor the group chose.
    public var protocolName: String
    public var members: [Member]
}

/// A committed offset with its metadata string.
public struct CommittedOffset: Sendable, Hashable {
    public var offset: Int64
    public var metadata: String

    public init(offset: Int64, metadata: String = "") {
        self.offset = offset
        self.metadata = metadata
    }
}

/// The cluster as DescribeCluster (or Metadata) reports it.
public struct ClusterDescription: Sendable, Hashable {
    public var clusterId: String?
    public var controllerId: Int32
    public var brokers: [ClusterMetadata.Broker]
}
