import Logging
public import NIOCore
import NIOHTTP1
import NIOPosix
public import ServiceLifecycle

/// The admin HTTP/1.1 listener (NIO's own HTTP codec under `NIOAsyncChannel`): each
/// connection's requests are read whole (bodies up to 1 MiB), answered by `AdminRoutes` in
/// order, and kept alive as the client asks. Runs as a `Service`; graceful shutdown stops
/// accepting and ends open connections.
public final class AdminHTTPServer: Service, Sendable, CustomStringConvertible {
    /// How service-lifecycle names it in its logs (a description also spares the runtime a
    /// reflective look at the type on every start).
    public var description: String { "admin HTTP listener" }

    typealias Connection = NIOAsyncChannel<HTTPServerRequestPart, HTTPServerResponsePart>

    private let server: NIOAsyncChannel<Connection, Never>
    private let routes: AdminRoutes
    private let logger: Logger
    static let maxBodyBytes = 1 << 20

    /// The address bound (port 0 picks a free one).
    public let address: SocketAddress

    /// Binds `host:port`; throws when the address cannot be bound.
    static func bind(host: String, port: Int, routes: AdminRoutes, group: any EventLoopGroup, logger: Logger) async throws -> AdminHTTPServer {
        let server = try await ServerBootstrap(group: group)
            .serverChannelOption(.backlog, value: 64)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .bind(host: host, port: port) { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.configureHTTPServerPipeline(withErrorHandling: true)
                    return try Connection(wrappingChannelSynchronously: channel)
                }
            }
        guard let address = server.channel.localAddress else { throw ChannelError.inappropriateOperationForState }
        return AdminHTTPServer(server: server, address: address, routes: routes, logger: logger)
    }

    private init(server: NIOAsyncChannel<Connection, Never>, address: SocketAddress, routes: AdminRoutes, logger: Logger) {
        self.server = server
        self.address = address
        self.routes = routes
        self.logger = logger
    }

    public func run() async throws {
        do {
            try await serveUntilShutdown()
        } catch is CancellationError {
            // Graceful shutdown cancels the accept loop: a normal end.
        }
    }

    private func serveUntilShutdown() async throws {
        try await cancelWhenGracefulShutdown {
            try await self.server.executeThenClose { inbound in
                try await withThrowingDiscardingTaskGroup { group in
                    group.addTask { await self.routes.api.history.run(self.routes.broker) }
                    for try await connection in inbound {
                        group.addTask { await self.serve(connection) }
                    }
                }
            }
        }
    }

    private func serve(_ connection: Connection) async {
        do {
            try await connection.executeThenClose { inbound, outbound in
                var head: HTTPRequestHead?
                var body = ByteBuffer()
                for try await part in inbound {
                    switch part {
                    case .head(let started):
                        head = started
                        body.clear()
                    case .body(var chunk):
                        guard body.readableBytes + chunk.readableBytes <= Self.maxBodyBytes else {
                            try await write(HTTPReply.error(.payloadTooLarge, "request body over 1 MiB"), keepAlive: false, to: outbound)
                            return
                        }
                        body.writeBuffer(&chunk)
                    case .end:
                        guard let request = head else { continue }
                        let reply = await routes.respond(to: AdminRequest(head: request, body: body))
                        try await write(reply, keepAlive: request.isKeepAlive, to: outbound)
                        if !request.isKeepAlive { return }
                        head = nil
                    }
                }
            }
        } catch {
            logger.debug("admin HTTP connection ended", metadata: ["error": "\(error)"])
        }
    }

    private func write(_ reply: HTTPReply, keepAlive: Bool, to outbound: NIOAsyncChannelOutboundWriter<HTTPServerResponsePart>) async throws {
        var headers = HTTPHeaders()
        headers.add(name: "Content-Type", value: reply.contentType)
        headers.add(name: "Content-Length", value: String(reply.body.readableBytes))
        headers.add(name: "Cache-Control", value: "no-store")
        headers.add(name: "Connection", value: keepAlive ? "keep-alive" : "close")
        for (name, value) in reply.headers { headers.add(name: name, value: value) }
        try await outbound.write(.head(HTTPResponseHead(version: .http1_1, status: reply.status, headers: headers)))
        try await outbound.write(.body(.byteBuffer(reply.body)))
        try await outbound.write(.end(nil))
    }
}
