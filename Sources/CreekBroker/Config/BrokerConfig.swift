public import CreekStorage

/// Broker settings under Kafka's own names. Every value has Kafka's default unless
/// noted; `apply(name:value:)` rejects unknown names and bad values with a message that
/// says what is allowed.
public struct BrokerConfig: Sendable, Hashable {
    public enum FlushPolicy: String, Sendable, CaseIterable {
        /// Ack after the page-cache write; fsync on `log.flush.interval.ms` and at segment roll.
        case os
        /// acks=-1 is acknowledged after an fsync (group commit); acks=1 after the page cache.
        case acksAll = "acks-all"
        /// Every append is fsynced before its ack.
        case always
    }

    /// `listeners` (the first is the one `--listen` sets), `advertised.listeners` by name,
    /// `listener.security.protocol.map`, `inter.broker.listener.name` (`Listeners.swift`).
    public var listeners = [Listener(name: "PLAINTEXT", host: "127.0.0.1", port: 9092)]
    public var advertisedListeners: [String: HostPort] = [:]
    public var securityProtocolMap = BrokerConfig.defaultSecurityProtocolMap
    public var interBrokerListenerName: String?

    /// The first listener's address.
    public var listenHost: String {
        get { listeners[0].host }
        set { listeners[0].host = newValue }
    }

    public var listenPort: Int {
        get { listeners[0].port }
        set { listeners[0].port = newValue }
    }

    /// The first listener's advertised address, when one is set.
    public var advertisedHost: String? {
        get { advertisedListeners[listeners[0].name]?.host }
        set { setAdvertised(host: newValue, port: nil) }
    }

    public var advertisedPort: Int? {
        get { advertisedListeners[listeners[0].name]?.port }
        set { setAdvertised(host: nil, port: newValue) }
    }

    private mutating func setAdvertised(host: String?, port: Int?) {
        let name = listeners[0].name
        let current = advertisedListeners[name] ?? HostPort(host: listenHost, port: listenPort)
        advertisedListeners[name] = HostPort(host: host ?? current.host, port: port ?? current.port)
    }
    public var dataDirectory = "./creek-data"
    /// Where topics are stored (`creek.storage.url`): nil for the local log in
    /// `dataDirectory`, or `postgres://USER[:PASSWORD]@HOST[:PORT]/DB` for PostgreSQL.
    public var storageURL: String?
    /// How long a broker's cluster lease lasts (`creek.cluster.lease.ms`): a broker that has
    /// not renewed it for this long is taken for dead and its partitions move.
    public var clusterLeaseMs: Int64 = 6000
    public var nodeId: Int32 = 1
    public var flush: FlushPolicy = .acksAll
    /// The admin HTTP listener and metrics (Creek's own; not Kafka settings).
    public var http = AdminHTTPSettings()
    /// TLS for SSL listeners (`ssl.*`).
    public var tls = TLSSettings()
    /// SASL for SASL_PLAINTEXT and SASL_SSL listeners (`sasl.*`, re-authentication).
    public var sasl = SASLSettings()
    /// ACL checks (`authorizer.class.name`, `super.users`, `allow.everyone.if.no.acl.found`).
    public var authorizer = AuthorizerSettings()
    /// SCRAM users saved when the broker opens (`--add-scram`).
    public var scramBootstrap: [ScramBootstrap] = []

