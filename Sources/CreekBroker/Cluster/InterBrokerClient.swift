import CreekClient
public import CreekStorage
import KafkaProtocol
import NIOPosix

/// Requests one broker of a cluster sends another (WriteTxnMarkers), over the Kafka protocol
/// as Kafka brokers do: one connection per node, opened on first use and replaced once it
/// closes, to the address the node registered for `listener`.
/// Invariant: a request goes only to a node the cluster view lists as live.
public actor InterBrokerClient {
    let view: any ClusterView
    let listener: String
    private var connections: [Int32: BrokerConnection] = [:]

    public init(view: any ClusterView, listener: String) {
        self.view = view
        self.listener = listener
    }

    /// Sends `request` to `node` at the highest version in `versions` both serve.
    func send<Request: KafkaRequestMessage>(
        _ request: Request, versions: ClosedRange<Int16>, to node: Int32
    ) async throws -> Request.Response {
        let connection = try await connection(to: node)
        do {
            let version = try connection.version(of: Request.apiKey, supported: versions)
            return try await connection.send(request, version: version, timeout: .seconds(10))
        } catch {
            if connections[node] === connection { connections[node] = nil }
            await connection.close()
            throw error
        }
    }

    private func connection(to node: Int32) async throws -> BrokerConnection {
        if let open = connections[node], open.isActive { return open }
        guard let address = view.liveNodes().first(where: { $0.id == node })?.address(for: listener) else {
            throw StorageError.notLeader(partition: "node \(node) is not live")
        }
        let connection = try await BrokerConnection.connect(
            host: address.host, port: Int(address.port), clientId: "creek-broker-\(view.localNodeId)",
            group: MultiThreadedEventLoopGroup.singleton, timeout: .seconds(5)
        )
        connections[node]?.channelCloseQuietly()
        connections[node] = connection
        return connection
    }

    /// Closes every connection (the broker is stopping).
    public func closeAll() async {
        for connection in connections.values { await connection.close() }
        connections.removeAll()
    }
}

extension BrokerConnection {
    fileprivate func channelCloseQuietly() {
        Task { await self.close() }
    }
}
