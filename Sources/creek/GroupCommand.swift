import ArgumentParser
import CreekClient
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// `creek group …`: list, describe (members, assignments, committed offsets, lag), delete,
/// and reset-offsets (a dry run unless `--execute`, refused while the group has members —
/// as kafka-consumer-groups.sh).
struct GroupCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "group",
        abstract: "List, describe, delete consumer groups and reset their offsets.",
        subcommands: [List.self, Describe.self, Delete.self, ResetOffsets.self]
    )

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "list", abstract: "Every group with its state.")
        @OptionGroup var client: ClientOptions
        @OptionGroup var output: OutputOption

        struct Listed: Encodable { var group: String; var state: String; var protocolType: String }

        func run() async throws {
            let groups = try await withAdmin(client) { admin in try await admin.listGroups() }
            let listed = groups.map { Listed(group: $0.groupId, state: $0.state, protocolType: $0.protocolType) }
            try output.emit(listed) { table(["GROUP", "STATE", "PROTOCOL"], listed.map { [$0.group, $0.state, $0.protocolType] }) }
        }
    }

    struct Describe: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "describe", abstract: "A group's members and assignments, and each partition's committed offset and lag.")
        @OptionGroup var client: ClientOptions
        @OptionGroup var output: OutputOption
        @Argument(help: "The group.") var group: String

        struct Member: Encodable { var memberId: String; var instanceId: String?; var clientId: String; var host: String; var assignment: [String] }
        struct Offset: Encodable { var topic: String; var partition: Int32; var committed: Int64?; var end: Int64; var lag: Int64?; var member: String? }
        struct Described: Encodable { var group: String; var state: String; var assignor: String; var members: [Member]; var offsets: [Offset]; var totalLag: Int64 }

        func run() async throws {
            let described = try await withAdmin(client) { admin -> Described in
                let description = try await admin.describeGroup(group)
                let committed = try await admin.listGroupOffsets(group)
                var owners: [TopicPartition: String] = [:]
                for member in description.members { for partition in member.assignment { owners[partition] = member.memberId } }
                let partitions = Set(committed.keys).union(owners.keys).sorted { ($0.topic, $0.partition) < ($1.topic, $1.partition) }
                let ends = partitions.isEmpty ? [:] : try await admin.listOffsets(partitions, at: .end)
                let offsets = partitions.map { partition in
                    let end = ends[partition] ?? -1
                    let offset = committed[partition]?.offset
                    return Offset(
                        topic: partition.topic, partition: partition.partition, committed: offset, end: end,
                        lag: offset.map { max(0, end - $0) }, member: owners[partition]
                    )
                }
                return Described(
                    group: group, state: description.state, assignor: description.protocolName,
                    members: description.members.map {
                        Member(memberId: $0.memberId, instanceId: $0.groupInstanceId, clientId: $0.clientId, host: $0.clientHost, assignment: $0.assignment.map(\.description))
                    },
                    offsets: offsets, totalLag: offsets.compactMap(\.lag).reduce(0, +)
                )
            }
            try output.emit(described) {
                "group \(described.group): \(described.state)" + (described.assignor.isEmpty ? "" : ", assignor \(described.assignor)")
                    + ", \(described.members.count) member(s), lag \(described.totalLag)\n\n"
                    + table(["TOPIC", "PARTITION", "COMMITTED", "END", "LAG", "MEMBER"], described.offsets.map {
                        [$0.topic, String($0.partition), $0.committed.map(String.init) ?? "-", String($0.end), $0.lag.map(String.init) ?? "-", $0.member ?? "-"]
                    })
                    + (described.members.isEmpty ? "" : "\n" + table(["MEMBER", "CLIENT", "HOST", "PARTITIONS"], described.members.map {
                        [$0.memberId, $0.clientId, $0.host, $0.assignment.joined(separator: ",")]
                    }))
            }
        }
    }

    struct Delete: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "delete", abstract: "Delete empty groups and their offsets.")
        @OptionGroup var client: ClientOptions
        @Argument(help: "The groups.") var groups: [String]

        func run() async throws {
            guard !groups.isEmpty else { throw ValidationError("name at least one group") }
            try await withAdmin(client) { admin in try await admin.deleteGroups(groups) }
            StandardOutput.emit("deleted \(groups.joined(separator: ", "))\n")
        }
    }
}

/// A failure of a client command that is not the broker's (exit code 1).
struct CommandFailure: Error, CustomStringConvertible {
    var description: String
}
