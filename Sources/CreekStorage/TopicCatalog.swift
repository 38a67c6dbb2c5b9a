#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// The durable list of topics: `meta/topics.json`, rewritten atomically (temp file,
/// fsync, rename) on every change. Holds what cannot be derived from the partition
/// directories: topic ids, partition counts, config overrides, the cluster id.
public struct TopicCatalog: Codable, Hashable, Sendable {
    public struct Topic: Codable, Hashable, Sendable {
        public var name: String
        /// The topic id as 32 hex digits.
        public var id: String
        public var partitions: Int32
        /// Config overrides by Kafka name (e.g. `retention.ms`).
        public var configs: [String: String]

        public init(name: String, id: String, partitions: Int32, configs: [String: String]) {
            self.name = name
            self.id = id
            self.partitions = partitions
            self.configs = configs
        }
    }

    public var clusterId: String
    public var topics: [Topic]

    public init(clusterId: String, topics: [Topic] = []) {
        self.clusterId = clusterId
        self.topics = topics
    }

    public static func path(dataDirectory: String) -> String { dataDirectory + "/meta/topics.json" }

    /// Loads the catalog, or nil when there is none yet.
    public static func load(dataDirectory: String, files: any FileOperations) throws(StorageError) -> TopicCatalog? {
        let path = path(dataDirectory: dataDirectory)
        guard files.exists(path) else { return nil }
        let bytes = try files.readAll(path)
        do {
            return try JSONDecoder().decode(TopicCatalog.self, from: Data(bytes))
        } catch {
            throw .corruptCatalog(path: path, reason: "\(error)")
        }
    }

    public func save(dataDirectory: String, files: any FileOperations) throws(StorageError) {
        try files.makeDirectoryDurably(dataDirectory + "/meta")
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        let data: Data
        do {
            data = try encoder.encode(self)
        } catch {
            throw .corruptCatalog(path: Self.path(dataDirectory: dataDirectory), reason: "\(error)")
        }
        try files.writeAtomically(Array(data), to: Self.path(dataDirectory: dataDirectory))
    }
}

/// The clean-shutdown marker: present only between a clean stop and the next start.
/// Its absence at startup means the last stop was a crash, so recovery runs.
public enum CleanShutdownMarker {
    public static func path(dataDirectory: String) -> String { dataDirectory + "/.creek-clean-shutdown" }

    /// Reads and removes the marker; true when the previous stop was clean.
    public static func consume(dataDirectory: String, files: any FileOperations = PosixFileOperations()) throws(StorageError) -> Bool {
        let path = path(dataDirectory: dataDirectory)
        guard files.exists(path) else { return false }
        try files.remove(path)
        try files.syncDirectory(dataDirectory)
        return true
    }

    public static func write(dataDirectory: String, files: any FileOperations = PosixFileOperations()) throws(StorageError) {
        try files.writeAtomically(Array("clean\n".utf8), to: path(dataDirectory: dataDirectory))
    }
}
