import KafkaProtocol
public import NIOCore
import NIOPosix

/// The TCP listener: each accepted connection within the connection limits gets a frame
/// assembler bounded by `socket.request.max.bytes` and a `ConnectionHandler`.
public final class KafkaServer: Sendable {
    private let channel: any Channel
    private let connections: ConnectionRegistry

    /// The address actually bound (port 0 picks a free one).
    public var localAddress: SocketAddress? { channel.localAddress }

    public static func start(broker: Broker, group: any EventLoopGroup) async throws -> KafkaServer {
        let maxFrame = broker.config.socketRequestMaxBytes
        let maxInFlight = broker.config.queuedMaxRequests
        let maxInFlightBytes = broker.config.queuedMaxRequestBytes
        let connections = ConnectionRegistry(
            maxTotal: broker.config.maxConnections, maxPerAddress: broker.config.maxConnectionsPerIp, logger: broker.logger
        )
        let channel = try await ServerBootstrap(group: group)
            .serverChannelOption(.backlog, value: 256)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
            .childChannelOption(.maxMessagesPerRead, value: 16)
            // Produce requests are often ~1 MiB: reading up to that in one system call (the
            // allocator adapts back down for quiet connections) means fewer reads, and more
            // frames arrive whole in one read, which the frame assembler passes on uncopied.
            .childChannelOption(.recvAllocator, value: AdaptiveRecvByteBufferAllocator(minimum: 1024, initial: 16384, maximum: 1 << 20))
            .childChannelInitializer { channel in
                if connections.admit(channel) != nil {
                    return channel.close()
                }
                return channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(KafkaFrameAssembler(maximumFrameLength: maxFrame))
                    try channel.pipeline.syncOperations.addHandler(ConnectionHandler(broker: broker, maxInFlight: maxInFlight, maxInFlightBytes: maxInFlightBytes))
                }
            }
            .bind(host: broker.config.listenHost, port: broker.config.listenPort)
            .get()
        return KafkaServer(channel: channel, connections: connections)
    }

    private init(channel: any Channel, connections: ConnectionRegistry) {
        self.channel = channel
        self.connections = connections
    }

    /// Closes every client connection (at shutdown, after in-flight requests finished).
    public func closeConnections() async {
        await connections.closeAll()
    }

    /// Stops accepting connections.
    public func stopAccepting() async {
        try? await channel.close()
    }
}
