import ArgumentParser
import CreekClient
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

extension GroupCommand {
    /// `creek group reset-offsets`: computes each partition's new committed offset (clamped
    /// to the partition's low and high watermarks), prints the plan, and commits it only
    /// with `--execute` and only while the group has no members.
    struct ResetOffsets: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "reset-offsets",
            abstract: "Move a group's committed offsets (a dry run unless --execute; the group must have no members)."
        )
        @OptionGroup var client: ClientOptions
        @OptionGroup var output: OutputOption
        @Argument(help: "The group.") var group: String
        @Option(help: "TOPIC or TOPIC:P,P,… (repeatable).") var topic: [String] = []
        @Flag(help: "Every partition the group has committed.") var allTopics = false
        @Flag(help: "To each partition's first offset.") var toEarliest = false
        @Flag(help: "To each partition's end.") var toLatest = false
        @Option(help: "To this offset.") var toOffset: Int64?
        @Option(help: "To the first record at or after this time: ISO 8601 (2026-11-28T10:00:00Z) or milliseconds since the epoch.") var toDatetime: String?
        @Option(parsing: .unconditional, help: "By this many offsets from the committed one (negative: back).") var shiftBy: Int64?
        @Flag(help: "Commit the new offsets (default: only show them).") var execute = false

        struct Planned: Encodable { var topic: String; var partition: Int32; var current: Int64?; var new: Int64 }
        struct Plan: Encodable { var group: String; var executed: Bool; var partitions: [Planned] }

        func validate() throws {
            let targets = [toEarliest, toLatest, toOffset != nil, toDatetime != nil, shiftBy != nil].filter { $0 }.count
            guard targets == 1 else { throw ValidationError("give exactly one of --to-earliest, --to-latest, --to-offset, --to-datetime, --shift-by") }
            guard allTopics != !topic.isEmpty else { throw ValidationError("give --topic (repeatable) or --all-topics") }
        }

        func run() async throws {
            let time = try toDatetime.map(Self.milliseconds)
            let plan = try await withAdmin(client) { admin -> Plan in
                let description = try await admin.describeGroup(group)
                if execute && !description.members.isEmpty {
                    throw CommandFailure(description: "group \(group) has \(description.members.count) active member(s) (\(description.state)); stop its consumers first")
                }
                let committed = try await admin.listGroupOffsets(group)
                let partitions = try await selected(admin, committed: committed)
                let low = try await admin.listOffsets(partitions, at: .beginning)
                let high = try await admin.listOffsets(partitions, at: .end)
                var byTime: [TopicPartition: Int64] = [:]
                if let time { byTime = try await admin.listOffsets(partitions, at: .timestamp(time)) }
                let planned = partitions.map { partition -> Planned in
                    let (first, end) = (low[partition] ?? 0, high[partition] ?? 0)
                    let current = committed[partition]?.offset
                    var target: Int64
                    if toEarliest { target = first } else if toLatest { target = end } else if let toOffset { target = toOffset } else if time != nil {
                        target = (byTime[partition] ?? -1) < 0 ? end : byTime[partition] ?? end
                    } else {
                        target = (current ?? first) + (shiftBy ?? 0)
                    }
                    target = min(max(target, first), end)
                    return Planned(topic: partition.topic, partition: partition.partition, current: current, new: target)
                }
                if execute {
                    try await admin.alterGroupOffsets(group, Dictionary(uniqueKeysWithValues: planned.map {
                        (TopicPartition($0.topic, $0.partition), CommittedOffset(offset: $0.new))
                    }))
                }
                return Plan(group: group, executed: execute, partitions: planned)
            }
            let rows: [[String]] = plan.partitions.map { planned in
                [planned.topic, String(planned.partition), planned.current.map { String($0) } ?? "-", String(planned.new)]
            }
            let footer = plan.executed ? "offsets of \(group) reset\n" : "dry run: nothing changed (add --execute to apply)\n"
            try output.emit(plan) { table(["TOPIC", "PARTITION", "CURRENT", "NEW"], rows) + footer }
        }

        /// The partitions named by `--topic` (all of a topic's, or the listed ones), or all
        /// the group has committed.
        private func selected(_ admin: KafkaAdmin, committed: [TopicPartition: CommittedOffset]) async throws -> [TopicPartition] {
            if allTopics { return committed.keys.sorted { ($0.topic, $0.partition) < ($1.topic, $1.partition) } }
            var result: [TopicPartition] = []
            for item in topic {
                let parts = item.split(separator: ":", maxSplits: 1).map(String.init)
                if parts.count == 2 {
                    for number in parts[1].split(separator: ",") {
                        guard let partition = Int32(number) else { throw ValidationError("bad partition \(number) in \(item)") }
                        result.append(TopicPartition(parts[0], partition))
                    }
                } else {
                    guard let described = try await admin.describeTopics([item])[item] else { continue }
                    result += described.leaders.keys.sorted().map { TopicPartition(item, $0) }
                }
            }
            return result
        }

        /// Milliseconds since the epoch from ISO 8601 or a number.
        static func milliseconds(_ text: String) throws -> Int64 {
            if let number = Int64(text) { return number }
            guard let date = try? Date(text, strategy: .iso8601) else {
                throw ValidationError("--to-datetime expects ISO 8601 (2026-11-28T10:00:00Z) or milliseconds, got \(text)")
            }
            return Int64((date.timeIntervalSince1970 * 1000).rounded())
        }
    }
}
