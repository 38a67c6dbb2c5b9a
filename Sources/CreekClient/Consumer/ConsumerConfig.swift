/// Consumer settings (the Java client's, in camel case).
public struct ConsumerConfig: Sendable {
    public enum IsolationLevel: Int8, Sendable {
        case readUncommitted = 0
        case readCommitted = 1
    }

    public enum OffsetReset: Sendable {
        case earliest, latest, none
    }

    public var client: ClientConfig
    /// How long the broker may hold a Fetch waiting for `fetchMinBytes`.
    public var fetchMaxWait: Duration = .milliseconds(500)
    public var fetchMinBytes: Int32 = 1
    public var fetchMaxBytes: Int32 = 52_428_800
    public var maxPartitionFetchBytes: Int32 = 1_048_576
    public var isolationLevel: IsolationLevel = .readUncommitted
    /// Where a partition without a position (or out of range) starts.
    public var autoOffsetReset: OffsetReset = .latest

    public init(bootstrapServers: [String]) {
        client = ClientConfig(bootstrapServers: bootstrapServers)
    }
}

/// Where to move a partition's position.
public enum SeekTarget: Sendable, Hashable {
    case offset(Int64)
    case beginning
    case end
    /// The first record at or after this time (ms since the epoch), or the end.
    case timestamp(Int64)
}
