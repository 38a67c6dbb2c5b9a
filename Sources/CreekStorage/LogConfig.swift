/// The settings that govern one partition log (a topic's effective configuration).
/// Names follow Kafka's topic configs; `TopicConfigs` maps them to and from strings.
public struct LogConfig: Hashable, Sendable {
    public enum TimestampType: String, Sendable {
        case createTime = "CreateTime"
        case logAppendTime = "LogAppendTime"
    }

    /// `segment.bytes`: roll the active segment when it would exceed this.
    public var segmentBytes: Int = 1 << 30
    /// `segment.ms`: roll the active segment when it is older than this.
    public var segmentMs: Int64 = 7 * 24 * 3_600_000
    /// `retention.ms`: delete segments whose newest record is older; -1 keeps forever.
    public var retentionMs: Int64 = 7 * 24 * 3_600_000
    /// `retention.bytes`: delete the oldest segments while the log is larger; -1 no limit.
    public var retentionBytes: Int64 = -1
    /// `max.message.bytes`: largest batch accepted.
    public var maxMessageBytes: Int = 1_048_588
    /// `message.timestamp.type`.
    public var timestampType: TimestampType = .createTime
    /// `index.interval.bytes`: log bytes between offset-index entries.
    public var indexIntervalBytes: Int = 4096
    /// `producer.id.expiration.ms`: idempotent-producer state of idle producers is dropped.
    public var producerIdExpirationMs: Int64 = 86_400_000
    /// `cleanup.policy`: delete old segments (retention), compact by key, or both.
    public var cleanupPolicy: CleanupPolicy = .delete
    /// `min.cleanable.dirty.ratio`: clean when uncleaned bytes are at least this share of
    /// the cleanable log.
    public var minCleanableDirtyRatio: Double = 0.5
    /// `min.compaction.lag.ms`: records younger than this are never compacted.
    public var minCompactionLagMs: Int64 = 0
    /// `max.compaction.lag.ms`: a record older than this is compacted whatever the ratio.
    public var maxCompactionLagMs: Int64 = Int64.max
    /// `delete.retention.ms`: how long a tombstone (a keyed record with a null value) stays
    /// readable before the cleaner may remove it.
    public var deleteRetentionMs: Int64 = 86_400_000

    /// `cleanup.policy` as a set of `delete` and `compact`.
    public struct CleanupPolicy: OptionSet, Hashable, Sendable {
        public let rawValue: Int
        public init(rawValue: Int) { self.rawValue = rawValue }
        public static let delete = CleanupPolicy(rawValue: 1)
        public static let compact = CleanupPolicy(rawValue: 2)

        /// Parses Kafka's list form: `delete`, `compact`, `compact,delete` (any order,
        /// spaces allowed). Nil for anything else (an empty list included).
        public init?(kafka text: String) {
            var policy: CleanupPolicy = []
            for part in text.split(separator: ",") {
                switch part.filter({ $0 != " " }) {
                case "delete": policy.insert(.delete)
                case "compact": policy.insert(.compact)
                default: return nil
                }
            }
            guard !policy.isEmpty else { return nil }
            self = policy
        }

        public var kafka: String {
            [contains(.compact) ? "compact" : nil, contains(.delete) ? "delete" : nil].compactMap { $0 }.joined(separator: ",")
        }
    }

    public init() {}
}
