public import CreekStorage
import Logging
import NIOCore
import PostgresNIO

/// Committed group offsets in `creek_offsets`, shared by every broker of the cluster.
struct PostgresOffsets: SharedOffsetStorage {
    let client: PostgresClient
    let logger: Logger

    func load(group: String) async throws(StorageError) -> [String: [Int32: CommittedOffset]] {
        var offsets: [String: [Int32: CommittedOffset]] = [:]
        do {
            let rows = try await client.query("""
                SELECT topic, partition, committed_offset, leader_epoch, metadata, commit_timestamp FROM creek_offsets WHERE group_id = \(group)
                """, logger: logger)
            for try await (topic, partition, offset, epoch, metadata, time) in rows.decode((String, Int32, Int64, Int32, ByteBuffer?, Int64).self) {
                // Metadata is stored as bytes: a client's may hold NUL, which PostgreSQL text cannot.
                let text = metadata.map { String(buffer: $0) }
                offsets[topic, default: [:]][partition] = CommittedOffset(offset: offset, leaderEpoch: epoch, metadata: text, commitTimestampMs: time)
            }
        } catch {
            throw PostgresEngine.storageError(error)
        }
        return offsets
    }

    func apply(_ changes: [OffsetChange]) async throws(StorageError) {
        do {
            try await client.withTransaction(logger: logger) { connection in
                for change in changes {
                    switch change {
                    case .commit(let group, let topic, let partition, let value):
                        let metadata = value.metadata.map { ByteBuffer(string: $0) }
                        try await connection.query("""
                            INSERT INTO creek_offsets (group_id, topic, partition, committed_offset, leader_epoch, metadata, commit_timestamp)
                            VALUES (\(group), \(topic), \(partition), \(value.offset), \(value.leaderEpoch), \(metadata), \(value.commitTimestampMs))
                            ON CONFLICT (group_id, topic, partition) DO UPDATE SET committed_offset = excluded.committed_offset,
                                leader_epoch = excluded.leader_epoch, metadata = excluded.metadata, commit_timestamp = excluded.commit_timestamp
                            """, logger: logger)
                    case .delete(let group, let topic, let partition):
                        try await connection.query("""
                            DELETE FROM creek_offsets WHERE group_id = \(group) AND topic = \(topic) AND partition = \(partition)
                            """, logger: logger)
                    case .deleteGroup(let group):
                        try await connection.query("DELETE FROM creek_offsets WHERE group_id = \(group)", logger: logger)
                    }
                }
            }
        } catch {
            throw PostgresEngine.storageError(error)
        }
    }
}

extension PostgresEngine {
    /// The cluster's shared committed offsets.
    public var sharedOffsets: any SharedOffsetStorage { PostgresOffsets(client: client, logger: logger) }
}
