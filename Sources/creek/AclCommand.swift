import ArgumentParser
import CreekBroker
import CreekClient
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// `creek acl …`: add, list and remove ACLs (CreateAcls, DescribeAcls, DeleteAcls), with the
/// names of kafka-acls.sh: `creek acl add --principal User:alice --operation read --topic orders`.
struct AclCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "acl",
        abstract: "Add, list and remove ACLs (the broker needs authorizer.class.name).",
        subcommands: [Add.self, List.self, Remove.self]
    )

    /// The resource and who/what of an ACL or a filter.
    struct Selection: ParsableArguments {
        @Option(help: "The principal, User:NAME (User:* for everyone).") var principal: String?
        @Option(help: "The client host (default * when adding).") var host: String?
        @Option(help: "read, write, create, delete, alter, describe, cluster-action, describe-configs, alter-configs, idempotent-write, all (repeatable).")
        var operation: [String] = []
        @Option(help: "A topic (* for all).") var topic: String?
        @Option(help: "A consumer group (* for all).") var group: String?
        @Option(help: "A transactional id (* for all).") var transactionalId: String?
        @Flag(help: "The cluster resource.") var cluster = false
        @Flag(help: "The name is a prefix (PREFIXED pattern).") var prefixed = false
        @Flag(help: "A DENY rule (default ALLOW).") var deny = false

        func resource() throws -> (type: Int8, name: String?)? {
            let chosen: [(Int8, String?)] = [(2, topic), (3, group), (5, transactionalId)].filter { $0.1 != nil } + (cluster ? [(4, "kafka-cluster")] : [])
            guard chosen.count <= 1 else { throw ValidationError("name one resource: --topic, --group, --transactional-id or --cluster") }
            return chosen.first.map { (type: $0.0, name: $0.1) }
        }

        func operations() throws -> [Int8] {
            try operation.map { name in
                let key = name.lowercased().replacingOccurrences(of: "_", with: "-")
                guard let value = AclOperationName.all[key] else { throw ValidationError("unknown operation \(name)") }
                return value
            }
        }
    }

    struct Add: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "add", abstract: "Allow (or with --deny, deny) operations on a resource.")
        @OptionGroup var client: ClientOptions
        @OptionGroup var selection: Selection

        func run() async throws {
            guard let principal = selection.principal else { throw ValidationError("--principal is required") }
            guard let resource = try selection.resource() else { throw ValidationError("name a resource: --topic, --group, --transactional-id or --cluster") }
            let operations = try selection.operations()
            guard !operations.isEmpty else { throw ValidationError("name at least one --operation") }
            let acls = operations.map {
                AclEntry(resourceType: resource.type, resourceName: resource.name, patternType: selection.prefixed ? 4 : 3,
                         principal: principal, host: selection.host ?? "*", operation: $0, permission: selection.deny ? 2 : 3)
            }
            try await withAdmin(client) { admin in try await admin.createAcls(acls) }
            StandardOutput.emit("added \(acls.count) ACL(s)\n")
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "list", abstract: "The ACLs matching the options (all without any).")
        @OptionGroup var client: ClientOptions
        @OptionGroup var selection: Selection
        @OptionGroup var output: OutputOption

        struct Listed: Encodable { var resource: String; var pattern: String; var principal: String; var host: String; var operation: String; var permission: String }

        func run() async throws {
            let filters = try AclCommand.filters(selection)
            let found = try await withAdmin(client) { admin in
                var all: [AclEntry] = []
                for filter in filters { all += try await admin.describeAcls(filter) }
                return all
            }
            let listed = found.map(AclCommand.listed)
            try output.emit(listed) {
                table(["RESOURCE", "PATTERN", "PRINCIPAL", "HOST", "OPERATION", "PERMISSION"], listed.map {
                    [$0.resource, $0.pattern, $0.principal, $0.host, $0.operation, $0.permission]
                })
            }
        }
    }

    struct Remove: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "remove", abstract: "Remove the ACLs matching the options (at least one).")
        @OptionGroup var client: ClientOptions
        @OptionGroup var selection: Selection

        func run() async throws {
            let resource = try selection.resource()
            guard selection.principal != nil || resource != nil || !selection.operation.isEmpty else {
                throw ValidationError("narrow it down: --principal, a resource or --operation")
            }
            let filters = try AclCommand.filters(selection)
            let removed = try await withAdmin(client) { admin in
                var all: [AclEntry] = []
                for filter in filters { all += try await admin.deleteAcls(filter) }
                return all
            }
            StandardOutput.emit("removed \(removed.count) ACL(s)\n")
        }
    }

    /// One filter per named operation (or one for any operation).
    static func filters(_ selection: Selection) throws -> [AclEntry] {
        let resource = try selection.resource()
        let operations = try selection.operations()
        let pattern: Int8 = resource?.name == nil ? 1 : (selection.prefixed ? 4 : 3)
        return (operations.isEmpty ? [1] : operations).map {
            AclEntry(resourceType: resource?.type ?? 1, resourceName: resource?.name, patternType: pattern,
                     principal: selection.principal, host: selection.host, operation: $0, permission: selection.deny ? 2 : 1)
        }
    }

    static func listed(_ acl: AclEntry) -> List.Listed {
        let types: [Int8: String] = [2: "topic", 3: "group", 4: "cluster", 5: "transactional-id"]
        return List.Listed(
            resource: "\(types[acl.resourceType] ?? "\(acl.resourceType)"):\(acl.resourceName ?? "")",
            pattern: acl.patternType == 4 ? "prefixed" : "literal", principal: acl.principal ?? "", host: acl.host ?? "",
            operation: AclOperationName.all.first { $0.value == acl.operation }?.key ?? "\(acl.operation)",
            permission: acl.permission == 2 ? "deny" : "allow"
        )
    }
}

/// kafka-acls.sh's operation names, lower-case with dashes.
enum AclOperationName {
    static let all: [String: Int8] = [
        "all": 2, "read": 3, "write": 4, "create": 5, "delete": 6, "alter": 7, "describe": 8, "cluster-action": 9,
        "describe-configs": 10, "alter-configs": 11, "idempotent-write": 12,
    ]
}
