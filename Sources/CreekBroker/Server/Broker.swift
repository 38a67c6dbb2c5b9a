public import CreekStorage
public import KafkaProtocol
public import Logging
import NIOConcurrencyHelpers

/// The request router and the state handlers share: configuration, topics, clock.
/// `handle` is called concurrently from every connection; each handler is a value
/// that reaches shared state only through `TopicRegistry` and the partition actors.
public final class Broker: Sendable {
    /// The configuration in force (static settings with dynamic broker configs applied);
    /// one value per read, so read it once where several settings must agree.
    public var config: BrokerConfig { topics.config }
    public let topics: TopicRegistry
    public let groups: GroupCoordinator
    public let producerIds: ProducerIdAllocator
    public let transactions: TransactionCoordinator
    public let logger: Logger
    public let metrics: BrokerMetrics
    /// Settings changed at run time (IncrementalAlterConfigs on the broker resource).
    public let dynamicConfig: DynamicBrokerConfig
    /// SCRAM credentials, for SASL logins and the SCRAM credential APIs.
    public let credentials: CredentialStore
    /// ACLs and the decisions made from them (every check passes when it is off).
    public let authorizer: Authorizer
    /// Client quotas as configured (AlterClientQuotas) …
    public let quotas: ClientQuotas
    /// … and as enforced (byte rates of Produce and Fetch).
    let quotaEnforcer: QuotaEnforcer
    let fetchSessions: FetchSessionCache
    let clock: @Sendable () -> Int64
    private let inFlight = NIOLockedValueBox(0)
    private let shuttingDown = NIOLockedValueBox(false)
    /// The ports the listeners really bound, by name, when the config asked for any free one (0).
    private let boundPorts = NIOLockedValueBox<[String: Int]>([:])
    private let accepting = NIOLockedValueBox(false)
    private let startedNanos = ProcessStats.monotonicNanos()

    public init(
        config: BrokerConfig, topics: TopicRegistry, groups: GroupCoordinator, producerIds: ProducerIdAllocator,
        transactionState: TransactionStateStore, logger: Logger, metrics: BrokerMetrics = BrokerMetrics(enabled: false),
        clock: @escaping @Sendable () -> Int64, dynamicConfig: DynamicBrokerConfig? = nil,
        credentials: CredentialStore? = nil, authorizer: Authorizer? = nil, quotas: ClientQuotas? = nil
    ) {
        self.quotas = quotas ?? ClientQuotas(unsavedIn: config.dataDirectory, files: topics.files)
        self.quotaEnforcer = QuotaEnforcer(quotas: self.quotas)
        self.authorizer = authorizer ?? Authorizer(disabledIn: config.dataDirectory, files: topics.files)
        self.credentials = credentials ?? CredentialStore(unsavedIn: config.dataDirectory, files: topics.files)
        self.metrics = metrics
        self.dynamicConfig = dynamicConfig ?? DynamicBrokerConfig(staticConfig: config, overrides: [:], files: topics.files)
        self.topics = topics
        self.groups = groups
        self.producerIds = producerIds
        self.transactions = TransactionCoordinator(
            store: transactionState, topics: topics, offsets: groups.offsets, producerIds: producerIds,
            maxTimeoutMs: config.transactionMaxTimeoutMs, idExpirationMs: config.transactionalIdExpirationMs,
            logger: logger, clock: clock
        )
        self.logger = logger
        self.clock = clock
        self.fetchSessions = FetchSessionCache(slots: config.maxIncrementalFetchSessionCacheSlots)
    }

    /// True once graceful shutdown began: long-poll fetches return at once.
    public var isShuttingDown: Bool { shuttingDown.withLockedValue { $0 } }

    /// Starts graceful shutdown: parked long-poll fetches are woken and answer now.
    public func beginShutdown() async {
        shuttingDown.withLockedValue { $0 = true }
        // In a cluster, the others take this broker's partitions and groups over now.
        await topics.engine.leaveCluster()
        for topic in topics.allTopics() {
            for partition in topic.partitions {
                await partition.wakeWaiters()
            }
        }
        await groups.shutdown()
    }

    /// Requests being handled right now, across all connections.
    public var requestsInFlight: Int { inFlight.withLockedValue { $0 } }

    func countRequest(_ delta: Int) {
        inFlight.withLockedValue { $0 += delta }
    }

    /// A request after the work that may run as soon as it arrives, concurrently with the
    /// connection's earlier requests: for Produce, decoding and validating every batch.
    public struct Prepared: Sendable {
        enum Kind: Sendable {
            case produce(ProduceHandler.ValidatedRequest)
            case other
            case failed(RequestOutcome)
        }

        let framed: FramedRequest
        let context: RequestContext
        let kind: Kind

        /// True when preparing does real work worth running concurrently.
        public static func isWorthPreparing(_ framed: FramedRequest) -> Bool { framed.apiKey == .produce }
    }

    /// Does the order-independent part of a request (see `Prepared`).
    public func prepare(_ framed: FramedRequest, peer: String, listener: String, principal: String = KafkaPrincipal.anonymous) -> Prepared {
        let context = RequestContext(framed, peer: peer, listener: listener, principal: principal)
        guard framed.apiKey == .produce, ProduceHandler.versions.contains(framed.apiVersion) else {
            return Prepared(framed: framed, context: context, kind: .other)
        }
        var body = framed.body
        do {
            let request = try ProduceRequest(from: &body, version: framed.apiVersion)
            return Prepared(framed: framed, context: context, kind: .produce(ProduceHandler(broker: self).validate(request, context: context)))
        } catch {
            return Prepared(framed: framed, context: context, kind: .failed(.close("malformed Produce v\(framed.apiVersion) body: \(error)")))
        }
    }