    public var autoCreateTopicsEnable = true
    public var numPartitions: Int32 = 1
    public var logSegmentBytes = 1_073_741_824
    public var logRollMs: Int64 = 7 * 24 * 3_600_000
    public var logRetentionMs: Int64 = 7 * 24 * 3_600_000
    public var logRetentionBytes: Int64 = -1
    public var logRetentionCheckIntervalMs: Int64 = 300_000
    /// Creek default 1000 ms (Kafka leaves it to the OS); used by `--flush os`.
    public var logFlushIntervalMs: Int64 = 1000
    public var logIndexIntervalBytes = 4096
    /// `log.cleanup.policy`: the default `cleanup.policy` of topics.
    public var logCleanupPolicy: LogConfig.CleanupPolicy = .delete
    /// The log cleaner (compaction): on/off, threads, I/O bound, pause between checks, and
    /// memory for its key map (Kafka's names and defaults).
    public var logCleanerEnable = true
    public var logCleanerThreads = 1
    public var logCleanerIoMaxBytesPerSecond = Double.greatestFiniteMagnitude
    public var logCleanerBackoffMs: Int64 = 15_000
    public var logCleanerDedupeBufferSize = 134_217_728
    public var logCleanerMinCleanableRatio = 0.5
    public var logCleanerMinCompactionLagMs: Int64 = 0
    public var logCleanerMaxCompactionLagMs = Int64.max
    public var logCleanerDeleteRetentionMs: Int64 = 86_400_000
    public var logMessageTimestampType = "CreateTime"
    public var messageMaxBytes = 1_048_588
    public var socketRequestMaxBytes = 104_857_600
    /// Requests one connection may have in flight before Creek stops reading from it.
    public var queuedMaxRequests = 500
    /// Request bytes one connection may have in flight before Creek stops reading from it.
    /// Kafka's name; Kafka applies it broker-wide with no default limit, Creek per
    /// connection with 16 MiB, which bounds memory under pipelined producers.
    public var queuedMaxRequestBytes = 16 << 20
    public var deleteTopicEnable = true
    /// Largest Fetch response the broker builds, whatever the client asks (Kafka's default).
    public var fetchMaxBytes = 57_671_680
    /// Incremental fetch sessions (KIP-227) kept at once; 0 turns sessions off.
    public var maxIncrementalFetchSessionCacheSlots = 1000
    /// Connections accepted at once, over all clients; more are closed at accept.
    public var maxConnections = Int(Int32.max)
    /// Connections accepted at once from one IP address.
    public var maxConnectionsPerIp = Int(Int32.max)
    public var groupInitialRebalanceDelayMs: Int64 = 3000
    /// Partitions of the internal `__consumer_offsets` topic (Kafka's name; Creek default 1,
    /// Kafka's 50: one node needs no spread, and tools read every partition anyway).
    public var offsetsTopicNumPartitions: Int32 = 1
    /// `creek.offsets.topic.enable`: mirror committed offsets and groups into Kafka's
    /// internal `__consumer_offsets` topic (on by default, as in Kafka).
    public var offsetsTopicEnable = true
    public var offsetsRetentionMinutes: Int64 = 10080
    public var offsetsRetentionCheckIntervalMs: Int64 = 600_000
    public var groupMinSessionTimeoutMs: Int32 = 6000
    public var groupMaxSessionTimeoutMs: Int32 = 1_800_000
    public var groupMaxSize: Int32 = Int32.max
    public var offsetMetadataMaxBytes = 4096
    public var producerIdExpirationMs: Int64 = 86_400_000
    /// Largest `transaction.timeout.ms` a transactional producer may ask for.
    public var transactionMaxTimeoutMs: Int32 = 900_000
    /// A transactional id with no transaction for this long is forgotten.
    public var transactionalIdExpirationMs: Int64 = 604_800_000
    /// How often timed-out transactions are looked for (Kafka's
    /// `transaction.abort.timed.out.transaction.cleanup.interval.ms`; Creek default 1 s).
    public var transactionAbortTimedOutCleanupIntervalMs: Int64 = 1000

    public init() {}

    /// The group coordinator's limits.
    public var groupSettings: GroupStateMachine.Settings {
        var settings = GroupStateMachine.Settings()
        settings.initialRebalanceDelayMs = groupInitialRebalanceDelayMs
        settings.minSessionTimeoutMs = groupMinSessionTimeoutMs
        settings.maxSessionTimeoutMs = groupMaxSessionTimeoutMs
        settings.maxSize = Int(groupMaxSize)
        return settings
    }

    public var advertised: (host: String, port: Int) {
        (advertisedHost ?? listenHost, advertisedPort ?? listenPort)
    }

