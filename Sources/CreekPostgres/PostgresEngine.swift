public import CreekStorage
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
public import Logging
import NIOConcurrencyHelpers
import PostgresNIO

/// The PostgreSQL engine: the catalog, every partition's batches, offsets and producer
/// state in one database (schema in `PostgresSchema`), so the broker keeps no topic data on
/// its own disk. Every append is committed (synchronous_commit as the server has it, on by
/// default) before it is acknowledged. Invariant: the connection pool runs from `connect`
/// until `shutdown`.
public final class PostgresEngine: StorageEngine {
    public var name: String { "postgres" }
    let client: PostgresClient
    let logger: Logger
    /// This broker's membership: live brokers, leases, who leads what.
    public let membership: PostgresCluster
    private let watchers = NIOLockedValueBox<[Task<Void, Never>]>([])
    /// The catalog version this broker has adopted (`creek_cluster.catalog_version`).
    private let catalogVersion = NIOLockedValueBox<Int64>(-1)
    public var cluster: (any ClusterView)? { membership }
    let transactionStorage: PostgresTransactions
    private let running: Task<Void, Never>

    private init(client: PostgresClient, logger: Logger, node: ClusterNode, leaseMs: Int64) {
        self.client = client
        self.logger = logger
        membership = PostgresCluster(client: client, logger: logger, node: node, leaseMs: leaseMs)
        transactionStorage = PostgresTransactions(client: client, logger: logger)
        running = Task { await client.run() }
    }

    /// Connects to `url` (`postgres://USER[:PASSWORD]@HOST[:PORT]/DATABASE[?sslmode=require]`),
    /// migrates the schema and registers `node` as a live broker with a lease of `leaseMs`.
    public static func connect(
        url: String, node: ClusterNode, leaseMs: Int64, logger: Logger, connectTimeout: Duration = .seconds(15)
    ) async throws(StorageError) -> PostgresEngine {
        var configuration: PostgresClient.Configuration
        do {
            configuration = try PostgresURL.configuration(url)
        } catch {
            throw .database("\(error)")
        }
        // A broker paused inside a commit (SIGSTOP, a stall) keeps its connection and the
        // partition's row lock: the server ends such a transaction after one lease, so the
        // broker taking the partition over is not blocked behind it.
        configuration.options.additionalStartupParameters = [
            ("idle_in_transaction_session_timeout", String(leaseMs)),
            ("application_name", "creek-\(node.id)"),
        ]
        let engine = PostgresEngine(
            client: PostgresClient(configuration: configuration, backgroundLogger: logger), logger: logger, node: node, leaseMs: leaseMs
        )
        do {
            // The pool retries a refused connection for about a minute; a broker that cannot
            // reach its database at start says so sooner.
            try await withThrowingTaskGroup(of: Bool.self) { group in
                group.addTask {
                    try await PostgresSchema.migrate(engine.client, logger: logger)
                    return true
                }
                group.addTask {
                    try await Task.sleep(for: connectTimeout)
                    return false
                }
                let migrated = try await group.next() ?? false
                group.cancelAll()
                guard migrated else {
                    throw PostgresEngineError("no answer from PostgreSQL at \(configuration.host ?? "?"):\(configuration.port ?? 0) within \(connectTimeout)")
                }
            }
            try await engine.membership.join()
        } catch {
            engine.shutdown()
            throw Self.storageError(error)
        }
        return engine
    }

    /// Leaves the cluster (the others take this broker's partitions at once) and closes the
    /// connection pool.
    public func leaveCluster() async {
        await membership.leave()
    }

    /// Closes the connection pool.
    public func shutdown() {
        for watcher in watchers.withLockedValue({ $0 }) { watcher.cancel() }
        running.cancel()
    }

    /// A database failure as the broker reports it (the server's message, not the driver's
    /// generic one).
    static func storageError(_ error: any Error) -> StorageError {
        if let error = error as? StorageError { return error }
        // `withTransaction` wraps what its body threw (a lost leadership, a catalog
        // conflict): that error, not the wrapper, says what happened.
        if let error = error as? PostgresTransactionError,
           let cause = error.closureError ?? error.beginError ?? error.commitError ?? error.rollbackError {
            return storageError(cause)
        }
        if let error = error as? PostgresEngineError { return .database(error.description) }
        if let error = error as? DeadlinePassed { return .database(error.description) }
        if let error = error as? PSQLError {
            let message = error.serverInfo?[.message] ?? "\(error.code)"
            return .database(message)
        }
        return .database(String(describing: error))
    }

    // MARK: - Catalog

    public func loadCatalog() async throws(StorageError) -> TopicCatalog? {
        do {
            var clusterId: String?
            for try await id in try await client.query("SELECT cluster_id FROM creek_cluster", logger: logger).decode(String.self) {
                clusterId = id
            }
            guard let clusterId else { return nil }
            var catalog = TopicCatalog(clusterId: clusterId)
            let rows = try await client.query("SELECT name, topic_id, partitions, configs FROM creek_topics ORDER BY name", logger: logger)
            for try await (name, id, partitions, configs) in rows.decode((String, String, Int32, String).self) {
                let overrides = (try? JSONDecoder().decode([String: String].self, from: Data(configs.utf8))) ?? [:]
                catalog.topics.append(.init(name: name, id: id, partitions: partitions, configs: overrides))
            }
            return catalog
        } catch {
            throw Self.storageError(error)
        }
    }

