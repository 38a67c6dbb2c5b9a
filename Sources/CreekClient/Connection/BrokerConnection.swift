public import KafkaProtocol
import NIOConcurrencyHelpers
public import NIOCore
import NIOPosix
public import NIOSSL

/// One TCP connection to one broker, pipelined: any number of requests may be in flight,
/// each answered through its own continuation. On connect it negotiates API versions
/// (ApiVersions); `version(of:supported:)` then picks the highest both sides serve.
/// Thread-safe: requests may be sent from any task; frames are written in call order.
public final class BrokerConnection: Sendable {
    public let host: String
    public let port: Int
    let channel: any Channel
    private let correlation = NIOLockedValueBox<Int32>(0)
    private let clientId: String
    /// The broker's version range per API key.
    let brokerVersions: [ApiKey: ClosedRange<Int16>]

    /// Connects and negotiates versions; fails with `.connection` or `.timeout`.
    public static func connect(
        host: String, port: Int, clientId: String, group: any EventLoopGroup, timeout: Duration = .seconds(10),
        security: ClientSecurity = ClientSecurity(), tls: NIOSSLContext? = nil
    ) async throws -> BrokerConnection {
        let channel: any Channel
        do {
            channel = try await ClientBootstrap(group: group)
                .connectTimeout(.milliseconds(Int64(timeout.components.seconds * 1000 + timeout.components.attoseconds / 1_000_000_000_000_000)))
                .channelOption(.socketOption(.tcp_nodelay), value: 1)
                // Reads up to 4 MiB at once: a Fetch response that arrives whole in one read
                // is passed on as a slice of it, with no copy (KafkaFrameAssembler).
                .channelOption(.recvAllocator, value: AdaptiveRecvByteBufferAllocator(minimum: 1024, initial: 64 << 10, maximum: 4 << 20))
                .channelInitializer { channel in
                    channel.eventLoop.makeCompletedFuture {
                        if let tls {
                            // An IP address is not a server name (SNI); its certificate must name it in a SAN.
                            let isAddress = host.contains(":") || host.allSatisfy { $0.isNumber || $0 == "." }
                            try channel.pipeline.syncOperations.addHandler(NIOSSLClientHandler(context: tls, serverHostname: isAddress ? nil : host))
                        }
                        try channel.pipeline.syncOperations.addHandler(KafkaFrameAssembler(maximumFrameLength: Int(Int32.max)))
                        try channel.pipeline.syncOperations.addHandler(ResponseMatcher())
                    }
                }
                .connect(host: host, port: port)
                .get()
        } catch {
            throw KafkaClientError.connection("\(host):\(port): \(error)")
        }
        let probe = BrokerConnection(host: host, port: port, channel: channel, clientId: clientId, versions: [:])
        // v3 is flexible and tells the broker our name; a broker that lacks it answers with
        // its own range in a v0 body (KIP-511), which `send` decodes.
        var versions: [ApiKey: ClosedRange<Int16>] = [:]
        // Some brokers answer an unsupported version in a body of their own making instead
        // (librdkafka's mock cluster: a compact array with a wrong length); v0 is then asked
        // for, as librdkafka itself does.
        var answer: ApiVersionsResponse
        do {
            answer = try await probe.send(ApiVersionsRequest(clientSoftwareName: "creek-swift", clientSoftwareVersion: "0.1"), version: 3, timeout: timeout)
        } catch KafkaClientError.malformedResponse {
            answer = ApiVersionsResponse()
            answer.errorCode = KafkaErrorCode.unsupportedVersion.rawValue
        }
        if answer.errorCode == KafkaErrorCode.unsupportedVersion.rawValue {
            answer = try await probe.send(ApiVersionsRequest(), version: 0, timeout: timeout)
        }
        guard answer.errorCode == 0 else {
            try? await channel.close()
            throw KafkaClientError.broker(KafkaErrorCode(rawValue: answer.errorCode) ?? .unknownServerError, message: nil, context: "ApiVersions")
        }
        for entry in answer.apiKeys {
            if let key = ApiKey(rawValue: entry.apiKey), entry.minVersion <= entry.maxVersion {
                versions[key] = entry.minVersion...entry.maxVersion
            }
        }
        let connection = BrokerConnection(host: host, port: port, channel: channel, clientId: clientId, versions: versions)
        if security.securityProtocol.usesSASL {
            do {
                try await SaslClient(mechanism: security.saslMechanism.uppercased(), username: security.username, password: security.password)
                    .authenticate(on: connection, timeout: timeout)
            } catch {
                await connection.close()
                throw error
            }
        }
        return connection
    }