    /// Runs the part of a request that must happen in the connection's request order and
    /// returns the rest. Produce appends here (so a producer's pipelined batches land in
    /// the order sent) and waits for durability later; Fetch runs entirely later (a long
    /// poll must not hold up the connection's next requests); everything else runs here.
    public func dispatch(_ prepared: Prepared) async -> Dispatch {
        inFlight.withLockedValue { $0 += 1 }
        let framed = prepared.framed
        let context = prepared.context
        switch prepared.kind {
        case .failed(let outcome):
            inFlight.withLockedValue { $0 -= 1 }
            return .done(outcome)
        case .produce(let validated):
            let finish = await ProduceHandler(broker: self).appendPhase(validated)
            // Not `framed` itself: its bytes (a slice of a socket read) must not wait for the fsync.
            let (version, correlationId) = (framed.apiVersion, framed.correlationId)
            return .later {
                defer { self.inFlight.withLockedValue { $0 -= 1 } }
                switch await finish() {
                case .none: return .noResponse
                case .close(let reason): return .close(reason)
                case .respond(let response):
                    return .respond(self.encode(response, version: version, correlationId: correlationId))
                }
            }
        case .other where [.fetch, .joinGroup, .syncGroup].contains(framed.apiKey):
            return .later {
                defer { self.inFlight.withLockedValue { $0 -= 1 } }
                return await self.route(framed, context: context)
            }
        case .other:
            defer { inFlight.withLockedValue { $0 -= 1 } }
            return .done(await route(framed, context: context))
        }
    }

    private func route(_ framed: FramedRequest, context: RequestContext) async -> RequestOutcome {
        guard let route = Self.routes[framed.apiKey] else {
            return rejectUnserved(framed) ?? .close("unsupported API \(framed.apiKey.name) (key \(framed.apiKey.rawValue))")
        }
        guard route.accepted.contains(framed.apiVersion) else {
            if framed.apiKey == .apiVersions {
                return .respond(ApiVersionsResponse.unsupportedVersionFrame(correlationId: framed.correlationId, supported: route.versions))
            }
            return .close("unsupported version \(framed.apiVersion) of \(framed.apiKey.name) (serving \(route.versions))")
        }
        return await route.run(self, framed, context)
    }

    /// An API Creek does not serve (and does not advertise) still gets an answer when its
    /// response has a top-level error code, so a UI's optional call fails cleanly instead of
    /// losing the connection: UNSUPPORTED_VERSION. Nil when the schema has no such code.
    private func rejectUnserved(_ framed: FramedRequest) -> RequestOutcome? {
        func reject<Response: KafkaResponseMessage>(_ type: Response.Type) -> RequestOutcome? {
            guard Response.validVersions.contains(framed.apiVersion),
                  let response = Response.rejection(errorCode: KafkaErrorCode.unsupportedVersion.rawValue, message: "Creek does not serve \(framed.apiKey.name).")
            else { return nil }
            logger.info("answered an API Creek does not serve", metadata: ["api": "\(framed.apiKey.name)", "version": "\(framed.apiVersion)"])
            return .respond(encode(response, for: framed))
        }
        return reject(framed.apiKey.responseType)
    }

    /// A response in the request's version, its error codes counted.
    func encode<Response: KafkaResponseMessage>(_ response: Response, for framed: FramedRequest) -> KafkaWriter {
        encode(response, version: framed.apiVersion, correlationId: framed.correlationId)
    }

    /// A response in `version`, its error codes counted.
    func encode<Response: KafkaResponseMessage>(_ response: Response, version: Int16, correlationId: Int32) -> KafkaWriter {
        metrics.countErrors(in: response)
        // Fetched records of 16 KiB or more are sent from the buffers they were read into,
        // not copied into the frame (ConnectionHandler writes `parts`).
        return KafkaWriter.encodeResponse(response, version: version, correlationId: correlationId, inlineRecordsThreshold: 16 << 10)
    }

    /// The broker node as Metadata and DescribeCluster report it: the advertised address,
    /// whose port is the bound one when the listener was asked for any free port.
    /// (The first listener's, for callers without a connection.)
    var node: (id: Int32, host: String, port: Int32) {
        node(for: config.listeners[0].name)
    }

    /// The broker node as a client of `listener` is told it: that listener's advertised
    /// address (its bound port when it was asked for any free one and advertises none).
    func node(for listenerName: String) -> (id: Int32, host: String, port: Int32) {
        let config = self.config
        let listener = config.listeners.first { $0.name == listenerName } ?? config.listeners[0]
        let advertised = config.advertised(for: listener)
        let bound = boundPorts.withLockedValue { $0[listener.name] }
        let port = config.advertisedListeners[listener.name] == nil && listener.port == 0 ? bound ?? 0 : advertised.port
        return (config.nodeId, advertised.host, Int32(port))
    }

    /// The advertised address of `listener` (for the command line's startup line).
    public func advertisedNode(for listener: String) -> (host: String, port: Int32) {
        let node = node(for: listener)
        return (node.host, node.port)
    }

    /// Records the ports the listeners bound, by name (see `node`); from now on clients are accepted.
    func listening(on ports: [String: Int]) {
        boundPorts.withLockedValue { $0 = ports }
        accepting.withLockedValue { $0 = true }
    }

    /// Seconds since this broker was opened.
    public var uptimeSeconds: Double { Double(ProcessStats.monotonicNanos() - startedNanos) / 1e9 }

    /// True once the Kafka listener accepts connections (storage recovered, transactions
    /// recovered); stays true through shutdown (see `isShuttingDown`).
    public var isAcceptingClients: Bool { accepting.withLockedValue { $0 } }
}
