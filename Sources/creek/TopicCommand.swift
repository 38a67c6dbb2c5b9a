import ArgumentParser
import CreekClient

/// `creek topic …`: create, list, describe, delete, add partitions, alter configs — with
/// the Swift admin client, against any Kafka-compatible broker.
struct TopicCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "topic",
        abstract: "Create, list, describe, delete and configure topics.",
        subcommands: [Create.self, List.self, Describe.self, Delete.self, AddPartitions.self, AlterConfig.self]
    )

    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "create", abstract: "Create a topic.")
        @OptionGroup var client: ClientOptions
        @Argument(help: "The topic.") var topic: String
        @Option(name: [.short, .long], help: "Partitions.") var partitions: Int32 = 1
        @Option(help: "Replication factor (-1: the broker's default).") var replicationFactor: Int16 = -1
        @Option(name: [.short, .long], help: "A topic setting NAME=VALUE by its Kafka name (repeatable).") var config: [String] = []

        func run() async throws {
            let configs = try settings(config)
            try await withAdmin(client) { admin in
                try await admin.createTopics([NewTopic(name: topic, partitions: partitions, replicationFactor: replicationFactor, configs: configs)])
            }
            StandardOutput.emit("created \(topic) (\(partitions) partitions)\n")
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "list", abstract: "List topics with their partition counts.")
        @OptionGroup var client: ClientOptions
        @OptionGroup var output: OutputOption
        @Flag(name: .customLong("internal"), help: "Include internal topics.") var includeInternal = false

        struct Listed: Encodable { var name: String; var partitions: Int; var isInternal: Bool }

        func run() async throws {
            let listed = try await withAdmin(client) { admin -> [Listed] in
                let names = try await admin.listTopics(includeInternal: includeInternal)
                let described = names.isEmpty ? [:] : try await admin.describeTopics(names)
                return names.map { Listed(name: $0, partitions: described[$0]?.partitionCount ?? 0, isInternal: described[$0]?.isInternal ?? false) }
            }
            try output.emit(listed) { table(["TOPIC", "PARTITIONS"], listed.map { [$0.name, String($0.partitions)] }) }
        }
    }

    struct Describe: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "describe", abstract: "A topic's partitions (leader, low and high watermarks) and settings (defaults marked).")
        @OptionGroup var client: ClientOptions
        @OptionGroup var output: OutputOption
        @Argument(help: "The topic.") var topic: String

        struct Partition: Encodable { var partition: Int32; var leader: Int32; var low: Int64; var high: Int64; var sizeBytes: Int64? }
        struct Setting: Encodable { var name: String; var value: String?; var isDefault: Bool; var readOnly: Bool }
        struct Described: Encodable { var name: String; var id: String; var partitions: [Partition]; var configs: [Setting] }

        func run() async throws {
            let described = try await withAdmin(client) { admin -> Described in
                guard let topic = try await admin.describeTopics([topic])[topic] else {
                    throw KafkaClientError.broker(.unknownTopicOrPartition, message: nil, context: "describe topic \(topic)")
                }
                let partitions = topic.leaders.keys.sorted().map { TopicPartition(topic.name, $0) }
                let low = try await admin.listOffsets(partitions, at: .beginning)
                let high = try await admin.listOffsets(partitions, at: .end)
                // A broker without DescribeConfigs (librdkafka's mock cluster) shows no settings.
                let configs: [String: ConfigEntry]
                do {
                    configs = try await admin.describeConfigs(.topic(topic.name))
                } catch KafkaClientError.unsupportedVersion {
                    configs = [:]
                }
                // Sizes come from DescribeLogDirs (each leader's copy); brokers without it show none.
                var sizes: [TopicPartition: Int64] = [:]
                do {
                    for directory in try await admin.describeLogDirs(topics: [topic.name]) {
                        for (partition, size) in directory.partitionSizes where topic.leaders[partition.partition] == directory.brokerId {
                            sizes[partition, default: 0] += size
                        }
                    }
                } catch KafkaClientError.unsupportedVersion {}
                return Described(
                    name: topic.name, id: "\(topic.id)",
                    partitions: partitions.map { Partition(partition: $0.partition, leader: topic.leaders[$0.partition] ?? -1, low: low[$0] ?? -1, high: high[$0] ?? -1, sizeBytes: sizes[$0]) },
                    configs: configs.values.sorted { $0.name < $1.name }.map { Setting(name: $0.name, value: $0.isSensitive ? "(sensitive)" : $0.value, isDefault: $0.isDefault, readOnly: $0.isReadOnly) }
                )
            }
            try output.emit(described) {
                "topic \(described.name) (\(described.partitions.count) partitions, id \(described.id))\n\n"
                    + table(["PARTITION", "LEADER", "LOW", "HIGH", "RECORDS", "SIZE"], described.partitions.map {
                        [String($0.partition), String($0.leader), String($0.low), String($0.high), String(max(0, $0.high - $0.low)),
                         $0.sizeBytes.map(ByteCount.text) ?? "-"]
                    })
                    + "\n" + table(["SETTING", "VALUE", "SOURCE"], described.configs.map { [$0.name, $0.value ?? "null", $0.isDefault ? TerminalStyle.standardOutput.dim("default") : "topic"] })
            }
        }
    }

    struct Delete: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "delete", abstract: "Delete topics.")
        @OptionGroup var client: ClientOptions
        @Argument(help: "The topics.") var topics: [String]

        func run() async throws {
            guard !topics.isEmpty else { throw ValidationError("name at least one topic") }
            try await withAdmin(client) { admin in try await admin.deleteTopics(topics) }
            StandardOutput.emit("deleted \(topics.joined(separator: ", "))\n")
        }
    }

    struct AddPartitions: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "add-partitions", abstract: "Raise a topic's partition count.")
        @OptionGroup var client: ClientOptions
        @Argument(help: "The topic.") var topic: String
        @Option(help: "The new total number of partitions.") var total: Int32

        func run() async throws {
            try await withAdmin(client) { admin in try await admin.createPartitions([topic: total]) }
            StandardOutput.emit("\(topic) now has \(total) partitions\n")
        }
    }

    struct AlterConfig: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "alter-config", abstract: "Set or remove topic settings (by their Kafka names).")
        @OptionGroup var client: ClientOptions
        @Argument(help: "The topic.") var topic: String
        @Option(help: "NAME=VALUE to set (repeatable).") var set: [String] = []
        @Option(help: "NAME to return to its default (repeatable).") var delete: [String] = []

        func run() async throws {
            let changes = try settings(set).sorted { $0.key < $1.key }.map { ConfigChange.set($0.key, $0.value) } + delete.map { ConfigChange.delete($0) }
            guard !changes.isEmpty else { throw ValidationError("give --set NAME=VALUE or --delete NAME") }
            try await withAdmin(client) { admin in try await admin.incrementalAlterConfigs(.topic(topic), changes) }
            StandardOutput.emit("altered \(changes.count) setting(s) of \(topic)\n")
        }
    }
}

/// NAME=VALUE pairs from the command line.
func settings(_ pairs: [String]) throws -> [String: String] {
    var result: [String: String] = [:]
    for pair in pairs {
        guard let equals = pair.firstIndex(of: "="), equals != pair.startIndex else { throw ValidationError("expected NAME=VALUE, got \(pair)") }
        result[String(pair[..<equals])] = String(pair[pair.index(after: equals)...])
    }
    return result
}

/// Runs `body` with an admin client for `options`' brokers, closing it afterwards.
func withAdmin<T: Sendable>(_ options: ClientOptions, _ body: (KafkaAdmin) async throws -> T) async throws -> T {
    var config = try options.clientConfig()
    config.clientId = "creek-cli"
    let admin = KafkaAdmin(config: config)
    do {
        let result = try await body(admin)
        await admin.close()
        return result
    } catch {
        await admin.close()
        throw error
    }
}
