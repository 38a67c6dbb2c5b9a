import ArgumentParser
import CreekBroker

/// `creek bench startup`: starts and stops an embedded broker (`BrokerRuntime.embedded`, a
/// fresh temporary data directory each time) RUNS times and prints the start-to-serving
/// times: from the call until the listener accepts connections.
struct StartupBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "startup", abstract: "Embedded broker start-to-serving time.")

    @Option(help: "How many starts.") var runs = 20

    func run() async throws {
        var milliseconds: [Double] = []
        for _ in 0..<max(1, runs) {
            let started = ContinuousClock.now
            let broker = try await BrokerRuntime.embedded()
            let elapsed = (ContinuousClock.now - started).components
            milliseconds.append(Double(elapsed.seconds) * 1000 + Double(elapsed.attoseconds) / 1e15)
            try await broker.shutdown()
        }
        milliseconds.sort()
        let median = milliseconds[milliseconds.count / 2]
        let worst = milliseconds[milliseconds.count - 1]
        print("runs=\(milliseconds.count) min_ms=\(String(format3: milliseconds.first ?? 0)) median_ms=\(String(format3: median)) max_ms=\(String(format3: worst))")
    }
}
