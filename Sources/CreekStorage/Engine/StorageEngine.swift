/// Where topics live: the catalog (names, ids, partition counts, overrides) and one
/// `PartitionStorage` per partition. `LocalLogEngine` (segment files in a data directory)
/// is the embedded default; other engines keep the same semantics on another store.
/// Invariant: a catalog returned by `loadCatalog` lists only partitions `openPartition`
/// can open.
public protocol StorageEngine: Sendable {
    /// A short name for logs and metrics ("local", "postgres").
    var name: String { get }
    /// The saved catalog, or nil when this store has none yet.
    func loadCatalog() async throws(StorageError) -> TopicCatalog?
    /// Saves the catalog durably before it returns. `previous` is the catalog this broker
    /// derived it from (nil: none was saved yet). A store shared by several brokers saves
    /// only what differs between the two — each changed topic only if the store still has
    /// `previous`'s version of it, a new one only if its name is free — and otherwise
    /// saves nothing and throws `.catalogConflict`; a broker's own store writes it whole.
    func saveCatalog(_ catalog: TopicCatalog, replacing previous: TopicCatalog?) async throws(StorageError)
    /// Opens an existing partition (`isNew` false) or creates an empty one; with `recover`
    /// (after an unclean stop) the engine validates what may be torn. `topicId` (32 hex
    /// digits) tells a re-created topic from an old one of the same name.
    /// Where producer ids come from: unique across every broker on this store.
    func producerIds(dataDirectory: String, files: any FileOperations) throws(StorageError) -> ProducerIdAllocator
    /// The cluster this engine's store is shared with (nil: this broker is alone).
    var cluster: (any ClusterView)? { get }
    /// Leaves the cluster before a graceful shutdown, so the others take over at once.
    func leaveCluster() async
    /// The catalog if other brokers changed it since this one last looked, else nil.
    func changedCatalog() async -> TopicCatalog?
    func openPartition(topic: String, topicId: String, index: Int32, config: LogConfig, recover: Bool, isNew: Bool, nowMs: Int64) async throws(StorageError) -> any PartitionStorage
}

extension StorageEngine {
    public var cluster: (any ClusterView)? { nil }
    public func leaveCluster() async {}
    public func changedCatalog() async -> TopicCatalog? { nil }

    /// Ids reserved in blocks in the data directory (one broker per store).
    public func producerIds(dataDirectory: String, files: any FileOperations) throws(StorageError) -> ProducerIdAllocator {
        try ProducerIdAllocator(dataDirectory: dataDirectory, files: files)
    }
}