    /// Names accepted by `apply`, in the order `DescribeConfigs` lists them.
    public static let names: [String] = [
        "auto.create.topics.enable", "num.partitions", "log.segment.bytes", "log.roll.ms", "log.roll.hours",
        "log.retention.ms", "log.retention.minutes", "log.retention.hours", "log.retention.bytes",
        "log.retention.check.interval.ms", "log.flush.interval.ms", "log.index.interval.bytes",
        "log.message.timestamp.type", "message.max.bytes", "socket.request.max.bytes", "queued.max.requests",
        "queued.max.request.bytes", "fetch.max.bytes", "max.connections", "max.connections.per.ip",
        "delete.topic.enable", "group.initial.rebalance.delay.ms", "offsets.retention.minutes", "offsets.topic.num.partitions", "creek.offsets.topic.enable",
        "offsets.retention.check.interval.ms", "group.min.session.timeout.ms", "group.max.session.timeout.ms",
        "group.max.size", "offset.metadata.max.bytes", "producer.id.expiration.ms",
        "broker.id", "node.id", "log.dirs", "log.dir", "listeners", "advertised.listeners", "listener.security.protocol.map",
        "inter.broker.listener.name", "creek.storage.url", "creek.cluster.lease.ms",
        "log.cleanup.policy", "log.cleaner.enable", "log.cleaner.threads", "log.cleaner.io.max.bytes.per.second",
        "log.cleaner.backoff.ms", "log.cleaner.dedupe.buffer.size", "log.cleaner.min.cleanable.ratio",
        "log.cleaner.min.compaction.lag.ms", "log.cleaner.max.compaction.lag.ms", "log.cleaner.delete.retention.ms",
    ] + TLSSettings.names + SASLSettings.names + AuthorizerSettings.names

