public import Logging

extension BrokerRuntime {
    /// A broker for a test or an app that embeds Creek: listening on 127.0.0.1 on a free
    /// port, with a fresh temporary data directory removed at `shutdown()` — unless
    /// `settings` (Kafka names, e.g. `num.partitions`, `listeners`, `log.dirs`) say
    /// otherwise. Groups rebalance at once (`group.initial.rebalance.delay.ms` 0) unless
    /// set. Returns once the broker accepts connections; `bootstrap` is its address.
    public static func embedded(
        _ settings: [String: String] = [:], logger: Logger? = nil, threads: Int = 2
    ) async throws -> BrokerRuntime {
        var config = BrokerConfig()
        config.listenPort = 0
        config.groupInitialRebalanceDelayMs = 0
        // No admin HTTP listener for an embedded broker (`start` with a config has one).
        config.http.host = nil
        for (name, value) in settings.sorted(by: { $0.key < $1.key }) { try config.apply(name: name, value: value) }
        let ownDirectory = settings["log.dirs"] != nil || settings["log.dir"] != nil
        var quiet = Logger(label: "creek.embedded")
        quiet.logLevel = .warning
        return try await start(config: config, logger: logger ?? quiet, temporaryData: !ownDirectory, threads: threads)
    }
}
