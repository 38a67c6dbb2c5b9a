import CreekStorage
import KafkaProtocol
import NIOCore
import NIOHTTP1

/// The JSON API under `/api/` that the console uses and scripts may use:
///
///     GET    /api/cluster                      version, uptime, disk, totals, counts
///     GET    /api/topics                       topics with partitions, size, records, retention, rates
///     GET    /api/topics/NAME                  partitions (offsets, size, segments), configs
///     GET    /api/topics/NAME/messages         ?partition=&offset=|timestamp=&limit=&key=
///     GET    /api/groups                       groups with state, members, lag
///     GET    /api/groups/ID                    members and assignments, offsets and lag
///     GET    /api/history                      throughput and lag samples (2 s apart)
///     POST   /api/topics                       {"name", "partitions", "configs"}   (--http-admin)
///     DELETE /api/topics/NAME                                                        (--http-admin)
///     POST   /api/groups/ID/reset-offsets      {"topic", "to": "earliest"|"latest"|OFFSET} (--http-admin)
struct ConsoleAPI: Sendable {
    let broker: Broker
    let history: ThroughputHistory

    init(broker: Broker) {
        self.broker = broker
        history = ThroughputHistory()
    }

    func respond(to request: AdminRequest) async -> HTTPReply {
        let path = Array(request.segments.dropFirst())
        let reading = request.method == .GET || request.method == .HEAD
        if !reading && !broker.config.http.actionsEnabled {
            return .error(.forbidden, "the console is read-only; start creek serve with --http-admin to allow changes")
        }
        switch (request.method, path.count, path.first) {
        case (.GET, 1, "cluster"): return .json(await cluster())
        case (.GET, 1, "topics"): return .json(await topics())
        case (.GET, 2, "topics"): return await topic(named: path[1]).map { .json($0) } ?? unknownTopic(path[1])
        case (.GET, 3, "topics") where path[2] == "messages": return await messages(topic: path[1], query: request.query)
        case (.GET, 1, "groups"): return .json(await groups())
        case (.GET, 2, "groups"): return await group(path[1]).map { .json($0) } ?? .error(.notFound, "no group \(path[1])")
        case (.GET, 1, "history"): return .json(history.samples())
        case (.POST, 1, "topics"): return await createTopic(request.body)
        case (.DELETE, 2, "topics"): return await deleteTopic(path[1])
        case (.POST, 3, "groups") where path[2] == "reset-offsets": return await resetOffsets(group: path[1], request.body)
        default: return .error(reading ? .notFound : .methodNotAllowed, "\(request.method) \(request.path) is not part of the API")
        }
    }

    func unknownTopic(_ name: String) -> HTTPReply { .error(.notFound, "no topic \(name)") }

    // MARK: - Cluster

    struct Cluster: Encodable {
        var clusterId: String
        var nodeId: Int32
        var version: String
        var kafkaListener: String
        var uptimeSeconds: Double
        var dataDirectory: String
        var diskTotalBytes: Int64?
        var diskUsableBytes: Int64?
        var topics: Int
        var partitions: Int
        var groups: Int
        var sizeBytes: Int64
        var recordsIn: Int64
        var recordsOut: Int64
        var bytesIn: Int64
        var bytesOut: Int64
        var readOnly: Bool
        var engine: String
        var brokers: [Member]
    }

    /// A live broker of the cluster (this one alone on the local engine).
    struct Member: Encodable {
        var id: Int32
        var address: String
        var partitionsLed: Int
        /// Milliseconds left on its lease when this broker last renewed (nil: no cluster).
        var leaseRemainingMs: Int64?
    }

    private func members(of topics: [Topic]) -> [Member] {
        var led: [Int32: Int] = [:]
        for topic in topics where !topic.isInternal {
            for index in topic.partitions.indices { led[broker.leader(of: topic, partition: Int32(index)), default: 0] += 1 }
        }
        let leases = broker.topics.engine.cluster?.leaseRemaining() ?? [:]
        return broker.clusterNodes(for: broker.config.listeners[0].name).map { node in
            Member(id: node.id, address: "\(node.host):\(node.port)", partitionsLed: led[node.id] ?? 0,
                   leaseRemainingMs: leases[node.id].map { $0.components.seconds * 1000 + $0.components.attoseconds / 1_000_000_000_000_000 })
        }
    }

    private func cluster() async -> Cluster {
        let space = VolumeSpace.of(path: broker.config.dataDirectory)
        let totals = broker.metrics.totals()
        var size: Int64 = 0
        var partitions = 0
        // Counts are of the users' topics; the size on disk is of everything.
        let all = broker.topics.allTopics()
        for topic in all {
            for partition in topic.partitions { size += Int64(await partition.sizeInBytes) }
            if !topic.isInternal { partitions += topic.partitions.count }
        }
        let node = broker.node
        return Cluster(
            clusterId: broker.topics.clusterId, nodeId: node.id, version: CreekVersion.current, kafkaListener: "\(node.host):\(node.port)",
            uptimeSeconds: broker.uptimeSeconds, dataDirectory: VolumeSpace.absolutePath(broker.config.dataDirectory),
            diskTotalBytes: space?.total, diskUsableBytes: space?.usable, topics: all.filter { !$0.isInternal }.count, partitions: partitions,
            groups: await broker.groups.allGroups().count, sizeBytes: size,
            recordsIn: totals.values.reduce(0) { $0 + $1.recordsIn }, recordsOut: totals.values.reduce(0) { $0 + $1.recordsOut },
            bytesIn: totals.values.reduce(0) { $0 + $1.bytesIn }, bytesOut: totals.values.reduce(0) { $0 + $1.bytesOut },
            readOnly: !broker.config.http.actionsEnabled, engine: broker.topics.engine.name, brokers: members(of: all)
        )
    }
}
