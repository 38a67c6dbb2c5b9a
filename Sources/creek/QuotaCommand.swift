import ArgumentParser
import CreekClient

/// `creek quota …`: client quotas through DescribeClientQuotas and AlterClientQuotas (what
/// `kafka-configs.sh --entity-type users/clients` does).
struct QuotaCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "quota",
        abstract: "List and set client quotas (producer_byte_rate, consumer_byte_rate, …) by user and client id.",
        subcommands: [List.self, Set.self]
    )

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "list", abstract: "Every quota entity and its values.")
        @OptionGroup var client: ClientOptions
        @OptionGroup var output: OutputOption

        struct Listed: Encodable { var user: String?; var clientId: String?; var key: String; var value: Double }

        func run() async throws {
            let quotas = try await withAdmin(client) { admin in try await admin.describeClientQuotas() }
            func name(_ part: String??) -> String? { part.map { $0 ?? "<default>" } }
            let listed = quotas.flatMap { entity, values in
                values.map { Listed(user: name(entity.user), clientId: name(entity.clientId), key: $0.key, value: $0.value) }
            }.sorted { ($0.user ?? "", $0.clientId ?? "", $0.key) < ($1.user ?? "", $1.clientId ?? "", $1.key) }
            try output.emit(listed) {
                table(["USER", "CLIENT-ID", "QUOTA", "VALUE"], listed.map { [$0.user ?? "-", $0.clientId ?? "-", $0.key, String($0.value)] })
            }
        }
    }

    struct Set: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "set", abstract: "Set or remove quota values of a user and/or client id.")
        @OptionGroup var client: ClientOptions
        @Option(help: "The user (the name after User:).") var user: String?
        @Flag(help: "The default user (every user without its own quota).") var defaultUser = false
        @Option(help: "The client id.") var clientId: String?
        @Flag(help: "The default client id.") var defaultClientId = false
        @Option(name: .customLong("set"), help: "KEY=VALUE, e.g. producer_byte_rate=1048576 (repeatable).") var settings: [String] = []
        @Option(help: "A key to remove (repeatable).") var remove: [String] = []

        func run() async throws {
            var entity = QuotaEntity()
            if defaultUser { entity.user = .some(nil) } else if let user { entity.user = .some(user) }
            if defaultClientId { entity.clientId = .some(nil) } else if let clientId { entity.clientId = .some(clientId) }
            guard entity.user != nil || entity.clientId != nil else { throw ValidationError("name --user, --default-user, --client-id or --default-client-id") }
            var values: [String: Double?] = [:]
            for setting in settings {
                let parts = setting.split(separator: "=", maxSplits: 1).map(String.init)
                guard parts.count == 2, let value = Double(parts[1]) else { throw ValidationError("--set takes KEY=NUMBER, not \(setting)") }
                values[parts[0]] = .some(value)
            }
            for key in remove { values[key] = .some(nil) }
            guard !values.isEmpty else { throw ValidationError("give --set KEY=VALUE or --remove KEY") }
            try await withAdmin(client) { admin in try await admin.alterClientQuotas(entity, values) }
            StandardOutput.emit("quotas changed\n")
        }
    }
}
