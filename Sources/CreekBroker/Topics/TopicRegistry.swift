public import CreekStorage
public import KafkaProtocol
import NIOConcurrencyHelpers

/// All topics of this broker, durable through `TopicCatalog`. Lookups are lock-protected
/// reads of an immutable snapshot; changes (create, delete, add partitions, configs) are
/// serialised by the same lock and persisted before they become visible.
public final class TopicRegistry: Sendable {
    private struct State {
        var catalog: TopicCatalog
        var byName: [String: Topic] = [:]
        var byId: [KafkaUUID: String] = [:]
    }

    public let config: BrokerConfig
    public let files: any FileOperations
    private let clock: @Sendable () -> Int64
    private let state: NIOLockedValueBox<State>

    public var clusterId: String { state.withLockedValue { $0.catalog.clusterId } }

    /// Opens every topic in the catalog. With `recover`, each partition's newest segment
    /// is validated and cut at the first torn or corrupt batch. Directories of deleted
    /// partitions (`-delete`) are removed; partition directories that no catalog topic owns
    /// (a crash between creating them and saving the catalog) are renamed `-stray` and
    /// never opened.
    public init(
        config: BrokerConfig, recover: Bool, files: any FileOperations = PosixFileOperations(),
        clock: @escaping @Sendable () -> Int64
    ) throws(StorageError) {
        self.config = config
        self.files = files
        self.clock = clock
        try files.makeDirectoryDurably(config.dataDirectory)
        let saved = try TopicCatalog.load(dataDirectory: config.dataDirectory, files: files)
        let catalog = saved ?? TopicCatalog(clusterId: Self.newClusterId())
        try Self.sweep(dataDirectory: config.dataDirectory, catalog: catalog, files: files)
        var state = State(catalog: catalog)
        for entry in catalog.topics {
            let id = Self.parseId(entry.id) ?? Self.newTopicId()
            let logConfig = TopicConfigs.logConfig(broker: config, overrides: entry.configs)
            var partitions: [PartitionLog] = []
            for index in 0..<entry.partitions {
                partitions.append(try PartitionLog(
                    topic: entry.name, partition: index, dataDirectory: config.dataDirectory,
                    config: logConfig, recover: recover, nowMs: clock(), files: files
                ))
            }
            state.byName[entry.name] = Topic(name: entry.name, id: id, partitions: partitions, overrides: entry.configs, logConfig: logConfig)
            state.byId[id] = entry.name
        }
        if saved == nil { try catalog.save(dataDirectory: config.dataDirectory, files: files) }
        self.state = NIOLockedValueBox(state)
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

    /// Opens a new, empty partition log; a leftover directory of the same name is set aside.
    private func openNewPartition(topic: String, index: Int32, logConfig: LogConfig) throws(StorageError) -> PartitionLog {
        let path = config.dataDirectory + "/" + PartitionLog.directoryName(topic: topic, partition: index)
        if files.exists(path) {
            try files.rename(path, to: path + "." + Self.hex(Self.newTopicId()) + PartitionLog.straySuffix)
            try files.syncDirectory(config.dataDirectory)
        }
        return try PartitionLog(
            topic: topic, partition: index, dataDirectory: config.dataDirectory,
            config: logConfig, recover: false, nowMs: clock(), files: files
        )
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

    // MARK: - Changes

    /// Creates a topic. `partitions` -1 means `num.partitions`; replication factor must be
    /// -1 or 1 on a single node. With `validateOnly`, checks everything and changes nothing.
    @discardableResult
    public func create(
        name: String, partitions requested: Int32, replicationFactor: Int16 = -1,
        configs: [String: String] = [:], validateOnly: Bool = false
    ) throws(TopicError) -> Topic {
        if let problem = TopicName.problem(name) { throw .invalidTopic(problem) }
        let count = requested == -1 ? config.numPartitions : requested
        guard count >= 1 else { throw .invalidPartitions("Number of partitions must be larger than 0 (got \(requested)).") }
        guard count <= 100_000 else { throw .invalidPartitions("Number of partitions \(count) is above the limit of 100000.") }
        guard replicationFactor == -1 || replicationFactor == 1 else {
            throw .invalidReplicationFactor("Replication factor \(replicationFactor) is larger than the 1 available broker.")
        }
        for (key, value) in configs {
            if let problem = TopicConfigs.validate(name: key, value: value) {
                throw .invalidConfig("Invalid config \(key)=\(value): \(problem)")
            }
        }
        return try locked { state throws(TopicError) -> Topic in
            if state.byName[name] != nil { throw .alreadyExists(name) }
            let id = Self.newTopicId()
            let logConfig = TopicConfigs.logConfig(broker: config, overrides: configs)
            let topic = Topic(name: name, id: id, partitions: [], overrides: configs, logConfig: logConfig)
            if validateOnly { return topic }
            var partitions: [PartitionLog] = []
            do {
                for index in 0..<count {
                    partitions.append(try openNewPartition(topic: name, index: index, logConfig: logConfig))
                }
                var catalog = state.catalog
                catalog.topics.append(.init(name: name, id: Self.hex(id), partitions: count, configs: configs))
                try catalog.save(dataDirectory: config.dataDirectory, files: files)
                state.catalog = catalog
            } catch {
                throw .storage("Could not create topic '\(name)': \(error)")
            }
            let created = Topic(name: name, id: id, partitions: partitions, overrides: configs, logConfig: logConfig)
            state.byName[name] = created
            state.byId[id] = name
            return created
        }
    }

    /// Deletes a topic: removed from the catalog (durably), each partition's directory
    /// renamed aside at once, then removed in the background.
    public func delete(name: String) async throws(TopicError) {
        guard config.deleteTopicEnable else { throw .deletionDisabled }
        let removed = try locked { state throws(TopicError) -> Topic in
            guard let topic = state.byName[name] else { throw .unknownTopic(name) }
            var catalog = state.catalog
            catalog.topics.removeAll { $0.name == name }
            do {
                try catalog.save(dataDirectory: config.dataDirectory, files: files)
            } catch {
                throw .storage("Could not delete topic '\(name)': \(error)")
            }
            state.catalog = catalog
            state.byName[name] = nil
            state.byId[topic.id] = nil
            return topic
        }
        try await retire(removed)
    }

    /// Sets a deleted topic's partition directories aside, then removes them in the background.
    private func retire(_ topic: Topic) async throws(TopicError) {
        var retired: [String] = []
        for partition in topic.partitions {
            do {
                retired.append(try await partition.retire(tag: Self.hex(topic.id)))
            } catch {
                throw .storage("Topic '\(topic.name)' was deleted but its files were not all set aside: \(error)")
            }
        }
        removeInBackground(retired)
    }

    private func removeInBackground(_ paths: [String]) {
        let files = self.files
        Task.detached(priority: .background) {
            for path in paths { try? files.removeTree(path) }
        }
    }

    /// Raises a topic's partition count to `total`.
    public func createPartitions(name: String, total: Int32, validateOnly: Bool) throws(TopicError) {
        try locked { state throws(TopicError) in
            guard let topic = state.byName[name] else { throw .unknownTopic(name) }
            let current = Int32(topic.partitions.count)
            guard total > current else {
                throw .invalidPartitions("Topic '\(name)' has \(current) partitions; the new count must be larger (got \(total)).")
            }
            guard total <= 100_000 else { throw .invalidPartitions("Number of partitions \(total) is above the limit of 100000.") }
            if validateOnly { return }
            let logConfig = topic.logConfig
            var partitions = topic.partitions
            do {
                for index in current..<total {
                    partitions.append(try openNewPartition(topic: name, index: index, logConfig: logConfig))
                }
                var catalog = state.catalog
                if let position = catalog.topics.firstIndex(where: { $0.name == name }) {
                    catalog.topics[position].partitions = total
                }
                try catalog.save(dataDirectory: config.dataDirectory, files: files)
                state.catalog = catalog
            } catch {
                throw .storage("Could not add partitions to '\(name)': \(error)")
            }
            state.byName[name] = Topic(name: name, id: topic.id, partitions: partitions, overrides: topic.overrides, logConfig: logConfig)
        }
    }

    /// Replaces a topic's config overrides (already validated) and applies them to its logs.
    public func setConfigs(name: String, overrides: [String: String]) async throws(TopicError) {
        let updated = try locked { state throws(TopicError) -> Topic in
            guard let topic = state.byName[name] else { throw .unknownTopic(name) }
            var catalog = state.catalog
            if let position = catalog.topics.firstIndex(where: { $0.name == name }) {
                catalog.topics[position].configs = overrides
            }
            do {
                try catalog.save(dataDirectory: config.dataDirectory, files: files)
            } catch {
                throw .storage("Could not save configs of '\(name)': \(error)")
            }
            state.catalog = catalog
            let changed = Topic(
                name: name, id: topic.id, partitions: topic.partitions, overrides: overrides,
                logConfig: TopicConfigs.logConfig(broker: config, overrides: overrides)
            )
            state.byName[name] = changed
            return changed
        }
        for partition in updated.partitions {
            await partition.update(config: updated.logConfig)
        }
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
    private func locked<T>(_ body: (inout State) throws(TopicError) -> T) throws(TopicError) -> T {
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
