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

    public init() {}
}