    /// Applies one setting by its Kafka name.
    public mutating func apply(name: String, value rawValue: String) throws(ConfigError) {
        let value = rawValue.trimmedOfWhitespace
        switch name {
        case "creek.storage.url":
            guard value.hasPrefix("postgres://") || value.hasPrefix("postgresql://") || value == "local" else {
                throw ConfigError(name: name, value: value, reason: "must be local or postgres://USER@HOST:PORT/DATABASE")
            }
            storageURL = value == "local" ? nil : value
        case "creek.cluster.lease.ms": clusterLeaseMs = try Self.integer(name, value, min: 300, max: 600_000)
        case "auto.create.topics.enable": autoCreateTopicsEnable = try Self.bool(name, value)
        case "num.partitions": numPartitions = Int32(try Self.integer(name, value, min: 1, max: Int64(Int32.max)))
        case "log.segment.bytes": logSegmentBytes = Int(try Self.integer(name, value, min: 14, max: Int64(Int32.max)))
        case "log.roll.ms": logRollMs = try Self.integer(name, value, min: 1)
        case "log.roll.hours": logRollMs = try Self.integer(name, value, min: 1) * 3_600_000
        case "log.retention.ms": logRetentionMs = try Self.integer(name, value, min: -1)
        case "log.retention.minutes": logRetentionMs = try Self.integer(name, value, min: -1) * 60_000
        case "log.retention.hours": logRetentionMs = try Self.integer(name, value, min: -1) * 3_600_000
        case "log.retention.bytes": logRetentionBytes = try Self.integer(name, value, min: -1)
        case "log.retention.check.interval.ms": logRetentionCheckIntervalMs = try Self.integer(name, value, min: 1)
        case "log.flush.interval.ms": logFlushIntervalMs = try Self.integer(name, value, min: 1)
        case "log.index.interval.bytes": logIndexIntervalBytes = Int(try Self.integer(name, value, min: 0, max: Int64(Int32.max)))
        case "log.message.timestamp.type":
            guard value == "CreateTime" || value == "LogAppendTime" else {
                throw ConfigError(name: name, value: value, reason: "must be CreateTime or LogAppendTime")
            }
            logMessageTimestampType = value
        case "message.max.bytes": messageMaxBytes = Int(try Self.integer(name, value, min: 0, max: Int64(Int32.max)))
        case "socket.request.max.bytes": socketRequestMaxBytes = Int(try Self.integer(name, value, min: 1, max: Int64(Int32.max)))
        case "queued.max.requests": queuedMaxRequests = Int(try Self.integer(name, value, min: 1, max: 100_000))
        case "queued.max.request.bytes":
            let bytes = try Self.integer(name, value, min: -1, max: Int64(Int32.max))
            queuedMaxRequestBytes = bytes == -1 ? Int.max : Int(bytes)
        case "fetch.max.bytes": fetchMaxBytes = Int(try Self.integer(name, value, min: 1024, max: Int64(Int32.max)))
        case "transaction.max.timeout.ms": transactionMaxTimeoutMs = Int32(try Self.integer(name, value, min: 1, max: Int64(Int32.max)))
        case "transactional.id.expiration.ms": transactionalIdExpirationMs = try Self.integer(name, value, min: 1, max: Int64(Int32.max))
        case "transaction.abort.timed.out.transaction.cleanup.interval.ms":
            transactionAbortTimedOutCleanupIntervalMs = try Self.integer(name, value, min: 1, max: Int64(Int32.max))
        case "max.incremental.fetch.session.cache.slots":
            maxIncrementalFetchSessionCacheSlots = Int(try Self.integer(name, value, min: 0, max: Int64(Int32.max)))
        case "max.connections": maxConnections = Int(try Self.integer(name, value, min: 1, max: Int64(Int32.max)))
        case "max.connections.per.ip": maxConnectionsPerIp = Int(try Self.integer(name, value, min: 1, max: Int64(Int32.max)))
        case "delete.topic.enable": deleteTopicEnable = try Self.bool(name, value)
        case "group.initial.rebalance.delay.ms": groupInitialRebalanceDelayMs = try Self.integer(name, value, min: 0)
        case "offsets.retention.minutes": offsetsRetentionMinutes = try Self.integer(name, value, min: 1)
        case "creek.offsets.topic.enable": offsetsTopicEnable = try Self.bool(name, value)
        case "offsets.topic.num.partitions": offsetsTopicNumPartitions = Int32(try Self.integer(name, value, min: 1, max: 1000))
        case "offsets.retention.check.interval.ms": offsetsRetentionCheckIntervalMs = try Self.integer(name, value, min: 1)
        case "group.min.session.timeout.ms": groupMinSessionTimeoutMs = Int32(try Self.integer(name, value, min: 1, max: Int64(Int32.max)))
        case "group.max.session.timeout.ms": groupMaxSessionTimeoutMs = Int32(try Self.integer(name, value, min: 1, max: Int64(Int32.max)))
        case "group.max.size": groupMaxSize = Int32(try Self.integer(name, value, min: 1, max: Int64(Int32.max)))
        case "producer.id.expiration.ms": producerIdExpirationMs = try Self.integer(name, value, min: 1)
        case "offset.metadata.max.bytes": offsetMetadataMaxBytes = Int(try Self.integer(name, value, min: 0, max: Int64(Int32.max)))
        case "log.cleanup.policy":
            guard let policy = LogConfig.CleanupPolicy(kafka: value) else {
                throw ConfigError(name: name, value: value, reason: "must be delete, compact or compact,delete")
            }
            logCleanupPolicy = policy
        case "log.cleaner.enable": logCleanerEnable = try Self.bool(name, value)
        case "log.cleaner.threads": logCleanerThreads = Int(try Self.integer(name, value, min: 1, max: 64))
        case "log.cleaner.io.max.bytes.per.second":
            guard let rate = Double(value), rate > 0 else { throw ConfigError(name: name, value: value, reason: "must be a positive number") }
            logCleanerIoMaxBytesPerSecond = rate
        case "log.cleaner.backoff.ms": logCleanerBackoffMs = try Self.integer(name, value, min: 1)
        case "log.cleaner.dedupe.buffer.size": logCleanerDedupeBufferSize = Int(try Self.integer(name, value, min: 1 << 16, max: Int64(Int32.max) * 16))
        case "log.cleaner.min.cleanable.ratio":
            guard let ratio = Double(value), (0...1).contains(ratio) else { throw ConfigError(name: name, value: value, reason: "must be between 0 and 1") }
            logCleanerMinCleanableRatio = ratio
        case "log.cleaner.min.compaction.lag.ms": logCleanerMinCompactionLagMs = try Self.integer(name, value, min: 0)
        case "log.cleaner.max.compaction.lag.ms": logCleanerMaxCompactionLagMs = try Self.integer(name, value, min: 1)
        case "log.cleaner.delete.retention.ms": logCleanerDeleteRetentionMs = try Self.integer(name, value, min: 0)
        case "broker.id", "node.id": nodeId = Int32(try Self.integer(name, value, min: 0, max: Int64(Int32.max)))
        case "log.dirs", "log.dir":
            guard !value.isEmpty, !value.contains(",") else {
                throw ConfigError(name: name, value: value, reason: "must be one directory")
            }
            dataDirectory = value
        case "listeners":
            listeners = try Self.parseListeners(name, value)
        case "advertised.listeners":
            advertisedListeners = try Self.parseAdvertised(name, value)
        case "listener.security.protocol.map":
            securityProtocolMap = try Self.parseProtocolMap(name, value)
        case "inter.broker.listener.name":
            interBrokerListenerName = value.uppercased()
        case _ where name.hasPrefix("ssl."):
            try tls.apply(name: name, value: value)
        case _ where SASLSettings.names.contains(name):
            try sasl.apply(name: name, value: value)
        case _ where AuthorizerSettings.names.contains(name):
            try authorizer.apply(name: name, value: value)
        default:
            throw ConfigError(name: name, value: value, reason: "unknown setting; known settings: \(Self.names.joined(separator: ", "))")
        }
    }

