import KafkaProtocol
import Logging
import NIOCore
import NIOSSL

/// One client connection. Frames arrive from `KafkaFrameAssembler`; each request is handled
/// concurrently (a long-poll Fetch does not hold up the next request), but responses
/// leave strictly in request order. Produce, and a Fetch that needs no wait, are handled in
/// place on the event loop when no earlier request is still waiting for its ordered step
/// (`Broker.handleInPlace`); everything else goes through the ordered pipeline. When `maxInFlight` requests, or `maxInFlightBytes` of
/// request frames, are outstanding the handler stops asking the socket for more bytes
/// until one completes, which bounds the memory one producer can pin.
///
/// Invariant (event loop only): `nextToWrite <= nextSequence`, and `completed` holds only
/// sequence numbers in `nextToWrite..<nextSequence`.
final class ConnectionHandler: ChannelDuplexHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private let broker: Broker
    /// The name of the listener this connection came in on (Metadata answers with its address).
    private let listener: String
    private let maxInFlight: Int
    private let maxInFlightBytes: Int
    private var inFlightBytes = 0
    private var logger: Logger
    private var peer = "unknown"
    private var nextSequence = 0
    private var nextToWrite = 0
    private var completed: [Int: RequestOutcome] = [:]
    private var readPending = false
    private var closing = false
    /// Requests queued for the ordered pipeline whose ordered step has not finished; while
    /// any is, a new request may not jump ahead by being handled in place.
    private var awaitingOrder = 0
    /// The SASL login of a SASL_* listener's connection (nil on other listeners).
    private var sasl: SaslSession?
    /// On an SSL listener: the client certificate's principal, read once after the handshake.
    private var certificatePrincipal: String??
    private let mapping: PrincipalMapping?
    /// On TLS listeners a large response is written and flushed in pieces of this size, so
    /// the client decrypts one piece while the next is encrypted (instead of waiting for the
    /// whole response to be encrypted first); nil on plaintext listeners (one gathered write).
    private let tlsPieceSize: Int?
    /// Who the last request came from, for the quota check before the next read.
    private var quotaClient: (principal: String, clientId: String?) = (KafkaPrincipal.anonymous, nil)
    private var resumeScheduled = false

    init(broker: Broker, listener: String, maxInFlight: Int, maxInFlightBytes: Int) {
        self.broker = broker
        self.listener = listener
        let config = broker.config
        let proto = config.listeners.first { $0.name == listener }.flatMap { config.securityProtocol(of: $0) }
        if proto?.usesSASL == true {
            sasl = SaslSession(settings: config.sasl, credentials: broker.credentials)
        }
        mapping = proto == .ssl ? (try? PrincipalMapping(parsing: config.tls.principalMappingRules)) : nil
        tlsPieceSize = proto?.usesTLS == true ? 64 << 10 : nil
        self.maxInFlight = maxInFlight
        self.maxInFlightBytes = maxInFlightBytes
        self.logger = broker.logger
    }

    private var inFlight: Int { nextSequence - nextToWrite }
    private var atLimit: Bool { inFlight >= maxInFlight || inFlightBytes >= maxInFlightBytes }

    func channelActive(context: ChannelHandlerContext) {
        broker.metrics.connectionOpened()
        peer = context.remoteAddress.map { "\($0.ipAddress ?? "?"):\($0.port ?? 0)" } ?? "unknown"
        logger[metadataKey: "peer"] = "\(peer)"
        context.fireChannelActive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard !closing else { return }
        let frame = unwrapInboundIn(data)
        if sasl?.hasFailed == true { return }
        if sasl?.expectsRawToken == true {
            answerRawToken(frame, context: context)
            return
        }
        let request: FramedRequest
        do {
            request = try FramedRequest(frame: frame)
        } catch {
            close(context: context, reason: "\(error)")
            return
        }
        var principal = KafkaPrincipal.anonymous
        if let mapping {
            if certificatePrincipal == nil {
                let certificate = try? context.pipeline.syncOperations.handler(type: NIOSSLServerHandler.self).peerCertificate
                certificatePrincipal = .some(CertificatePrincipal.principal(of: certificate, mapping: mapping))
            }
            principal = (certificatePrincipal ?? nil) ?? KafkaPrincipal.anonymous
        }
        if var session = sasl {
            let verdict = session.admit(request, nowNanos: ProcessStats.monotonicNanos())
            sasl = session
            switch verdict {
            case .pass:
                principal = session.principal ?? KafkaPrincipal.anonymous
            case .answer(let writer, let thenClose):
                answerLogin(writer, thenClose: thenClose, request: request, size: frame.readableBytes, context: context)
                return
            case .close(let reason):
                close(context: context, reason: reason)
                return
            }
        }
        quotaClient = (principal, request.header.clientId)
        let (sequence, stamp) = begin(request.apiKey, version: request.apiVersion, size: frame.readableBytes)
        if awaitingOrder == 0 {
            let eventLoop = context.eventLoop
            let loopBound = NIOLoopBound((handler: self, context: context), eventLoop: eventLoop)
            let handled = broker.handleInPlace(request, peer: peer, listener: listener, principal: principal) { outcome in
                if eventLoop.inEventLoop {
                    loopBound.value.handler.complete(sequence, outcome, stamp: stamp, context: loopBound.value.context)
                } else {
                    eventLoop.execute {
                        loopBound.value.handler.complete(sequence, outcome, stamp: stamp, context: loopBound.value.context)
                    }
                }
            }
            if handled { return }
        }
        awaitingOrder += 1
        let step: Queued.Step
        if Broker.Prepared.isWorthPreparing(request) {
            let broker = self.broker
            let peer = self.peer
            let listener = self.listener
            step = .preparing(Task { broker.prepare(request, peer: peer, listener: listener, principal: principal) })
        } else {
            step = .prepared(broker.prepare(request, peer: peer, listener: listener, principal: principal))
        }
        pipeline?.yield(Queued(sequence: sequence, step: step, stamp: stamp))
    }

    /// Numbers a request and counts its bytes in flight until it completes.
    private func begin(_ key: ApiKey, version: Int16, size: Int) -> (sequence: Int, stamp: RequestStamp) {
        let sequence = nextSequence
        nextSequence += 1
        inFlightBytes += size
        broker.metrics.inFlightBytesChanged(by: size)
        return (sequence, RequestStamp(key: key, version: version, size: size))
    }

    /// Sends a SaslHandshake/SaslAuthenticate answer in request order; a failed login's
    /// answer waits `connection.failed.authentication.delay.ms` and closes the connection.
    private func answerLogin(_ writer: KafkaWriter, thenClose: String?, request: FramedRequest, size: Int, context: ChannelHandlerContext) {
        let (sequence, stamp) = begin(request.apiKey, version: request.apiVersion, size: size)
        guard let reason = thenClose else {
            complete(sequence, .respond(writer), stamp: stamp, context: context)
            return
        }
        broker.metrics.authenticationFailed()
        let delay = broker.config.sasl.failedAuthenticationDelayMs
        let loopBound = NIOLoopBound((handler: self, context: context), eventLoop: context.eventLoop)
        context.eventLoop.scheduleTask(in: .milliseconds(delay)) {
            loopBound.value.handler.complete(sequence, .respondThenClose(writer, reason), stamp: stamp, context: loopBound.value.context)
        }
    }

    /// After SaslHandshake v0 the client sends bare SASL tokens, answered with bare tokens.
    private func answerRawToken(_ frame: ByteBuffer, context: ChannelHandlerContext) {
        guard var session = sasl else { return }
        let verdict = session.rawToken(frame, nowNanos: ProcessStats.monotonicNanos())
        sasl = session
        switch verdict {
        case .answer(let writer, _):
            let (sequence, stamp) = begin(.saslAuthenticate, version: 0, size: frame.readableBytes)
            complete(sequence, .respond(writer), stamp: stamp, context: context)
        case .close(let reason):
            broker.metrics.authenticationFailed()
            close(context: context, reason: reason)
        case .pass:
            break
        }
    }

    /// A request waiting for its turn in this connection's ordered pipeline; a Produce is
    /// already being validated meanwhile.
    private struct Queued: Sendable {
        enum Step: Sendable {
            case prepared(Broker.Prepared)
            case preparing(Task<Broker.Prepared, Never>)
        }

        var sequence: Int
        var step: Step
        var stamp: RequestStamp
    }

    private var pipeline: AsyncStream<Queued>.Continuation?

    /// Starts the connection's ordered pipeline: requests are dispatched one after another
    /// in arrival order; their `.later` parts run concurrently.
    func handlerAdded(context: ChannelHandlerContext) {
        let (stream, continuation) = AsyncStream<Queued>.makeStream()
        pipeline = continuation
        let broker = self.broker
        let eventLoop = context.eventLoop
        let loopBound = NIOLoopBound((handler: self, context: context), eventLoop: eventLoop)
        Task {
            for await queued in stream {
                let finish: @Sendable (RequestOutcome) -> Void = { outcome in
                    eventLoop.execute {
                        loopBound.value.handler.complete(queued.sequence, outcome, stamp: queued.stamp, context: loopBound.value.context)
                    }
                }
                let prepared: Broker.Prepared
                switch queued.step {
                case .prepared(let value): prepared = value
                case .preparing(let task): prepared = await task.value
                }
                let dispatched = await broker.dispatch(prepared)
                eventLoop.execute { loopBound.value.handler.awaitingOrder -= 1 }
                switch dispatched {
                case .done(let outcome):
                    finish(outcome)
                case .later(let rest):
                    Task { finish(await rest()) }
                }
            }
        }
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        pipeline?.finish()
        pipeline = nil
    }

    func channelInactive(context: ChannelHandlerContext) {
        broker.metrics.connectionClosed()
        pipeline?.finish()
        context.fireChannelInactive()
    }

    private func complete(_ sequence: Int, _ outcome: RequestOutcome, stamp: RequestStamp, context: ChannelHandlerContext) {
        inFlightBytes -= stamp.size
        broker.metrics.inFlightBytesChanged(by: -stamp.size)
        broker.metrics.requestCompleted(stamp.key, version: stamp.version, nanoseconds: ProcessStats.monotonicNanos() - stamp.startedNanos)
        guard !closing else { return }
        completed[sequence] = outcome
        var wrote = false
        while let next = completed.removeValue(forKey: nextToWrite) {
            nextToWrite += 1
            switch next {
            case .respond(let writer):
                for part in writer.parts {
                    if let piece = tlsPieceSize, part.readableBytes > 2 * piece {
                        writeInPieces(part, piece: piece, context: context)
                    } else {
                        context.write(wrapOutboundOut(part), promise: nil)
                    }
                }
                wrote = true
            case .noResponse:
                break
            case .close(let reason):
                if wrote { context.flush() }
                close(context: context, reason: reason)
                return
            case .respondThenClose(let writer, let reason):
                for part in writer.parts { context.write(wrapOutboundOut(part), promise: nil) }
                context.flush()
                close(context: context, reason: reason)
                return
            }
        }
        if wrote { context.flush() }
        if readPending && !atLimit && !throttled(context: context) {
            readPending = false
            context.read()
        }
    }

    /// Writes and flushes `buffer` in slices (no copies): each flush makes the TLS handler
    /// encrypt and send that piece before it encrypts the next.
    private func writeInPieces(_ buffer: ByteBuffer, piece: Int, context: ChannelHandlerContext) {
        var rest = buffer
        while let slice = rest.readSlice(length: min(piece, rest.readableBytes)), slice.readableBytes > 0 {
            context.writeAndFlush(wrapOutboundOut(slice), promise: nil)
        }
    }

    /// Outbound read requests are held back while too many requests are in flight, and
    /// while the client is over a byte-rate quota (until its throttle time has passed).
    func read(context: ChannelHandlerContext) {
        if atLimit || throttled(context: context) {
            readPending = true
        } else {
            context.read()
        }
    }

    /// True while the client's quota throttle lasts; schedules the read for when it ends.
    private func throttled(context: ChannelHandlerContext) -> Bool {
        guard !broker.quotas.isEmpty else { return false }
        let until = broker.quotaEnforcer.blockedUntil(principal: quotaClient.principal, clientId: quotaClient.clientId)
        let now = ProcessStats.monotonicNanos()
        guard until > now else { return false }
        if !resumeScheduled {
            resumeScheduled = true
            let loopBound = NIOLoopBound((handler: self, context: context), eventLoop: context.eventLoop)
            context.eventLoop.scheduleTask(in: .nanoseconds(until - now)) {
                let (handler, context) = loopBound.value
                handler.resumeScheduled = false
                if handler.readPending && !handler.atLimit && !handler.throttled(context: context) {
                    handler.readPending = false
                    context.read()
                }
            }
        }
        return true
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        close(context: context, reason: "\(error)")
    }

    private func close(context: ChannelHandlerContext, reason: String) {
        guard !closing else { return }
        closing = true
        logger.warning("closing connection", metadata: ["reason": "\(reason)"])
        context.close(promise: nil)
    }
}

/// What the connection remembers of a request until it completes: for the metrics (API,
/// version, arrival time) and for the in-flight byte limit (frame size).
struct RequestStamp: Sendable {
    let key: ApiKey
    let version: Int16
    let size: Int
    let startedNanos: Int64

    init(key: ApiKey, version: Int16, size: Int) {
        self.key = key
        self.version = version
        self.size = size
        startedNanos = ProcessStats.monotonicNanos()
    }
}
