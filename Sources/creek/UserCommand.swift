import ArgumentParser
import CreekBroker
import CreekClient
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// `creek user …`: SCRAM users through DescribeUserScramCredentials and
/// AlterUserScramCredentials. The password is read from standard input and salted here; the
/// broker receives only the salted password (as with Kafka's kafka-configs.sh).
struct UserCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "user",
        abstract: "List, set and delete SCRAM users (SASL logins).",
        subcommands: [List.self, Set.self, Delete.self]
    )

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "list", abstract: "Every SCRAM user with its mechanisms and iterations.")
        @OptionGroup var client: ClientOptions
        @OptionGroup var output: OutputOption

        struct Listed: Encodable { var user: String; var mechanism: String; var iterations: Int32 }

        func run() async throws {
            let users = try await withAdmin(client) { admin in try await admin.describeUserScramCredentials() }
            let listed = users.keys.sorted().flatMap { user in
                (users[user] ?? []).map { Listed(user: user, mechanism: ScramMechanism(wireValue: $0.mechanism)?.rawValue ?? "\($0.mechanism)", iterations: $0.iterations) }
            }
            try output.emit(listed) { table(["USER", "MECHANISM", "ITERATIONS"], listed.map { [$0.user, $0.mechanism, String($0.iterations)] }) }
        }
    }

    struct Set: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "set", abstract: "Create a user or change its password (read from standard input).")
        @OptionGroup var client: ClientOptions
        @Argument(help: "The user name.") var user: String
        @Option(help: "SCRAM-SHA-256 or SCRAM-SHA-512.") var mechanism = "SCRAM-SHA-256"
        @Option(help: "PBKDF2 iterations, 4096-16384.") var iterations: Int32 = 8192

        func run() async throws {
            guard let scram = ScramMechanism(rawValue: mechanism.uppercased()) else {
                throw ValidationError("--mechanism must be SCRAM-SHA-256 or SCRAM-SHA-512")
            }
            guard ScramMechanism.iterations.contains(iterations) else { throw ValidationError("--iterations must be 4096-16384") }
            guard let password = readLine(strippingNewline: true), !password.isEmpty else {
                throw ValidationError("give the password on standard input (echo … | creek user set \(user))")
            }
            var generator = SystemRandomNumberGenerator()
            let salt = (0..<24).map { _ in UInt8.random(in: 0...255, using: &generator) }
            let salted = scram.saltedPassword(Array(password.utf8), salt: salt, iterations: iterations)
            try await withAdmin(client) { admin in
                try await admin.alterUserScramCredential(user: user, mechanism: scram.wireValue, iterations: iterations, salt: salt, saltedPassword: salted)
            }
            StandardOutput.emit("set \(scram.rawValue) credential of \(user)\n")
        }
    }

    struct Delete: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "delete", abstract: "Delete a user's credential for a mechanism.")
        @OptionGroup var client: ClientOptions
        @Argument(help: "The user name.") var user: String
        @Option(help: "SCRAM-SHA-256 or SCRAM-SHA-512.") var mechanism = "SCRAM-SHA-256"

        func run() async throws {
            guard let scram = ScramMechanism(rawValue: mechanism.uppercased()) else {
                throw ValidationError("--mechanism must be SCRAM-SHA-256 or SCRAM-SHA-512")
            }
            try await withAdmin(client) { admin in
                try await admin.alterUserScramCredential(user: user, mechanism: scram.wireValue, saltedPassword: nil)
            }
            StandardOutput.emit("deleted \(scram.rawValue) credential of \(user)\n")
        }
    }
}
