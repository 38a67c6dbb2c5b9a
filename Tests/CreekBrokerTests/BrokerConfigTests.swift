import CreekBroker
import Testing

@Suite("Broker configuration")
struct BrokerConfigTests {
    @Test("Kafka-named settings apply, with Kafka's defaults")
    func settings() throws {
        var config = BrokerConfig()
        #expect(config.autoCreateTopicsEnable && config.numPartitions == 1)
        #expect(config.logRetentionCheckIntervalMs == 300_000 && config.socketRequestMaxBytes == 104_857_600)
        try config.apply(name: "num.partitions", value: "6")
        try config.apply(name: "log.retention.hours", value: "2")
        try config.apply(name: "auto.create.topics.enable", value: "false")
        try config.apply(name: "listeners", value: "PLAINTEXT://0.0.0.0:9093")
        #expect(config.numPartitions == 6)
        #expect(config.logRetentionMs == 7_200_000)
        #expect(!config.autoCreateTopicsEnable)
        #expect(config.listenHost == "0.0.0.0" && config.listenPort == 9093)
    }

    @Test("several named listeners, each with its advertised address and protocol")
    func listeners() throws {
        var config = BrokerConfig()
        try config.apply(name: "advertised.listeners", value: "EXTERNAL://public.example:19093")
        try config.apply(name: "listeners", value: "internal://127.0.0.1:9092, EXTERNAL://0.0.0.0:9093")
        try config.apply(name: "listener.security.protocol.map", value: "INTERNAL:PLAINTEXT,EXTERNAL:plaintext")
        #expect(config.listeners.map(\.name) == ["INTERNAL", "EXTERNAL"])
        #expect(config.advertised(for: config.listeners[0]) == HostPort(host: "127.0.0.1", port: 9092))
        #expect(config.advertised(for: config.listeners[1]) == HostPort(host: "public.example", port: 19093))
        try config.validateListeners()
        #expect(config.describedEntries.first { $0.name == "advertised.listeners" }?.value
            == "INTERNAL://127.0.0.1:9092,EXTERNAL://public.example:19093")
        // --listen rewrites the first listener only.
        config.listenPort = 9999
        #expect(config.listeners[0].port == 9999 && config.listeners[1].port == 9093)

        var unmapped = BrokerConfig()
        try unmapped.apply(name: "listeners", value: "A://127.0.0.1:1")
        #expect(throws: ConfigError.self) { try unmapped.validateListeners() }
        #expect(throws: ConfigError.self) { try unmapped.apply(name: "listeners", value: "A://h:1,A://h:2") }
        #expect(throws: ConfigError.self) { try unmapped.apply(name: "listener.security.protocol.map", value: "A:TLS") }
    }

    @Test("unknown names and bad values are refused with a reason")
    func refusals() {
        var config = BrokerConfig()
        #expect(throws: ConfigError.self) { try config.apply(name: "no.such.setting", value: "1") }
        #expect(throws: ConfigError.self) { try config.apply(name: "num.partitions", value: "zero") }
        #expect(throws: ConfigError.self) { try config.apply(name: "num.partitions", value: "0") }
        #expect(throws: ConfigError.self) { try config.apply(name: "delete.topic.enable", value: "yes") }
        #expect(throws: ConfigError.self) { try config.apply(name: "log.message.timestamp.type", value: "Now") }
        do {
            try config.apply(name: "num.partitions", value: "-3")
        } catch {
            #expect(error.description.contains("num.partitions") && error.description.contains("between"))
        }
    }

    @Test("properties files use NAME=VALUE lines and comments")
    func propertiesFile() throws {
        var config = BrokerConfig()
        try config.apply(propertiesFile: "# comment\n! also\nnum.partitions = 3\n\nmessage.max.bytes=2000\n", source: "test")
        #expect(config.numPartitions == 3 && config.messageMaxBytes == 2000)
        #expect(throws: ConfigError.self) { try config.apply(propertiesFile: "just words", source: "test") }
    }

    @Test("topic names follow Kafka's rules")
    func topicNames() {
        #expect(TopicName.problem("orders.v1_x-2") == nil)
        #expect(TopicName.problem("") != nil)
        #expect(TopicName.problem("..") != nil)
        #expect(TopicName.problem("has space") != nil)
        #expect(TopicName.problem(String(repeating: "a", count: 250)) != nil)
    }

    @Test("topic configs are validated by name and value")
    func topicConfigs() {
        #expect(TopicConfigs.validate(name: "retention.ms", value: "-1") == nil)
        #expect(TopicConfigs.validate(name: "retention.ms", value: "soon") != nil)
        #expect(TopicConfigs.validate(name: "cleanup.policy", value: "compact") == nil)
        #expect(TopicConfigs.validate(name: "cleanup.policy", value: "delete, compact") == nil)
        #expect(TopicConfigs.validate(name: "cleanup.policy", value: "shred") != nil)
        #expect(TopicConfigs.validate(name: "cleanup.policy", value: "") != nil)
        #expect(TopicConfigs.validate(name: "min.cleanable.dirty.ratio", value: "1.5") != nil)
        #expect(TopicConfigs.validate(name: "delete.retention.ms", value: "-5") != nil)
        #expect(TopicConfigs.logConfig(broker: BrokerConfig(), overrides: ["cleanup.policy": "compact,delete"]).cleanupPolicy == [.compact, .delete])
        #expect(TopicConfigs.validate(name: "message.timestamp.type", value: "LogAppendTime") == nil)
        #expect(TopicConfigs.validate(name: "unknown.config", value: "1") != nil)
        let log = TopicConfigs.logConfig(broker: BrokerConfig(), overrides: ["segment.bytes": "1000", "message.timestamp.type": "LogAppendTime"])
        #expect(log.segmentBytes == 1000 && log.timestampType == .logAppendTime)
    }
}
