import NIOCore
import NIOHTTP1

/// What the admin HTTP listener serves, by path:
///
///     GET /metrics           Prometheus text format (MetricsScrape)
///     GET /health/live       200 while the process serves HTTP
///     GET /health/ready      200 once recovery finished and Kafka clients are accepted;
///                            503 while starting, shutting down or with partitions offline
///     GET /                  the web console (ConsoleAssets), GET /console.js, /console.css
///     /api/…                 the console's JSON API (ConsoleAPI); changes only with
///                            `--http-admin` (403 otherwise)
public struct AdminRoutes: Sendable {
    let broker: Broker
    let scrape: MetricsScrape
    let api: ConsoleAPI

    init(broker: Broker) {
        self.broker = broker
        scrape = MetricsScrape(metrics: broker.metrics)
        api = ConsoleAPI(broker: broker)
    }

    func respond(to request: AdminRequest) async -> HTTPReply {
        let segments = request.segments
        if segments.first == "api" { return await api.respond(to: request) }
        guard request.method == .GET || request.method == .HEAD else {
            return .error(.methodNotAllowed, "\(request.method) \(request.path) is not served")
        }
        switch segments {
        case ["metrics"]:
            return .bytes(await scrape.scrape(broker), contentType: "text/plain; version=0.0.4; charset=utf-8")
        case ["health", "live"]:
            return .json(Health(status: "live", reasons: []))
        case ["health", "ready"]:
            let reasons = await readinessProblems()
            return .json(Health(status: reasons.isEmpty ? "ready" : "not ready", reasons: reasons), status: reasons.isEmpty ? .ok : .serviceUnavailable)
        case [], ["index.html"]:
            return .text(ConsoleAssets.page, contentType: "text/html; charset=utf-8")
        case ["console.js"]:
            return .text(ConsoleAssets.script, contentType: "text/javascript; charset=utf-8")
        case ["console.css"]:
            return .text(ConsoleAssets.style, contentType: "text/css; charset=utf-8")
        default:
            return .error(.notFound, "no such page: \(request.path)")
        }
    }

    struct Health: Encodable {
        var status: String
        var reasons: [String]
    }

    /// Why the broker is not ready now (empty when it is).
    func readinessProblems() async -> [String] {
        var reasons: [String] = []
        if !broker.isAcceptingClients { reasons.append("the Kafka listener is not accepting connections yet (recovery running)") }
        if broker.isShuttingDown { reasons.append("shutting down") }
        var offline: [String] = []
        for topic in broker.topics.allTopics() {
            for (index, partition) in topic.partitions.enumerated() where await partition.isOffline {
                offline.append("\(topic.name)-\(index)")
            }
        }
        if !offline.isEmpty {
            reasons.append("partitions offline after a storage failure: " + offline.prefix(10).joined(separator: ", ") + (offline.count > 10 ? " and \(offline.count - 10) more" : ""))
        }
        return reasons
    }
}
