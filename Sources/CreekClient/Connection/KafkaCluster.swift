import KafkaProtocol
import Logging
import NIOCore
import NIOPosix
import NIOSSL

/// The client's view of a cluster: one pipelined connection per broker (opened on first
/// use, reopened after it drops), the latest metadata, and retries with backoff for the
/// retriable errors every caller meets. Shared by a producer, consumer or admin client.
public actor KafkaCluster {
    public nonisolated let config: ClientConfig
    nonisolated let group: MultiThreadedEventLoopGroup
    private var connections: [Int32: BrokerConnection] = [:]
    private var bootstrapConnection: BrokerConnection?
    public private(set) var metadata = ClusterMetadata()
    private var metadataAt: ContinuousClock.Instant?
    /// Topics whose metadata callers asked for (refreshes include them).
    private var interest: Set<String> = []
    private var closed = false

    /// The TLS context of every connection (nil without TLS, or when it could not be made:
    /// then `tlsProblem` says why and connecting fails with it).
    nonisolated let tls: NIOSSLContext?
    nonisolated let tlsProblem: String?

    public init(config: ClientConfig) {
        self.config = config
        group = MultiThreadedEventLoopGroup(numberOfThreads: max(1, config.threads))
        do {
            tls = try config.security.makeTLSContext()
            tlsProblem = nil
        } catch {
            tls = nil
            tlsProblem = "TLS settings: \(error)"
        }
    }

    /// Opens a connection with the cluster's security settings.
    nonisolated func open(host: String, port: Int) async throws -> BrokerConnection {
        if let tlsProblem { throw KafkaClientError.connection(tlsProblem) }
        return try await BrokerConnection.connect(
            host: host, port: port, clientId: config.clientId, group: group, timeout: config.requestTimeout, security: config.security, tls: tls
        )
    }

    /// The connection to `nodeId`, opened when needed.
    public func connection(to nodeId: Int32) async throws -> BrokerConnection {
        if closed { throw KafkaClientError.closed }
        if let existing = connections[nodeId], existing.isActive { return existing }
        if metadata.brokers[nodeId] == nil { try await refreshMetadata() }
        guard let broker = metadata.brokers[nodeId] else {
            throw KafkaClientError.connection("broker \(nodeId) is not in the cluster's metadata")
        }
        let opened = try await open(host: broker.host, port: broker.port)
        if let raced = connections[nodeId], raced.isActive {
            await opened.close()
            return raced
        }
        connections[nodeId] = opened
        return opened
    }

    /// Any live connection: a known broker, else one of the bootstrap servers.
    public func anyConnection() async throws -> BrokerConnection {
        if closed { throw KafkaClientError.closed }
        if let live = connections.values.first(where: \.isActive) { return live }
        if let bootstrapConnection, bootstrapConnection.isActive { return bootstrapConnection }
        var failures: [String] = []
        for server in config.bootstrapServers {
            guard let colon = server.lastIndex(of: ":"), let port = Int(server[server.index(after: colon)...]) else {
                failures.append("\(server): expected host:port")
                continue
            }
            do {
                let connection = try await open(host: String(server[..<colon]), port: port)
                bootstrapConnection = connection
                return connection
            } catch {
                failures.append("\(error)")
            }
        }
        throw KafkaClientError.connection("no bootstrap server reachable: " + failures.joined(separator: "; "))
    }

    /// Metadata for `topics` (nil: every topic), refreshed when older than
    /// `metadataMaxAge`, missing any of them, or when `force`.
    public func metadata(for topics: [String]?, force: Bool = false) async throws -> ClusterMetadata {
        if let topics { interest.formUnion(topics) }
        let stale = metadataAt.map { ContinuousClock.now - $0 > config.metadataMaxAge } ?? true
        let missing = topics.map { $0.contains { metadata.topics[$0] == nil } } ?? true
        if force || stale || missing { try await refreshMetadata(all: topics == nil) }
        return metadata
    }

    /// Asks a broker for fresh metadata (the topics of interest, or all).
    public func refreshMetadata(all: Bool = false) async throws {
        let connection = try await anyConnection()
        let version = try connection.version(of: .metadata, supported: 1...12)
        var request = MetadataRequest()
        request.allowAutoTopicCreation = config.allowAutoTopicCreation
        request.topics = all || interest.isEmpty ? nil : interest.sorted().map { MetadataRequest.MetadataRequestTopic(topicId: .zero, name: $0) }
        let response = try await connection.send(request, version: version, timeout: config.requestTimeout)
        var fresh = ClusterMetadata(response)
        if !all {
            // Keep what other callers learned about topics this request did not ask for.
            for (name, topic) in metadata.topics where fresh.topics[name] == nil && !interest.contains(name) { fresh.topics[name] = topic }
        }
        metadata = fresh
        metadataAt = .now
    }

    /// The leader of `topic`'s `partition`, refreshing metadata once when unknown.
    public func leader(of topic: String, partition: Int32) async throws -> Int32 {
        for attempt in 0..<2 {
            let known = try await metadata(for: [topic], force: attempt > 0)
            if let info = known.topics[topic] {
                if let error = info.error, attempt > 0 { throw KafkaClientError.broker(error, message: nil, context: "metadata of \(topic)") }
                if let leader = info.leaders[partition], leader >= 0 { return leader }
                if info.error == nil && Int(partition) >= info.partitionCount && attempt > 0 {
                    throw KafkaClientError.invalidArgument("\(topic) has \(info.partitionCount) partitions, not \(partition + 1)")
                }
            }
        }
        throw KafkaClientError.broker(.leaderNotAvailable, message: nil, context: "\(topic)-\(partition)")
    }

    /// Runs `body` until it succeeds, retrying retriable errors with exponential backoff
    /// (refreshing metadata in between) until `deliveryTimeout` has passed.
    public func retrying<T: Sendable>(_ what: String, _ body: () async throws -> T) async throws -> T {
        let deadline = ContinuousClock.now + config.deliveryTimeout
        var backoff = config.retryBackoff
        while true {
            do {
                return try await body()
            } catch let error as KafkaClientError where error.isRetriable && ContinuousClock.now + backoff < deadline && !closed {
                try await Task.sleep(for: backoff)
                backoff = min(backoff * 2, config.retryBackoffMax)
                try? await refreshMetadata()
            }
        }
    }

    /// Closes every connection and the event loops.
    public func close() async {
        closed = true
        for connection in connections.values { await connection.close() }
        await bootstrapConnection?.close()
        connections.removeAll()
        try? await group.shutdownGracefully()
    }
}
