import CreekBroker
import Logging

/// A Creek broker started in this process on a free port with a temporary data directory,
/// for the client tests; `settings` are Kafka-named broker settings.
func withEmbeddedBroker<T>(
    _ settings: [String: String] = [:], _ body: (BrokerRuntime) async throws -> T
) async throws -> T {
    var config = BrokerConfig()
    config.listenPort = 0
    config.groupInitialRebalanceDelayMs = 0
    for (name, value) in settings { try config.apply(name: name, value: value) }
    var logger = Logger(label: "embedded-creek")
    logger.logLevel = .warning
    let broker = try await BrokerRuntime.start(config: config, logger: logger, temporaryData: true, threads: 2)
    do {
        let result = try await body(broker)
        try await broker.shutdown()
        return result
    } catch {
        try? await broker.shutdown()
        throw error
    }
}