    /// Applies `NAME=VALUE` lines of a Java-style properties file (`#`/`!` comments).
    public mutating func apply(propertiesFile text: String, source: String) throws(ConfigError) {
        for (number, rawLine) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let line = rawLine.trimmedOfWhitespace
            if line.isEmpty || line.hasPrefix("#") || line.hasPrefix("!") { continue }
            guard let separator = line.firstIndex(where: { $0 == "=" || $0 == ":" }) else {
                throw ConfigError(name: "\(source):\(number + 1)", value: line, reason: "expected NAME=VALUE")
            }
            let name = line[..<separator].trimmedOfWhitespace
            let value = line[line.index(after: separator)...].trimmedOfWhitespace
            try apply(name: name, value: value)
        }
    }

    /// Parses `HOST:PORT`, or a Kafka listener `PLAINTEXT://HOST:PORT`.
    public static func hostPort(_ text: String) -> (String, Int)? {
        var rest = Substring(text)
        if let scheme = text.utf8.indices.first(where: { text.utf8[$0...].starts(with: "://".utf8) }) {
            rest = text[text.utf8.index(scheme, offsetBy: 3)...]
        }
        guard let colon = rest.lastIndex(of: ":"), let port = Int(rest[rest.index(after: colon)...]),
              (0...65535).contains(port)
        else { return nil }
        var host = String(rest[..<colon])
        if host.hasPrefix("[") && host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        return (host.isEmpty ? "0.0.0.0" : host, port)
    }

    static func bool(_ name: String, _ value: String) throws(ConfigError) -> Bool {
        switch value.lowercased() {
        case "true": return true
        case "false": return false
        default: throw ConfigError(name: name, value: value, reason: "must be true or false")
        }
    }

    static func integer(_ name: String, _ value: String, min: Int64, max: Int64 = Int64.max) throws(ConfigError) -> Int64 {
        guard let number = Int64(value) else { throw ConfigError(name: name, value: value, reason: "must be an integer") }
        guard number >= min && number <= max else {
            throw ConfigError(name: name, value: value, reason: "must be between \(min) and \(max)")
        }
        return number
    }
}

/// A setting that was rejected: its name, the value given and what is allowed.
public struct ConfigError: Error, Hashable, Sendable, CustomStringConvertible {
    public var name: String
    public var value: String
    public var reason: String

    public init(name: String, value: String, reason: String) {
        self.name = name
        self.value = value
        self.reason = reason
    }

    public var description: String { "invalid setting \(name)=\(value): \(reason)" }
}

extension BrokerConfig {
    /// Kafka's config value types, as DescribeConfigs v3+ reports them.
    public enum ValueType: Int8, Sendable {
        case boolean = 1, string = 2, int = 3, long = 5, double = 6, list = 7
    }

