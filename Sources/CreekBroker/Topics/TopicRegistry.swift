public import CreekStorage
public import KafkaProtocol
import NIOConcurrencyHelpers

/// All topics of this broker, durable through `TopicCatalog`. Lookups are lock-protected
/// reads of an immutable snapshot; changes (create, delete, add partitions, configs) are
/// serialised by the same lock and persisted before they become visible.
public final class TopicRegistry: Sendable {
    struct State {
        var catalog: TopicCatalog
        var byName: [String: Topic] = [:]
        var byId: [KafkaUUID: String] = [:]
    }

    /// The broker configuration in force: the static one with the dynamic overrides
    /// (`DynamicBrokerConfig`) applied. Changed only through `apply(brokerConfig:)`.
    public var config: BrokerConfig { brokerConfig.withLockedValue { $0 } }
    let brokerConfig: NIOLockedValueBox<BrokerConfig>
    public let files: any FileOperations
    /// Where the catalog and the partitions live.
    public let engine: any StorageEngine
    let clock: @Sendable () -> Int64
    /// True for the local engine, whose partitions serve Produce and Fetch on the event loop.
    public let servesInPlace: Bool
    let state: NIOLockedValueBox<State>
    /// Serialises topic changes, whose file I/O runs off the lock and off task threads.
    let changes = ChangeGate()

    public var clusterId: String { state.withLockedValue { $0.catalog.clusterId } }

    /// Opens every topic in the catalog. With `recover`, each partition's newest segment
    /// is validated and cut at the first torn or corrupt batch. Directories of deleted
    /// partitions (`-delete`) are removed; partition directories that no catalog topic owns
    /// (a crash between creating them and saving the catalog) are renamed `-stray` and
    /// never opened.
    public convenience init(
        config: BrokerConfig, recover: Bool, files: any FileOperations = PosixFileOperations(),
        clock: @escaping @Sendable () -> Int64
    ) throws(StorageError) {
        let engine = LocalLogEngine(dataDirectory: config.dataDirectory, files: files)
        try files.makeDirectoryDurably(config.dataDirectory)
        let saved = try TopicCatalog.load(dataDirectory: config.dataDirectory, files: files)
        let catalog = saved ?? TopicCatalog(clusterId: Self.newClusterId())
        try Self.sweep(dataDirectory: config.dataDirectory, catalog: catalog, files: files)
        var state = State(catalog: catalog)
        for entry in catalog.topics {
            let logConfig = TopicConfigs.logConfig(broker: config, overrides: entry.configs)
            var partitions: [any PartitionStorage] = []
            for index in 0..<entry.partitions {
                partitions.append(try engine.openPartitionNow(
                    topic: entry.name, index: index, config: logConfig, recover: recover, isNew: false, nowMs: clock()
                ))
            }
            Self.add(entry, partitions: partitions, logConfig: logConfig, to: &state)
        }
        if saved == nil { try catalog.save(dataDirectory: config.dataDirectory, files: files) }
        self.init(config: config, engine: engine, files: files, clock: clock, state: state)
    }

    private init(
        config: BrokerConfig, engine: any StorageEngine, files: any FileOperations, clock: @escaping @Sendable () -> Int64, state: State
    ) {
        self.brokerConfig = NIOLockedValueBox(config)
        self.engine = engine
        self.servesInPlace = engine is LocalLogEngine
        self.files = files
        self.clock = clock
        self.state = NIOLockedValueBox(state)
    }

    /// Opens every topic of `engine`'s catalog (creating an empty catalog when it has none).
    /// `files` serves the broker's other metadata, which stays in the data directory.
    public static func open(
        config: BrokerConfig, engine: any StorageEngine, files: any FileOperations, clock: @escaping @Sendable () -> Int64
    ) async throws(StorageError) -> TopicRegistry {
        let saved = try await engine.loadCatalog()
        let catalog = saved ?? TopicCatalog(clusterId: newClusterId())
        var state = State(catalog: catalog)
        for entry in catalog.topics {
            let logConfig = TopicConfigs.logConfig(broker: config, overrides: entry.configs)
            var partitions: [any PartitionStorage] = []
            for index in 0..<entry.partitions {
                partitions.append(try await engine.openPartition(
                    topic: entry.name, topicId: entry.id, index: index, config: logConfig, recover: false, isNew: false, nowMs: clock()
                ))
            }
            add(entry, partitions: partitions, logConfig: logConfig, to: &state)
        }
        if saved == nil { try await engine.saveCatalog(catalog, replacing: nil) }
        return TopicRegistry(config: config, engine: engine, files: files, clock: clock, state: state)
    }

    private static func add(_ entry: TopicCatalog.Topic, partitions: [any PartitionStorage], logConfig: LogConfig, to state: inout State) {
        let id = parseId(entry.id) ?? newTopicId()
        state.byName[entry.name] = Topic(name: entry.name, id: id, partitions: partitions, overrides: entry.configs, logConfig: logConfig)
        state.byId[id] = entry.name
    }

