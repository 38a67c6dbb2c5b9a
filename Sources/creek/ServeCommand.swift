import ArgumentParser
import CreekBroker
import CreekStorage
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import Logging
import Metrics
import Prometheus
#if canImport(Glibc)
import Glibc
#endif

/// `creek serve`: runs the broker until SIGINT or SIGTERM.
struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Run the broker (127.0.0.1:9092, data in ./creek-data, by default)."
    )

    @Option(help: "Address to listen on, HOST:PORT (default 127.0.0.1:9092; several listeners: --set listeners=NAME://HOST:PORT,…).")
    var listen: String?

    @Option(help: "Address Metadata reports to clients, HOST:PORT (default: the listen address).")
    var advertise: String?

    @Option(help: "Directory for topics, logs and metadata.")
    var dataDir: String?

    @Option(help: "Where topics are stored: local (the data directory, default) or postgres://USER@HOST:PORT/DATABASE (creek.storage.url).")
    var storage: String?

    @Option(help: "This broker's node id.")
    var nodeId: Int32?

    @Option(help: "Durability: os, acks-all or always (see docs/durability.md).")
    var flush = "acks-all"

    @Option(name: .customLong("set"), help: "A broker setting by its Kafka name, NAME=VALUE (repeatable).")
    var settings: [String] = []

    @Option(help: "A properties file of Kafka-named broker settings.")
    var config: String?

    @Option(help: "Admin HTTP listener (metrics, health, console), HOST:PORT or off (default 127.0.0.1:9644; skipped with a warning if that is taken).")
    var http: String?

    @Flag(help: "Let the web console change things: create and delete topics, reset group offsets.")
    var httpAdmin = false

    @Option(help: "Record metrics: on or off (off measures their cost; /metrics then shows only state read at scrape).")
    var metrics = "on"

    @Option(name: .customLong("add-scram"), help: "A SCRAM user to save at startup, as Kafka's --add-scram: SCRAM-SHA-256=[name=USER,password=PASSWORD] (repeatable).")
    var addScram: [String] = []

    @Option(help: "Log level: trace, debug, info, notice, warning, error, critical.")
    var logLevel = "info"

    func run() async throws {
        let level = Logger.Level(rawValue: logLevel) ?? .info
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = level
            return handler
        }
        let logger = Logger(label: "creek")
        let brokerConfig: BrokerConfig
        do {
            brokerConfig = try makeConfig()
            try brokerConfig.validateListeners()
        } catch {
            StandardError.emit("creek: \(error)\n")
            throw ExitCode(64)
        }
        SecondSignal.install()
        let runtime = try await BrokerRuntime.start(config: brokerConfig, logger: logger, signals: [.sigterm, .sigint])
        let elapsed = runtime.startupDuration.components
        let milliseconds = elapsed.seconds * 1000 + elapsed.attoseconds / 1_000_000_000_000_000
        if runtime.broker.metrics.enabled {
            // Libraries that report through swift-metrics land in the same /metrics.
            MetricsSystem.bootstrap(PrometheusMetricsFactory(registry: runtime.broker.metrics.registry))
        }
        let others = brokerConfig.listeners.dropFirst().map { listener in
            let node = runtime.broker.advertisedNode(for: listener.name)
            return "listener \(listener.name) advertised as \(node.host):\(node.port), "
        }.joined()
        let console = runtime.httpAddress.map { "console http://\($0.ipAddress ?? "?"):\($0.port ?? 0)/, " } ?? ""
        print("creek ready on \(runtime.bootstrap) (\(others)\(console)data \(brokerConfig.storageURL == nil ? brokerConfig.dataDirectory : "in PostgreSQL"), flush \(brokerConfig.flush.rawValue), node \(brokerConfig.nodeId), \(runtime.broker.topics.allTopics().count) topics, started in \(milliseconds) ms)")
        fflush(nil)
        try await runtime.waitUntilStopped()
    }

    private func makeConfig() throws -> BrokerConfig {
        var result = BrokerConfig()
        if let config {
            let text = try String(contentsOfFile: config, encoding: .utf8)
            try result.apply(propertiesFile: text, source: config)
        }
        for setting in settings {
            guard let equals = setting.firstIndex(of: "=") else {
                throw ConfigError(name: setting, value: "", reason: "expected --set NAME=VALUE")
            }
            try result.apply(name: String(setting[..<equals]), value: String(setting[setting.index(after: equals)...]))
        }
        if let listen {
            guard let (host, port) = BrokerConfig.hostPort(listen) else {
                throw ConfigError(name: "--listen", value: listen, reason: "expected HOST:PORT")
            }
            result.listenHost = host
            result.listenPort = port
        }
        if let advertise {
            guard let (host, port) = BrokerConfig.hostPort(advertise) else {
                throw ConfigError(name: "--advertise", value: advertise, reason: "expected HOST:PORT")
            }
            result.advertisedHost = host
            result.advertisedPort = port
        }
        if let dataDir { result.dataDirectory = dataDir }
        if let storage { try result.apply(name: "creek.storage.url", value: storage) }
        result.scramBootstrap = try addScram.map { text throws(ConfigError) in try ScramBootstrap(parsing: text) }
        if let nodeId { result.nodeId = nodeId }
        guard let policy = BrokerConfig.FlushPolicy(rawValue: flush) else {
            throw ConfigError(name: "--flush", value: flush, reason: "must be os, acks-all or always")
        }
        result.flush = policy
        if let http { try result.http.apply(listen: http) }
        result.http.actionsEnabled = httpAdmin
        switch metrics {
        case "on": result.http.metricsEnabled = true
        case "off": result.http.metricsEnabled = false
        default: throw ConfigError(name: "--metrics", value: metrics, reason: "must be on or off")
        }
        return result
    }

}
