public import CreekStorage
import Foundation
import NIOConcurrencyHelpers

/// Kafka's ACL authorizer: decides whether a principal connected from a host may perform an
/// operation on a resource, from the ACLs saved in `meta/acls.json` (atomic, fsynced
/// rewrite before a change takes effect). Super users may do everything; a DENY that
/// matches wins over any ALLOW; an ALLOW of READ, WRITE, DELETE or ALTER also allows
/// DESCRIBE, and ALTER_CONFIGS allows DESCRIBE_CONFIGS; a resource without any ACL is open
/// only with `allow.everyone.if.no.acl.found`.
///
/// Invariant: with the authorizer off (`authorizer.class.name` empty) every check passes.
public final class Authorizer: Sendable {
    public let settings: AuthorizerSettings
    let document: MetaDocument<[AclBinding]>

    public var enabled: Bool { settings.enabled }

    static func path(dataDirectory: String) -> String { dataDirectory + "/meta/acls.json" }

    public init(settings: AuthorizerSettings, dataDirectory: String, files: any FileOperations) throws(StorageError) {
        self.settings = settings
        document = try .readingJSON(name: "acls", path: Self.path(dataDirectory: dataDirectory), files: files, empty: [], what: "an ACL file")
    }

    /// An authorizer that is off (for brokers built without `Broker.open`).
    init(disabledIn dataDirectory: String, files: any FileOperations) {
        settings = AuthorizerSettings()
        document = .json(name: "acls", path: Self.path(dataDirectory: dataDirectory), files: files, empty: [], what: "an ACL file")
    }

    public var all: [AclBinding] { document.value }

    /// True when `principal` at `host` may do `operation` on the resource.
    public func authorize(_ principal: String, host: String, _ operation: AclOperation, _ type: AclResourceType, _ name: String) -> Bool {
        guard settings.enabled else { return true }
        if settings.superUsers.contains(principal) { return true }
        let relevant = document.value.filter { binding in
                guard binding.resourceType == type else { return false }
                switch binding.patternType {
                case .literal: return binding.resourceName == name || binding.resourceName == "*"
                case .prefixed: return name.hasPrefix(binding.resourceName)
                default: return false
                }
        }
        if relevant.isEmpty { return settings.allowEveryoneIfNoAclFound }
        let applicable = relevant.filter {
            ($0.principal == principal || $0.principal == "User:*") && ($0.host == "*" || $0.host == host)
        }
        if applicable.contains(where: { $0.permission == .deny && ($0.operation == .all || $0.operation == operation) }) {
            return false
        }
        return applicable.contains { $0.permission == .allow && $0.operation.allows(operation) }
    }

    /// Adds bindings (an existing one is kept once) and saves.
    public func add(_ new: [AclBinding]) async throws(StorageError) {
        try await document.change { current in
            for binding in new where !current.contains(binding) { current.append(binding) }
        }
    }

    /// Removes the bindings each filter matches and saves; returns them, per filter.
    public func remove(matching filters: [AclFilter]) async throws(StorageError) -> [[AclBinding]] {
        try await document.change { current in
            let removed = filters.map { filter in current.filter { filter.matches($0) } }
            current.removeAll { binding in filters.contains { $0.matches(binding) } }
            return removed
        }
    }
}