    /// Removes leftovers of deleted partitions and sets aside directories no topic owns.
    private static func sweep(dataDirectory: String, catalog: TopicCatalog, files: any FileOperations) throws(StorageError) {
        var owned: Set<String> = ["meta"]
        for topic in catalog.topics {
            for index in 0..<max(0, topic.partitions) { owned.insert(PartitionLog.directoryName(topic: topic.name, partition: index)) }
        }
        var renamed = false
        for name in try files.list(dataDirectory) where files.isDirectory(dataDirectory + "/" + name) {
            let path = dataDirectory + "/" + name
            if name.hasSuffix(PartitionLog.deletedSuffix) {
                // Best effort: what is left is removed at the next start.
                try? files.removeTree(path)
            } else if !owned.contains(name) && !name.hasSuffix(PartitionLog.straySuffix) {
                try files.rename(path, to: path + "." + hex(newTopicId()) + PartitionLog.straySuffix)
                renamed = true
            }
        }
        if renamed { try files.syncDirectory(dataDirectory) }
    }

    /// Opens a new, empty partition (a leftover of the same name is set aside).
    func openNewPartition(topic: String, id: KafkaUUID, index: Int32, logConfig: LogConfig) async throws(StorageError) -> any PartitionStorage {
        try await engine.openPartition(topic: topic, topicId: Self.hex(id), index: index, config: logConfig, recover: false, isNew: true, nowMs: clock())
    }

    // MARK: - Lookups

    public func topic(named name: String) -> Topic? {
        state.withLockedValue { $0.byName[name] }
    }

    public func topic(id: KafkaUUID) -> Topic? {
        state.withLockedValue { state in state.byId[id].flatMap { state.byName[$0] } }
    }

    public func allTopics() -> [Topic] {
        state.withLockedValue { Array($0.byName.values) }.sorted { $0.name < $1.name }
    }

    /// Closes every partition log for a clean shutdown. Returns the partitions that could
    /// not be synced (offline ones included): when any is, no clean-shutdown marker may be
    /// written.
    public func closeAll() async -> [(partition: String, error: StorageError)] {
        var failures: [(partition: String, error: StorageError)] = []
        for topic in allTopics() {
            for partition in topic.partitions {
                do {
                    try await partition.close()
                } catch {
                    failures.append(("\(partition.topic)-\(partition.partition)", error))
                }
            }
        }
        return failures
    }

    /// Runs `body` under the lock, keeping its typed error.
    func locked<T>(_ body: (inout State) throws(TopicError) -> T) throws(TopicError) -> T {
        let result: Result<T, TopicError> = state.withLockedValue { state in
            Result { () throws(TopicError) -> T in try body(&state) }
        }
        return try result.get()
    }

    // MARK: - Ids

    static func newTopicId() -> KafkaUUID {
        var generator = SystemRandomNumberGenerator()
        // Version-4 UUID bits; never zero.
        let high = (UInt64.random(in: 0...UInt64.max, using: &generator) & ~0xF000) | 0x4000
        let low = (UInt64.random(in: 0...UInt64.max, using: &generator) & 0x3FFF_FFFF_FFFF_FFFF) | 0x8000_0000_0000_0000
        return KafkaUUID(high: high, low: low)
    }

    static func newClusterId() -> String {
        // Kafka cluster ids are base64url of a UUID (22 characters).
        let id = newTopicId()
        let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")
        var bytes: [UInt8] = []
        for shift in stride(from: 56, through: 0, by: -8) { bytes.append(UInt8(truncatingIfNeeded: id.high >> UInt64(shift))) }
        for shift in stride(from: 56, through: 0, by: -8) { bytes.append(UInt8(truncatingIfNeeded: id.low >> UInt64(shift))) }
        var bits = 0
        var accumulator = 0
        var result = ""
        for byte in bytes {
            accumulator = (accumulator << 8) | Int(byte)
            bits += 8
            while bits >= 6 {
                bits -= 6
                result.append(alphabet[(accumulator >> bits) & 0x3F])
            }
        }
        if bits > 0 { result.append(alphabet[(accumulator << (6 - bits)) & 0x3F]) }
        return result
    }

    static func hex(_ id: KafkaUUID) -> String {
        func pad(_ value: UInt64) -> String {
            let digits = String(value, radix: 16)
            return String(repeating: "0", count: 16 - digits.count) + digits
        }
        return pad(id.high) + pad(id.low)
    }

    static func parseId(_ text: String) -> KafkaUUID? {
        guard text.count == 32, let high = UInt64(text.prefix(16), radix: 16), let low = UInt64(text.suffix(16), radix: 16) else {
            return nil
        }
        return KafkaUUID(high: high, low: low)
    }
}
