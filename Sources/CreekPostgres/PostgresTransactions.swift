public import CreekStorage
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import Logging
import NIOConcurrencyHelpers
import NIOCore
import PostgresNIO

/// Transaction coordinator state in `creek_transactions` and staged transactional offsets
/// in `creek_txn_offsets`. Each row carries a version; this broker remembers the version
/// it last loaded or wrote per id, and a save whose version no longer matches is refused
/// (another coordinator wrote meanwhile).
final class PostgresTransactions: SharedTransactionStorage {
    let client: PostgresClient
    let logger: Logger
    private let versions = NIOLockedValueBox<[String: Int64]>([:])

    init(client: PostgresClient, logger: Logger) {
        self.client = client
        self.logger = logger
    }

    func nextCoordinatorEpoch() async throws(StorageError) -> Int32 {
        do {
            var epoch: Int32?
            // The cluster row exists once any broker saved the catalog (before serving).
            let rows = try await client.query(
                "UPDATE creek_cluster SET coordinator_epoch = coordinator_epoch + 1 RETURNING coordinator_epoch", logger: logger
            )
            for try await value in rows.decode(Int32.self) { epoch = value }
            guard let epoch else { throw StorageError.database("no cluster row to take a coordinator epoch from") }
            return epoch
        } catch {
            throw PostgresEngine.storageError(error)
        }
    }

    func loadAll() async throws(StorageError) -> [TransactionMetadata] {
        do {
            var loaded: [TransactionMetadata] = []
            var seen: [String: Int64] = [:]
            let decoder = JSONDecoder()
            let rows = try await client.query("SELECT transactional_id, version, metadata FROM creek_transactions", logger: logger)
            for try await (id, version, json) in rows.decode((String, Int64, String).self) {
                seen[id] = version
                guard let metadata = try? decoder.decode(TransactionMetadata.self, from: Data(json.utf8)) else {
                    logger.error("unreadable transaction state in PostgreSQL; ignored", metadata: ["transactionalId": "\(id)"])
                    continue
                }
                loaded.append(metadata)
            }
            versions.withLockedValue { $0 = seen }
            return loaded
        } catch {
            throw PostgresEngine.storageError(error)
        }
    }

    func save(_ metadata: TransactionMetadata) async throws(StorageError) {
        let id = metadata.transactionalId
        guard let encoded = try? JSONEncoder().encode(metadata) else { throw .database("cannot encode transaction \(id)") }
        let json = String(decoding: encoded, as: UTF8.self)
        let known = versions.withLockedValue { $0[id] }
        var written: Int64?
        do {
            let rows = if let known {
                try await client.query("""
                    UPDATE creek_transactions SET version = version + 1, metadata = \(json)
                    WHERE transactional_id = \(id) AND version = \(known) RETURNING version
                    """, logger: logger)
            } else {
                try await client.query("""
                    INSERT INTO creek_transactions (transactional_id, version, metadata) VALUES (\(id), 1, \(json))
                    ON CONFLICT (transactional_id) DO NOTHING RETURNING version
                    """, logger: logger)
            }
            for try await version in rows.decode(Int64.self) { written = version }
        } catch {
            throw PostgresEngine.storageError(error)
        }
        guard let written else { throw .notCoordinator("transactional id \(id)") }
        versions.withLockedValue { $0[id] = written }
    }

    func remove(_ transactionalId: String) async throws(StorageError) {
        guard let known = versions.withLockedValue({ $0[transactionalId] }) else { return }
        do {
            try await client.query("""
                DELETE FROM creek_transactions WHERE transactional_id = \(transactionalId) AND version = \(known)
                """, logger: logger)
        } catch {
            throw PostgresEngine.storageError(error)
        }
        versions.withLockedValue { $0[transactionalId] = nil }
    }

    func stageOffsets(producerId: Int64, _ offsets: [TransactionMetadata.PendingOffset]) async throws(StorageError) {
        do {
            try await client.withTransaction(logger: logger) { connection in
                for offset in offsets {
                    let metadata = offset.metadata.map { ByteBuffer(string: $0) }
                    try await connection.query("""
                        INSERT INTO creek_txn_offsets (producer_id, group_id, topic, partition, committed_offset, leader_epoch, metadata)
                        VALUES (\(producerId), \(offset.group), \(offset.topic), \(offset.partition), \(offset.offset), \(offset.leaderEpoch), \(metadata))
                        ON CONFLICT (producer_id, group_id, topic, partition) DO UPDATE SET committed_offset = excluded.committed_offset,
                            leader_epoch = excluded.leader_epoch, metadata = excluded.metadata
                        """, logger: logger)
                }
            }
        } catch {
            throw PostgresEngine.storageError(error)
        }
    }

    func stagedGroups(producerId: Int64) async throws(StorageError) -> Set<String> {
        do {
            var groups: Set<String> = []
            let rows = try await client.query("SELECT DISTINCT group_id FROM creek_txn_offsets WHERE producer_id = \(producerId)", logger: logger)
            for try await group in rows.decode(String.self) { groups.insert(group) }
            return groups
        } catch {
            throw PostgresEngine.storageError(error)
        }
    }

    func stagedPartitions(group: String) async throws(StorageError) -> Set<TransactionMetadata.Partition> {
        do {
            var partitions: Set<TransactionMetadata.Partition> = []
            let rows = try await client.query("SELECT topic, partition FROM creek_txn_offsets WHERE group_id = \(group)", logger: logger)
            for try await (topic, partition) in rows.decode((String, Int32).self) {
                partitions.insert(.init(topic: topic, partition: partition))
            }
            return partitions
        } catch {
            throw PostgresEngine.storageError(error)
        }
    }

    func finishStaged(producerId: Int64, groups: Set<String>, commit: Bool, nowMs: Int64) async throws(StorageError) -> [TransactionMetadata.PendingOffset] {
        guard !groups.isEmpty else { return [] }
        let names = Array(groups)
        do {
            return try await client.withTransaction(logger: logger) { connection in
                var finished: [TransactionMetadata.PendingOffset] = []
                let rows = try await connection.query("""
                    DELETE FROM creek_txn_offsets WHERE producer_id = \(producerId) AND group_id = ANY(\(names))
                    RETURNING group_id, topic, partition, committed_offset, leader_epoch, metadata
                    """, logger: logger)
                for try await (group, topic, partition, offset, epoch, metadata) in rows.decode((String, String, Int32, Int64, Int32, ByteBuffer?).self) {
                    finished.append(.init(group: group, topic: topic, partition: partition, offset: offset, leaderEpoch: epoch, metadata: metadata.map { String(buffer: $0) }))
                }
                guard commit else { return finished }
                for offset in finished {
                    let metadata = offset.metadata.map { ByteBuffer(string: $0) }
                    try await connection.query("""
                        INSERT INTO creek_offsets (group_id, topic, partition, committed_offset, leader_epoch, metadata, commit_timestamp)
                        VALUES (\(offset.group), \(offset.topic), \(offset.partition), \(offset.offset), \(offset.leaderEpoch), \(metadata), \(nowMs))
                        ON CONFLICT (group_id, topic, partition) DO UPDATE SET committed_offset = excluded.committed_offset,
                            leader_epoch = excluded.leader_epoch, metadata = excluded.metadata, commit_timestamp = excluded.commit_timestamp
                        """, logger: logger)
                }
                return finished
            }
        } catch {
            throw PostgresEngine.storageError(error)
        }
    }
}

extension PostgresEngine {
    /// The cluster's shared transaction state (one instance per engine: it holds versions).
    public var sharedTransactions: any SharedTransactionStorage { transactionStorage }
}
