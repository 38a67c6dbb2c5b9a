import ArgumentParser

@main
struct Creek: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "creek",
        abstract: "An event-streaming broker that speaks the Kafka protocol.",
        subcommands: []
    )
}
