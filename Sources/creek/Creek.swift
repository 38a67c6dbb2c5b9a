import ArgumentParser

/// The `creek` command line: `serve` runs the broker; `bench` prints benchmark figures.
@main
struct Creek: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "creek",
        abstract: "An event-streaming broker that speaks the Kafka protocol.",
        subcommands: [ServeCommand.self, BenchCommand.self]
    )
}