    private init(host: String, port: Int, channel: any Channel, clientId: String, versions: [ApiKey: ClosedRange<Int16>]) {
        self.host = host
        self.port = port
        self.channel = channel
        self.clientId = clientId
        self.brokerVersions = versions
    }

    public var isActive: Bool { channel.isActive }

    /// The highest version of `key` in `supported` that the broker serves.
    public func version(of key: ApiKey, supported: ClosedRange<Int16>) throws(KafkaClientError) -> Int16 {
        guard let broker = brokerVersions[key], broker.overlaps(supported) else { throw .unsupportedVersion(key) }
        return min(broker.upperBound, supported.upperBound)
    }

    /// Sends `request` at `version` and waits for its response. Records fields that are
    /// `.external(token: i)` are sent from `attachments[i]`, straight after the bytes
    /// before them (gathered by the socket write, never copied into the frame).
    public func send<Request: KafkaRequestMessage>(
        _ request: Request, version: Int16, timeout: Duration = .seconds(30), attachments: [ByteBuffer] = []
    ) async throws -> Request.Response {
        let promise = channel.eventLoop.makePromise(of: ByteBuffer.self)
        let id = write(request, version: version, attachments: attachments, pending: { PendingRequest(correlationId: $0, promise: promise) })
        let timer = channel.eventLoop.scheduleTask(in: .nanoseconds(Int64(timeout.components.seconds) * 1_000_000_000 + timeout.components.attoseconds / 1_000_000_000)) {
            promise.fail(KafkaClientError.timeout("\(Request.apiKey) v\(version) to \(self.host):\(self.port)"))
            self.channel.close(promise: nil)
        }
        defer { timer.cancel() }
        var frame = try await promise.futureResult.get()
        _ = id
        do {
            let headerVersion = Request.apiKey.responseHeaderVersion(apiVersion: version)
            if headerVersion >= 1 { try frame.skipKafkaTaggedFields() }
            if Request.apiKey == .apiVersions,
               let code = frame.getInteger(at: frame.readerIndex, endianness: .big, as: Int16.self),
               code == KafkaErrorCode.unsupportedVersion.rawValue {
                // KIP-511: the broker answers an unknown ApiVersions version with a v0 body.
                return try Request.Response(from: &frame, version: 0)
            }
            return try Request.Response(from: &frame, version: version)
        } catch {
            throw KafkaClientError.malformedResponse("\(Request.apiKey) v\(version): \(error)")
        }
    }

    /// Sends a request that gets no response (Produce with acks=0).
    public func sendWithoutResponse<Request: KafkaRequestMessage>(_ request: Request, version: Int16, attachments: [ByteBuffer] = []) {
        _ = write(request, version: version, attachments: attachments, pending: { _ in nil })
    }

    @discardableResult
    private func write<Request: KafkaRequestMessage>(
        _ request: Request, version: Int16, attachments: [ByteBuffer], pending: (Int32) -> PendingRequest?
    ) -> Int32 {
        // The correlation id is taken and the frame queued under one lock, so frames reach
        // the socket in correlation order whatever tasks call concurrently.
        correlation.withLockedValue { next in
            next &+= 1
            let id = next
            var writer = KafkaWriter(buffer: channel.allocator.buffer(capacity: 256))
            writer.writeInteger(Int32(0))
            RequestHeader(requestApiKey: Request.apiKey.rawValue, requestApiVersion: version, correlationId: id, clientId: clientId)
                .write(to: &writer, version: Request.apiKey.requestHeaderVersion(apiVersion: version))
            request.write(to: &writer, version: version)
            writer.finishFrame()
            var parts: [ByteBuffer] = []
            var from = writer.buffer.readerIndex
            for splice in writer.splices {
                if let before = writer.buffer.getSlice(at: from, length: splice.position - from), before.readableBytes > 0 { parts.append(before) }
                if attachments.indices.contains(splice.records.token) { parts.append(attachments[splice.records.token]) }
                from = splice.position
            }
            if let rest = writer.buffer.getSlice(at: from, length: writer.buffer.writerIndex - from), rest.readableBytes > 0 { parts.append(rest) }
            channel.writeAndFlush((frames: parts, pending: pending(id)), promise: nil)
            return id
        }
    }

    public func close() async {
        try? await channel.close()
    }
}
