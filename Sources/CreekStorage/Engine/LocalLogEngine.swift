/// The embedded engine: each partition a `PartitionLog` directory of segment files under
/// `dataDirectory`, the catalog `meta/topics.json`. Blocking file work runs on the storage
/// I/O threads (`StorageExecutor`), never on the caller's.
public struct LocalLogEngine: StorageEngine {
    public let dataDirectory: String
    public let files: any FileOperations
    public var name: String { "local" }

    public init(dataDirectory: String, files: any FileOperations) {
        self.dataDirectory = dataDirectory
        self.files = files
    }

    public func loadCatalog() async throws(StorageError) -> TopicCatalog? {
        let (directory, files) = (dataDirectory, self.files)
        return try await StorageExecutor.run { () throws(StorageError) in try TopicCatalog.load(dataDirectory: directory, files: files) }
    }

    public func saveCatalog(_ catalog: TopicCatalog, replacing previous: TopicCatalog?) async throws(StorageError) {
        let (directory, files) = (dataDirectory, self.files)
        try await StorageExecutor.run { () throws(StorageError) in try catalog.save(dataDirectory: directory, files: files) }
    }

    public func openPartition(
        topic: String, topicId: String, index: Int32, config: LogConfig, recover: Bool, isNew: Bool, nowMs: Int64
    ) async throws(StorageError) -> any PartitionStorage {
        let engine = self
        return try await StorageExecutor.run { () throws(StorageError) -> PartitionLog in
            try engine.openPartitionNow(topic: topic, index: index, config: config, recover: recover, isNew: isNew, nowMs: nowMs)
        }
    }

    /// `openPartition` on the calling thread. A new partition whose directory is left over
    /// (a crash between creating it and saving the catalog) sets that directory aside first.
    public func openPartitionNow(
        topic: String, index: Int32, config: LogConfig, recover: Bool, isNew: Bool, nowMs: Int64
    ) throws(StorageError) -> PartitionLog {
        if isNew {
            let path = dataDirectory + "/" + PartitionLog.directoryName(topic: topic, partition: index)
            if files.exists(path) {
                try files.rename(path, to: path + "." + Self.randomTag() + PartitionLog.straySuffix)
                try files.syncDirectory(dataDirectory)
            }
        }
        return try PartitionLog(
            topic: topic, partition: index, dataDirectory: dataDirectory, config: config, recover: recover, nowMs: nowMs, files: files
        )
    }

    static func randomTag() -> String {
        var generator = SystemRandomNumberGenerator()
        let value = UInt64.random(in: 0...UInt64.max, using: &generator)
        let digits = String(value, radix: 16)
        return String(repeating: "0", count: 16 - digits.count) + digits
    }
}
