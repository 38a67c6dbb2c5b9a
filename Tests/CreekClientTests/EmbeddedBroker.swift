import CreekBroker

/// Runs `body` against a Creek broker started in this process (`BrokerRuntime.embedded`:
/// a free port, a temporary data directory), then shuts it down; `settings` are
/// Kafka-named broker settings.
func withEmbeddedBroker<T>(
    _ settings: [String: String] = [:], _ body: (BrokerRuntime) async throws -> T
) async throws -> T {
    let broker = try await BrokerRuntime.embedded(settings)
    do {
        let result = try await body(broker)
        try await broker.shutdown()
        return result
    } catch {
        try? await broker.shutdown()
        throw error
    }
}
