public import CreekStorage

/// Topic-level configs under Kafka's names, their broker-level defaults, and their
/// validation. A topic's effective `LogConfig` is the broker defaults with its overrides.
public enum TopicConfigs {
    /// The topic configs Creek understands, with the broker setting each defaults to.
    public static let names: [(topic: String, broker: String)] = [
        ("cleanup.policy", "log.cleanup.policy"),
        ("retention.ms", "log.retention.ms"),
        ("retention.bytes", "log.retention.bytes"),
        ("segment.bytes", "log.segment.bytes"),
        ("segment.ms", "log.roll.ms"),
        ("max.message.bytes", "message.max.bytes"),
        ("message.timestamp.type", "log.message.timestamp.type"),
        ("index.interval.bytes", "log.index.interval.bytes"),
        ("min.cleanable.dirty.ratio", "log.cleaner.min.cleanable.ratio"),
        ("min.compaction.lag.ms", "log.cleaner.min.compaction.lag.ms"),
        ("max.compaction.lag.ms", "log.cleaner.max.compaction.lag.ms"),
        ("delete.retention.ms", "log.cleaner.delete.retention.ms"),
    ]

    public static func isKnown(_ name: String) -> Bool { names.contains { $0.topic == name } }

    /// The default value of every topic config, as a string, from the broker settings.
    public static func defaults(_ broker: BrokerConfig) -> [String: String] {
        [
            "cleanup.policy": broker.logCleanupPolicy.kafka,
            "retention.ms": String(broker.logRetentionMs),
            "retention.bytes": String(broker.logRetentionBytes),
            "segment.bytes": String(broker.logSegmentBytes),
            "segment.ms": String(broker.logRollMs),
            "max.message.bytes": String(broker.messageMaxBytes),
            "message.timestamp.type": broker.logMessageTimestampType,
            "index.interval.bytes": String(broker.logIndexIntervalBytes),
            "min.cleanable.dirty.ratio": String(broker.logCleanerMinCleanableRatio),
            "min.compaction.lag.ms": String(broker.logCleanerMinCompactionLagMs),
            "max.compaction.lag.ms": String(broker.logCleanerMaxCompactionLagMs),
            "delete.retention.ms": String(broker.logCleanerDeleteRetentionMs),
        ]
    }

    /// Checks one override; the message says what is allowed.
    public static func validate(name: String, value: String) -> String? {
        switch name {
        case "cleanup.policy":
            return LogConfig.CleanupPolicy(kafka: value) == nil ? "must be delete, compact or compact,delete" : nil
        case "min.cleanable.dirty.ratio":
            return Double(value).map { (0...1).contains($0) ? nil : "must be between 0 and 1" } ?? "must be a number"
        case "min.compaction.lag.ms", "max.compaction.lag.ms", "delete.retention.ms":
            return Int64(value).map { $0 >= (name == "max.compaction.lag.ms" ? 1 : 0) ? nil : "must not be negative" } ?? "must be an integer"
        case "retention.ms", "retention.bytes":
            return Int64(value).map { $0 >= -1 ? nil : "must be -1 or more" } ?? "must be an integer"
        case "segment.bytes":
            return Int64(value).map { $0 >= 14 && $0 <= Int64(Int32.max) ? nil : "must be between 14 and \(Int32.max)" } ?? "must be an integer"
        case "segment.ms":
            return Int64(value).map { $0 >= 1 ? nil : "must be at least 1" } ?? "must be an integer"
        case "max.message.bytes", "index.interval.bytes":
            return Int64(value).map { $0 >= 0 && $0 <= Int64(Int32.max) ? nil : "must be between 0 and \(Int32.max)" } ?? "must be an integer"
        case "message.timestamp.type":
            return value == "CreateTime" || value == "LogAppendTime" ? nil : "must be CreateTime or LogAppendTime"
        default:
            return "unknown topic config"
        }
    }

    /// The effective log settings for a topic with `overrides`.
    public static func logConfig(broker: BrokerConfig, overrides: [String: String]) -> LogConfig {
        let values = defaults(broker).merging(overrides) { _, override in override }
        var config = LogConfig()
        config.segmentBytes = Int(values["segment.bytes"] ?? "") ?? broker.logSegmentBytes
        config.segmentMs = Int64(values["segment.ms"] ?? "") ?? broker.logRollMs
        config.retentionMs = Int64(values["retention.ms"] ?? "") ?? broker.logRetentionMs
        config.retentionBytes = Int64(values["retention.bytes"] ?? "") ?? broker.logRetentionBytes
        config.maxMessageBytes = Int(values["max.message.bytes"] ?? "") ?? broker.messageMaxBytes
        config.timestampType = LogConfig.TimestampType(rawValue: values["message.timestamp.type"] ?? "") ?? .createTime
        config.indexIntervalBytes = Int(values["index.interval.bytes"] ?? "") ?? broker.logIndexIntervalBytes
        config.producerIdExpirationMs = broker.producerIdExpirationMs
        config.cleanupPolicy = LogConfig.CleanupPolicy(kafka: values["cleanup.policy"] ?? "") ?? broker.logCleanupPolicy
        config.minCleanableDirtyRatio = Double(values["min.cleanable.dirty.ratio"] ?? "") ?? broker.logCleanerMinCleanableRatio
        config.minCompactionLagMs = Int64(values["min.compaction.lag.ms"] ?? "") ?? broker.logCleanerMinCompactionLagMs
        config.maxCompactionLagMs = Int64(values["max.compaction.lag.ms"] ?? "") ?? broker.logCleanerMaxCompactionLagMs
        config.deleteRetentionMs = Int64(values["delete.retention.ms"] ?? "") ?? broker.logCleanerDeleteRetentionMs
        return config
    }
}

extension TopicConfigs {
    /// Kafka's type for each topic config (DescribeConfigs v3+).
    public static func type(of name: String) -> BrokerConfig.ValueType {
        switch name {
        case "cleanup.policy": return .list
        case "message.timestamp.type": return .string
        case "min.cleanable.dirty.ratio": return .double
        case "segment.bytes", "max.message.bytes", "index.interval.bytes": return .int
        default: return .long
        }
    }

    /// The `ConfigResource` types of the admin APIs.
    public enum ResourceType: Int8 {
        case topic = 2
        case broker = 4
    }
}
