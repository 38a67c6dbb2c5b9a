import ArgumentParser

/// The `creek` command line: `serve` runs the broker; `produce` and `consume` are clients
/// (the Swift client, against any Kafka-compatible broker); `bench` prints benchmark figures.
@main
struct Creek: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "creek",
        abstract: "An event-streaming broker that speaks the Kafka protocol.",
        subcommands: [ServeCommand.self, ProduceCommand.self, ConsumeCommand.self, BenchCommand.self]
    )
}
