public import CreekStorage
import Logging
import NIOCore
import PostgresNIO

/// The shared `meta/` documents in `creek_documents` (name, version, bytes).
struct PostgresDocuments: SharedDocuments {
    let client: PostgresClient
    let logger: Logger

    func load(_ name: String) async throws(StorageError) -> (version: Int64, bytes: [UInt8])? {
        do {
            for try await (version, body) in try await client.query("""
                SELECT version, body FROM creek_documents WHERE name = \(name)
                """, logger: logger).decode((Int64, ByteBuffer).self) {
                return (version, Array(body.readableBytesView))
            }
            return nil
        } catch {
            throw PostgresEngine.storageError(error)
        }
    }

    func save(_ name: String, _ bytes: [UInt8], expected: Int64) async throws(StorageError) -> Int64? {
        let body = ByteBuffer(bytes: bytes)
        do {
            let rows = if expected == 0 {
                try await client.query("""
                    INSERT INTO creek_documents (name, version, body) VALUES (\(name), 1, \(body))
                    ON CONFLICT (name) DO NOTHING RETURNING version
                    """, logger: logger)
            } else {
                try await client.query("""
                    UPDATE creek_documents SET version = version + 1, body = \(body)
                    WHERE name = \(name) AND version = \(expected) RETURNING version
                    """, logger: logger)
            }
            for try await version in rows.decode(Int64.self) { return version }
            return nil
        } catch {
            throw PostgresEngine.storageError(error)
        }
    }

    func versions() async throws(StorageError) -> [String: Int64] {
        do {
            var versions: [String: Int64] = [:]
            for try await (name, version) in try await client.query("SELECT name, version FROM creek_documents", logger: logger).decode((String, Int64).self) {
                versions[name] = version
            }
            return versions
        } catch {
            throw PostgresEngine.storageError(error)
        }
    }
}

extension PostgresEngine {
    /// The cluster's shared `meta/` documents (SCRAM credentials, ACLs, client quotas).
    public var sharedDocuments: any SharedDocuments { PostgresDocuments(client: client, logger: logger) }
}
