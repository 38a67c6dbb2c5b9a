import ArgumentParser
import CreekClient
import KafkaProtocol

/// `creek cluster info`: the cluster id, controller, brokers (with how many partitions each
/// leads — in a cluster over PostgreSQL leadership is spread over the live brokers), and the
/// versions served per API.
struct ClusterCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cluster",
        abstract: "What the cluster is made of.",
        subcommands: [Info.self]
    )

    struct Info: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "info", abstract: "Cluster id, controller, brokers and the API versions each serves.")
        @OptionGroup var client: ClientOptions
        @OptionGroup var output: OutputOption

        struct Broker: Encodable { var id: Int32; var host: String; var port: Int; var controller: Bool; var leaderOf: Int }
        struct Versions: Encodable { var api: String; var key: Int16; var min: Int16; var max: Int16 }
        struct Described: Encodable { var clusterId: String?; var controller: Int32; var brokers: [Broker]; var apis: [Versions] }

        func run() async throws {
            let described = try await withAdmin(client) { admin -> Described in
                let cluster = try await admin.describeCluster()
                let versions = try await admin.apiVersions()
                let topics = try await admin.describeTopics(try await admin.listTopics(includeInternal: true))
                var led: [Int32: Int] = [:]
                for topic in topics.values {
                    for leader in topic.leaders.values { led[leader, default: 0] += 1 }
                }
                return Described(
                    clusterId: cluster.clusterId, controller: cluster.controllerId,
                    brokers: cluster.brokers.map {
                        Broker(id: $0.nodeId, host: $0.host, port: $0.port, controller: $0.nodeId == cluster.controllerId, leaderOf: led[$0.nodeId] ?? 0)
                    },
                    apis: versions.sorted { $0.key.rawValue < $1.key.rawValue }.map {
                        Versions(api: "\($0.key)", key: $0.key.rawValue, min: $0.value.lowerBound, max: $0.value.upperBound)
                    }
                )
            }
            try output.emit(described) {
                "cluster \(described.clusterId ?? "(no id)"), controller \(described.controller)\n\n"
                    + table(["BROKER", "HOST", "PORT", "LEADS", ""], described.brokers.map {
                        [String($0.id), $0.host, String($0.port), "\($0.leaderOf) partitions", $0.controller ? "controller" : ""]
                    })
                    + "\n" + table(["API", "KEY", "VERSIONS"], described.apis.map { [$0.api, String($0.key), "\($0.min)–\($0.max)"] })
            }
        }
    }
}