    /// Every broker setting with its current value, for DescribeConfigs (read-only).
    public var describedEntries: [(name: String, value: String, type: ValueType)] {
        return [
            ("auto.create.topics.enable", String(autoCreateTopicsEnable), .boolean),
            ("num.partitions", String(numPartitions), .int),
            ("offsets.topic.num.partitions", String(offsetsTopicNumPartitions), .int),
            ("creek.offsets.topic.enable", String(offsetsTopicEnable), .boolean),
            ("log.segment.bytes", String(logSegmentBytes), .int),
            ("log.roll.ms", String(logRollMs), .long),
            ("log.retention.ms", String(logRetentionMs), .long),
            ("log.retention.bytes", String(logRetentionBytes), .long),
            ("log.retention.check.interval.ms", String(logRetentionCheckIntervalMs), .long),
            ("log.flush.interval.ms", String(logFlushIntervalMs), .long),
            ("log.index.interval.bytes", String(logIndexIntervalBytes), .int),
            ("log.message.timestamp.type", logMessageTimestampType, .string),
            ("log.cleanup.policy", logCleanupPolicy.kafka, .list),
            ("log.cleaner.enable", String(logCleanerEnable), .boolean),
            ("log.cleaner.threads", String(logCleanerThreads), .int),
            ("log.cleaner.io.max.bytes.per.second", String(logCleanerIoMaxBytesPerSecond), .double),
            ("log.cleaner.backoff.ms", String(logCleanerBackoffMs), .long),
            ("log.cleaner.dedupe.buffer.size", String(logCleanerDedupeBufferSize), .long),
            ("log.cleaner.min.cleanable.ratio", String(logCleanerMinCleanableRatio), .double),
            ("log.cleaner.min.compaction.lag.ms", String(logCleanerMinCompactionLagMs), .long),
            ("log.cleaner.max.compaction.lag.ms", String(logCleanerMaxCompactionLagMs), .long),
            ("log.cleaner.delete.retention.ms", String(logCleanerDeleteRetentionMs), .long),
            ("message.max.bytes", String(messageMaxBytes), .int),
            ("socket.request.max.bytes", String(socketRequestMaxBytes), .int),
            ("queued.max.requests", String(queuedMaxRequests), .int),
            ("queued.max.request.bytes", queuedMaxRequestBytes == Int.max ? "-1" : String(queuedMaxRequestBytes), .long),
            ("fetch.max.bytes", String(fetchMaxBytes), .int),
            ("max.incremental.fetch.session.cache.slots", String(maxIncrementalFetchSessionCacheSlots), .int),
            ("transaction.max.timeout.ms", String(transactionMaxTimeoutMs), .int),
            ("transactional.id.expiration.ms", String(transactionalIdExpirationMs), .int),
            ("transaction.abort.timed.out.transaction.cleanup.interval.ms", String(transactionAbortTimedOutCleanupIntervalMs), .int),
            ("max.connections", String(maxConnections), .int),
            ("max.connections.per.ip", String(maxConnectionsPerIp), .int),
            ("delete.topic.enable", String(deleteTopicEnable), .boolean),
            ("group.initial.rebalance.delay.ms", String(groupInitialRebalanceDelayMs), .int),
            ("offsets.retention.minutes", String(offsetsRetentionMinutes), .int),
            ("offsets.retention.check.interval.ms", String(offsetsRetentionCheckIntervalMs), .long),
            ("group.min.session.timeout.ms", String(groupMinSessionTimeoutMs), .int),
            ("group.max.session.timeout.ms", String(groupMaxSessionTimeoutMs), .int),
            ("group.max.size", String(groupMaxSize), .int),
            ("offset.metadata.max.bytes", String(offsetMetadataMaxBytes), .int),
            ("producer.id.expiration.ms", String(producerIdExpirationMs), .int),
            ("node.id", String(nodeId), .int),
            ("broker.id", String(nodeId), .int),
            ("log.dirs", dataDirectory, .string),
            ("listeners", listeners.map { "\($0.name)://\($0.host):\($0.port)" }.joined(separator: ","), .list),
            ("advertised.listeners", listeners.map { "\($0.name)://\(self.advertised(for: $0).host):\(self.advertised(for: $0).port)" }.joined(separator: ","), .list),
            ("listener.security.protocol.map", securityProtocolMap.sorted { $0.key < $1.key }.map { "\($0.key):\($0.value.rawValue)" }.joined(separator: ","), .list),
            ("creek.flush.policy", flush.rawValue, .string),
        ] + tls.describedEntries
    }
}

extension StringProtocol {
    /// The text without leading and trailing spaces and tabs (settings and properties lines;
    /// Creek avoids Foundation, whose ICU data costs megabytes of resident memory).
    var trimmedOfWhitespace: String {
        let isBlank: (Character) -> Bool = { $0 == " " || $0 == "\t" || $0 == "\r" }
        guard let first = firstIndex(where: { !isBlank($0) }), let last = lastIndex(where: { !isBlank($0) }) else { return "" }
        return String(self[first...last])
    }
}
