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
    ]

    public static func isKnown(_ name: String) -> Bool { names.contains { $0.topic == name } }

    /// The default value of every topic config, as a string, from the broker settings.
    public static func defaults(_ broker: BrokerConfig) -> [String: String] {
        [
            "cleanup.policy": "delete",
            "retention.ms": String(broker.logRetentionMs),
            "retention.bytes": String(broker.logRetentionBytes),
            "segment.bytes": String(broker.logSegmentBytes),
            "segment.ms": String(broker.logRollMs),
            "max.message.bytes": String(broker.messageMaxBytes),
            "message.timestamp.type": broker.logMessageTimestampType,
            "index.interval.bytes": String(broker.logIndexIntervalBytes),
        ]
    }

    /// Checks one override; the message says what is allowed.
    public static func validate(name: String, value: String) -> String? {
        switch name {
        case "cleanup.policy":
            return value == "delete" ? nil : "only cleanup.policy=delete is supported (compaction is not implemented yet)"
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
        return config
    }
}

extension TopicConfigs {
    /// Kafka's type for each topic config (DescribeConfigs v3+).
    public static func type(of name: String) -> BrokerConfig.ValueType {
        switch name {
        case "cleanup.policy": return .list
        case "message.timestamp.type": return .string
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
