import KafkaProtocol
public import NIOCore
import NIOPosix

/// The TCP listeners (one per configured listener): each accepted connection within the
/// connection limits (shared by all listeners) gets a frame assembler bounded by
/// `socket.request.max.bytes` and a `ConnectionHandler` that knows its listener's name.
public final class KafkaServer: Sendable {
    private let channels: [(listener: String, channel: any Channel)]
    private let connections: ConnectionRegistry

    /// The first listener's bound address (port 0 picks a free one).
    public var localAddress: SocketAddress? { channels.first?.channel.localAddress }

    /// Each listener's bound address, by listener name.
    public var addresses: [String: SocketAddress] {
        Dictionary(channels.compactMap { entry in entry.channel.localAddress.map { (entry.listener, $0) } }, uniquingKeysWith: { first, _ in first })
    }

    public static func start(broker: Broker, group: any EventLoopGroup) async throws -> KafkaServer {
        let connections = ConnectionRegistry(
            maxTotal: broker.config.maxConnections, maxPerAddress: broker.config.maxConnectionsPerIp, logger: broker.logger
        )
        var channels: [(listener: String, channel: any Channel)] = []
        for listener in broker.config.listeners {
            do {
                channels.append((listener.name, try await bind(listener, broker: broker, group: group, connections: connections)))
            } catch {
                for bound in channels { try? await bound.channel.close() }
                throw error
            }
        }
        return KafkaServer(channels: channels, connections: connections)
    }

    private static func bind(_ listener: Listener, broker: Broker, group: any EventLoopGroup, connections: ConnectionRegistry) async throws -> any Channel {
        let maxFrame = broker.config.socketRequestMaxBytes
        let maxInFlight = broker.config.queuedMaxRequests
        let maxInFlightBytes = broker.config.queuedMaxRequestBytes
        return try await ServerBootstrap(group: group)
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
                    try channel.pipeline.syncOperations.addHandler(ConnectionHandler(
                        broker: broker, listener: listener.name, maxInFlight: maxInFlight, maxInFlightBytes: maxInFlightBytes
                    ))
                }
            }
            .bind(host: listener.host, port: listener.port)
            .get()
    }

    private init(channels: [(listener: String, channel: any Channel)], connections: ConnectionRegistry) {
        self.channels = channels
        self.connections = connections
    }

    /// Closes every client connection (at shutdown, after in-flight requests finished).
    public func closeConnections() async {
        await connections.closeAll()
    }

    /// Stops accepting connections.
    public func stopAccepting() async {
        for entry in channels { try? await entry.channel.close() }
    }
}