    /// Saves only what changed between `previous` (the catalog this broker derived the new
    /// one from) and `catalog`, each topic only if its row is still the one it read: a new
    /// topic only if no topic of that name exists, a changed one only if its partition count
    /// and overrides are unchanged in the store. Otherwise nothing is saved and the error is
    /// `.catalogConflict` (two brokers creating one name, or changing one topic, at the same
    /// moment). Topics other brokers created meanwhile are never touched: they are in
    /// neither catalog.
    public func saveCatalog(_ catalog: TopicCatalog, replacing previousCatalog: TopicCatalog?) async throws(StorageError) {
        let previous = Dictionary((previousCatalog?.topics ?? []).map { ($0.name, $0) }, uniquingKeysWith: { $1 })
        let names = Set(catalog.topics.map(\.name))
        let removed = previous.values.filter { !names.contains($0.name) }
        let changed = catalog.topics.filter { previous[$0.name] != $0 }
        func json(_ configs: [String: String]) -> String {
            String(decoding: (try? JSONEncoder().encode(configs)) ?? Data("{}".utf8), as: UTF8.self)
        }
        do {
            try await client.withTransaction(logger: logger) { connection in
                try await connection.query("""
                    INSERT INTO creek_cluster (cluster_id) VALUES (\(catalog.clusterId)) ON CONFLICT (singleton) DO NOTHING
                    """, logger: logger)
                try await connection.query("UPDATE creek_cluster SET catalog_version = catalog_version + 1", logger: logger)
                for topic in removed {
                    try await connection.query("DELETE FROM creek_topics WHERE name = \(topic.name) AND topic_id = \(topic.id)", logger: logger)
                }
                for topic in changed {
                    let configs = json(topic.configs)
                    let rows: PostgresRowSequence
                    if let before = previous[topic.name], before.id == topic.id {
                        let readConfigs = json(before.configs)
                        rows = try await connection.query("""
                            UPDATE creek_topics SET partitions = \(topic.partitions), configs = \(configs)
                            WHERE name = \(topic.name) AND topic_id = \(topic.id)
                              AND partitions = \(before.partitions) AND configs::jsonb = \(readConfigs)::jsonb
                            RETURNING name
                            """, logger: logger)
                    } else {
                        rows = try await connection.query("""
                            INSERT INTO creek_topics (name, topic_id, partitions, configs)
                            VALUES (\(topic.name), \(topic.id), \(topic.partitions), \(configs))
                            ON CONFLICT DO NOTHING RETURNING name
                            """, logger: logger)
                    }
                    var saved = false
                    for try await _ in rows.decode(String.self) { saved = true }
                    if !saved { throw StorageError.catalogConflict(topic: topic.name) }
                }
            }
        } catch {
            throw Self.storageError(error)
        }
    }

    /// The catalog when it changed since this broker last looked (one tiny query), else nil.
    public func changedCatalog() async -> TopicCatalog? {
        var version: Int64?
        do {
            for try await value in try await client.query("SELECT catalog_version FROM creek_cluster", logger: logger).decode(Int64.self) {
                version = value
            }
        } catch {
            return nil
        }
        guard let version, version != catalogVersion.withLockedValue({ $0 }), let catalog = try? await loadCatalog() else { return nil }
        catalogVersion.withLockedValue { $0 = max($0, version) }
        return catalog
    }

    /// Calls `changed` with the catalog whenever another broker (or this one) changed it,
    /// checked every `interval`, so a topic created through one broker is served by the others
    /// within that interval (Metadata also checks at once). Runs until the engine shuts down.
    public func watchCatalog(every interval: Duration = .milliseconds(200), _ changed: @escaping @Sendable (TopicCatalog) async -> Void) {
        every(interval) { [weak self] in
            if let catalog = await self?.changedCatalog() { await changed(catalog) }
        }
    }

    /// Runs `body` every `interval` until the engine shuts down.
    public func every(_ interval: Duration, _ body: @escaping @Sendable () async -> Void) {
        let task = Task {
            while !Task.isCancelled {
                try? await Task.sleep(for: interval)
                if Task.isCancelled { return }
                await body()
            }
        }
        watchers.withLockedValue { $0.append(task) }
    }

    /// Producer ids from the database's shared sequence, so brokers never collide.
    public func producerIds(dataDirectory: String, files: any FileOperations) -> ProducerIdAllocator {
        let (client, logger) = (self.client, self.logger)
        return ProducerIdAllocator { () async throws(StorageError) -> Int64 in
            do {
                for try await start in try await client.query("SELECT nextval('creek_producer_id_blocks')", logger: logger).decode(Int64.self) {
                    return start
                }
                throw StorageError.database("the producer id sequence returned nothing")
            } catch {
                throw Self.storageError(error)
            }
        }
    }

    // MARK: - Partitions

    public func openPartition(
        topic: String, topicId: String, index: Int32, config: LogConfig, recover: Bool, isNew: Bool, nowMs: Int64
    ) async throws(StorageError) -> any PartitionStorage {
        try await PostgresPartition.open(
            engine: self, topic: topic, topicId: topicId, partition: index, config: config, nowMs: nowMs
        )
    }
}
