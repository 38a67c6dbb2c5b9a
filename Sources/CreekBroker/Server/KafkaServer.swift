import KafkaProtocol
public import NIOCore
import NIOPosix
import NIOSSL
import UnixSignals

/// The TCP listeners (one per configured listener): each accepted connection within the
/// connection limits (shared by all listeners) gets a frame assembler bounded by
/// `socket.request.max.bytes` and a `ConnectionHandler` that knows its listener's name.
public final class KafkaServer: Sendable {
    private let channels: [(listener: String, channel: any Channel)]
    private let connections: ConnectionRegistry
    /// The TLS context of the SSL listeners (nil when there are none).
    private let tls: TLSContextProvider?

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
        let config = broker.config
        let tls = try config.listeners.contains { config.securityProtocol(of: $0)?.usesTLS == true }
            ? TLSContextProvider(settings: config.tls, logger: broker.logger) : nil
        var channels: [(listener: String, channel: any Channel)] = []
        for listener in config.listeners {
            do {
                let secured = config.securityProtocol(of: listener)?.usesTLS == true ? tls : nil
                channels.append((listener.name, try await bind(listener, tls: secured, broker: broker, group: group, connections: connections)))
            } catch {
                for bound in channels { try? await bound.channel.close() }
                throw error
            }
        }
        return KafkaServer(channels: channels, connections: connections, tls: tls)
    }

    private static func bind(_ listener: Listener, tls: TLSContextProvider?, broker: Broker, group: any EventLoopGroup, connections: ConnectionRegistry) async throws -> any Channel {
        let maxFrame = broker.config.socketRequestMaxBytes
        let maxInFlight = broker.config.queuedMaxRequests
        let maxInFlightBytes = broker.config.queuedMaxRequestBytes
        return try await ServerBootstrap(group: group)
            .serverChannelOption(.backlog, value: 256)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
            .childChannelOption(.maxMessagesPerRead, value: 16)
            // Produce requests are often ~1 MiB. Reads of up to 4 MiB (the allocator only
            // grows for a connection whose reads fill its buffer, and adapts back down) mean
            // most such frames arrive whole inside one read, which the frame assembler passes
            // on uncopied; with 1 MiB reads nearly every one straddled two reads and was
            // copied (callgrind, 100 B records: 238 instructions per record produced, not 300).
            // The cost: a connection that once read 4 MiB keeps that buffer while it is open.
            .childChannelOption(.recvAllocator, value: AdaptiveRecvByteBufferAllocator(minimum: 1024, initial: 16384, maximum: 4 << 20))
            .childChannelInitializer { channel in
                if connections.admit(channel) != nil {
                    return channel.close()
                }
                return channel.eventLoop.makeCompletedFuture {
                    // Each connection takes the context current when it arrives (reloads
                    // leave open connections alone).
                    if let tls { try channel.pipeline.syncOperations.addHandler(NIOSSLServerHandler(context: tls.current)) }
                    try channel.pipeline.syncOperations.addHandler(KafkaFrameAssembler(maximumFrameLength: maxFrame))
                    try channel.pipeline.syncOperations.addHandler(ConnectionHandler(
                        broker: broker, listener: listener.name, maxInFlight: maxInFlight, maxInFlightBytes: maxInFlightBytes
                    ))
                }
            }
            .bind(host: listener.host, port: listener.port)
            .get()
    }

    private init(channels: [(listener: String, channel: any Channel)], connections: ConnectionRegistry, tls: TLSContextProvider?) {
        self.channels = channels
        self.connections = connections
        self.tls = tls
    }

    /// Reloads the TLS certificates on SIGHUP and when their files change (checked every
    /// 5 s), until cancelled. Returns at once without SSL listeners.
    func watchCertificates() async {
        guard let tls else { return }
        await withDiscardingTaskGroup { group in
            group.addTask {
                for await _ in await UnixSignalsSequence(trapping: .sighup) { tls.reload(reason: "SIGHUP") }
            }
            group.addTask {
                while !Task.isCancelled {
                    try? await Task.sleep(for: .seconds(5))
                    tls.reloadIfFilesChanged()
                }
            }
        }
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
