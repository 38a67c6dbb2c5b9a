import ArgumentParser
import CreekBroker
import CreekClient

/// The `creek` command line: `serve` runs the broker; `topic`, `cluster`, `produce` and
/// `consume` are clients (the Swift client, against any Kafka-compatible broker); `bench`
/// prints benchmark figures. Exit codes scripts can rely on: 0 ok, 1 an error from the
/// broker or the connection, 2 a usage error.
@main
struct Creek: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "creek",
        abstract: "An event-streaming broker that speaks the Kafka protocol.",
        version: CreekVersion.current,
        subcommands: [ServeCommand.self, TopicCommand.self, GroupCommand.self, ClusterCommand.self, UserCommand.self, AclCommand.self, QuotaCommand.self, ProduceCommand.self, ConsumeCommand.self, BenchCommand.self]
    )

    /// "error: ", red when standard error is a terminal.
    private static var errorLabel: String { TerminalStyle.standardError.red("error: ") }

    static func main() async {
        do {
            var command = try parseAsRoot()
            if var asyncCommand = command as? any AsyncParsableCommand {
                try await asyncCommand.run()
            } else {
                try command.run()
            }
        } catch let error as KafkaClientError {
            StandardError.emit("creek: \(errorLabel)\(error)\n" + (ErrorAdvice.advice(for: error).map { "creek: \($0)\n" } ?? ""))
            Self.exit(withError: ExitCode(1))
        } catch let failure as CommandFailure {
            StandardError.emit("creek: \(errorLabel)\(failure)\n")
            Self.exit(withError: ExitCode(1))
        } catch {
            if exitCode(for: error) == .validationFailure {
                let message = message(for: error)
                // An ExitCode thrown after its own message has nothing more to say.
                if !message.isEmpty { StandardError.emit("creek: \(errorLabel)\(message)\n") }
                Self.exit(withError: ExitCode(2))
            }
            exit(withError: error)
        }
    }
}
