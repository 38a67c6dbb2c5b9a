public import CreekStorage
import Foundation
import Atomics
import NIOConcurrencyHelpers

/// Client quotas by entity (Kafka's KIP-55 model): a user and/or a client id, each named or
/// the default (`nil` name); values by key (`producer_byte_rate`, `consumer_byte_rate`,
/// `request_percentage`, `controller_mutation_rate`). Saved in `meta/client-quotas.json`
/// (atomic, fsynced) before a change takes effect. A client's quota is the most specific
/// entity that sets the key, in Kafka's order: user+client, user+default client, user,
/// default user+client, default user+default client, default user, client, default client.
///
/// Invariant: `entries` never holds an empty value set.
public final class ClientQuotas: Sendable {
    /// One entity: the user and client-id parts; `.some(nil)` is the default, `nil` absent.
    public struct Entity: Hashable, Sendable {
        public var user: String??
        public var clientId: String??

        public init(user: String?? = nil, clientId: String?? = nil) {
            self.user = user
            self.clientId = clientId
        }
    }

    public static let keys: Set<String> = ["producer_byte_rate", "consumer_byte_rate", "request_percentage", "controller_mutation_rate"]

    let document: MetaDocument<[Entity: [String: Double]]>
    /// Whether any quota is set, readable without the lock (checked on every request).
    private let anyQuota: ManagedAtomic<Bool>

    static func path(dataDirectory: String) -> String { dataDirectory + "/meta/client-quotas.json" }

    public init(dataDirectory: String, files: any FileOperations) throws(StorageError) {
        let path = Self.path(dataDirectory: dataDirectory)
        let anyQuota = ManagedAtomic(false)
        self.anyQuota = anyQuota
        document = try .reading(name: "client-quotas", path: path, files: files, empty: [:],
                                encode: { entries throws(StorageError) in try MetaFile.encode(entries.map { Saved($0.key, values: $0.value) }, path: path) },
                                decode: { bytes throws(StorageError) in try Self.decode(bytes, path: path) },
                                didChange: { anyQuota.store(!$0.isEmpty, ordering: .relaxed) })
    }

    init(unsavedIn dataDirectory: String, files: any FileOperations) {
        let path = Self.path(dataDirectory: dataDirectory)
        let anyQuota = ManagedAtomic(false)
        self.anyQuota = anyQuota
        document = MetaDocument(name: "client-quotas", path: path, files: files, initial: [:],
                                encode: { entries throws(StorageError) in try MetaFile.encode(entries.map { Saved($0.key, values: $0.value) }, path: path) },
                                decode: { bytes throws(StorageError) in try Self.decode(bytes, path: path) },
                                didChange: { anyQuota.store(!$0.isEmpty, ordering: .relaxed) })
    }

    private static func decode(_ bytes: [UInt8], path: String) throws(StorageError) -> [Entity: [String: Double]] {
        var loaded: [Entity: [String: Double]] = [:]
        for entry in try MetaFile.decode([Saved].self, bytes, path: path, what: "a client quotas file") {
            guard let entity = entry.decodedEntity else { throw StorageError.corruptCatalog(path: path, reason: "an entity is malformed") }
            loaded[entity] = entry.values
        }
        return loaded
    }

    public var entries: [Entity: [String: Double]] { document.value }
    public var isEmpty: Bool { !anyQuota.load(ordering: .relaxed) }

    /// The quota for `key` that applies to a client, if any.
    public func quota(_ key: String, user: String, clientId: String) -> Double? {
        let order: [Entity] = [
            Entity(user: .some(user), clientId: .some(clientId)), Entity(user: .some(user), clientId: .some(nil)),
            Entity(user: .some(user)), Entity(user: .some(nil), clientId: .some(clientId)),
            Entity(user: .some(nil), clientId: .some(nil)), Entity(user: .some(nil)),
            Entity(clientId: .some(clientId)), Entity(clientId: .some(nil)),
        ]
        let all = document.value
        for entity in order {
            if let value = all[entity]?[key] { return value }
        }
        return nil
    }

    /// One requested change of AlterClientQuotas: set (a value) or remove (nil) a key.
    public struct Change: Sendable {
        public var entity: Entity
        public var key: String
        public var value: Double?
    }

    public func apply(_ changes: [Change]) async throws(StorageError) {
        try await document.change { updated in
            for change in changes {
                updated[change.entity, default: [:]][change.key] = change.value
                if updated[change.entity]?.isEmpty == true { updated[change.entity] = nil }
            }
        }
    }

    /// The file format: an entity as `[["user", "alice"], ["client-id", null]]` (null: the default).
    private struct Saved: Codable {
        var entity: [[String?]]
        var values: [String: Double]

        init(_ entity: Entity, values: [String: Double]) {
            var parts: [[String?]] = []
            if let user = entity.user { parts.append(["user", user]) }
            if let client = entity.clientId { parts.append(["client-id", client]) }
            self.entity = parts
            self.values = values
        }

        var decodedEntity: Entity? {
            var entity = Entity()
            for part in self.entity {
                guard part.count == 2, let type = part[0] else { return nil }
                switch type {
                case "user": entity.user = .some(part[1])
                case "client-id": entity.clientId = .some(part[1])
                default: return nil
                }
            }
            return entity
        }

    }
}
