import CreekPostgres
import CreekStorage
public import Logging
public import NIOCore
import NIOConcurrencyHelpers
import NIOPosix
import ServiceLifecycle
public import UnixSignals
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A broker running in this process: storage opened, event loops started, the listener
/// bound and the background loops (retention, cleaner, transactions, offset expiry) under
/// a `ServiceGroup`. `creek serve` and programs or tests that embed Creek start it the same
/// way. Invariant: once `start` returns, the broker accepts connections at `address`, and
/// it keeps serving until `shutdown()` (or one of `signals`) stops it gracefully.
public final class BrokerRuntime: Sendable {
    public let broker: Broker
    /// The bound address (a port of 0 in the config picks a free one).
    public let address: SocketAddress
    /// How long `start` took, from opening storage to accepting connections.
    public let startupDuration: Duration
    /// The admin HTTP listener's address (nil when it is off or could not bind).
    public let httpAddress: SocketAddress?
    private let serviceGroup: ServiceGroup
    private let running: Task<Void, any Error>
    private let eventLoops: MultiThreadedEventLoopGroup
    private let temporaryDirectory: String?
    /// The PostgreSQL engine's connection pool, closed once the broker has stopped.
    private let engine: PostgresEngine?

    /// `host:port` for a client's `bootstrap.servers`.
    public var bootstrap: String {
        "\(address.ipAddress ?? broker.config.listenHost):\(address.port ?? broker.config.listenPort)"
    }

    /// Starts a broker with `config`. With `temporaryData`, the data directory is a new
    /// temporary one (the config's is ignored) and is removed at shutdown.
    public static func start(
        config: BrokerConfig, logger: Logger, temporaryData: Bool = false, signals: [UnixSignal] = [],
        threads: Int = System.coreCount, clock: @escaping @Sendable () -> Int64 = BrokerRuntime.wallClockMs
    ) async throws -> BrokerRuntime {
        let started = ContinuousClock.now
        var config = config
        var temporary: String?
        if temporaryData {
            var template = Array("/tmp/creek-embedded-XXXXXX".utf8CString)
            guard let made = template.withUnsafeMutableBufferPointer({ buffer in buffer.baseAddress.flatMap { mkdtemp($0) } }) else {
                throw StorageError.system(call: "mkdtemp", path: "/tmp/creek-embedded-XXXXXX", errno: errno)
            }
            temporary = String(cString: made)
            config.dataDirectory = String(cString: made)
        }
        try config.validateListeners()
        _ = OpenFileLimit.raise()
        let metrics = BrokerMetrics(enabled: config.http.metricsEnabled)
        var engine: PostgresEngine?
        if let url = config.storageURL {
            var listeners: [String: String] = [:]
            for listener in config.listeners {
                let advertised = config.advertised(for: listener)
                listeners[listener.name] = "\(advertised.host):\(advertised.port)"
            }
            engine = try await PostgresEngine.connect(
                url: url, node: ClusterNode(id: config.nodeId, listeners: listeners), leaseMs: config.clusterLeaseMs, logger: logger
            )
        }
        let broker: Broker
        do {
            broker = if let engine {
                try await Broker.open(config: config, engine: engine, logger: logger, metrics: metrics, clock: clock)
            } else {
                try Broker.open(config: config, logger: logger, metrics: metrics, clock: clock)
            }
        } catch {
            engine?.shutdown()
            throw error
        }
        if let engine {
            broker.groups.offsets.share(with: engine.sharedOffsets)
            // Transactions span brokers: state in the engine, markers to other leaders over
            // `inter.broker.listener.name` (the first listener by default).
            let interBroker = config.listeners.first { $0.name == config.interBrokerListenerName } ?? config.listeners[0]
            if config.securityProtocol(of: interBroker) != .plaintext {
                logger.warning("the inter-broker listener is not PLAINTEXT; brokers cannot log in to each other yet, so transactions spanning brokers will not complete", metadata: ["listener": "\(interBroker.name)"])
            }
            await broker.transactions.join(TransactionCluster(
                view: engine.membership, shared: engine.sharedTransactions,
                peers: InterBrokerClient(view: engine.membership, listener: interBroker.name)
            ))
            let last = NIOLockedValueBox((generation: engine.membership.generation, term: engine.membership.term))
            // After the cluster view changed, groups that moved away are dropped and every
            // group's offsets are reloaded from the shared copy before they are served again;
            // topics other brokers created, deleted or changed are adopted as the catalog changes.
            engine.membership.onRenewal { [weak broker] in
                let now = (generation: engine.membership.generation, term: engine.membership.term)
                let before = last.withLockedValue { last in defer { last = now }; return last }
                guard let broker, before != now else { return }
                broker.groups.offsets.forgetAdoptedGroups()
                let lapsed = before.term != now.term
                Task { await broker.groups.resign { lapsed || !broker.coordinatesLocally($0) } }
            }
            engine.watchCatalog { [weak broker] catalog in
                await broker?.topics.adopt(catalog)
            }
            try await broker.shareSecurityDocuments(engine.sharedDocuments, bootstrap: config.scramBootstrap)
            engine.every(.seconds(1)) { [weak broker] in
                await broker?.refreshSecurityDocuments(engine.sharedDocuments)
            }
        }
        let eventLoops = MultiThreadedEventLoopGroup(numberOfThreads: max(1, threads))
        // The admin listener is bound first and listed first, so it answers (not ready)
        // during recovery and stops last, after the broker's shutdown.
        var services: [ServiceGroupConfiguration.ServiceConfiguration] = []
        var httpAddress: SocketAddress?
        if let host = config.http.host {
            do {
                let http = try await AdminHTTPServer.bind(
                    host: host, port: config.http.port, routes: AdminRoutes(broker: broker), group: eventLoops, logger: logger
                )
                httpAddress = http.address
                services.append(.init(service: http))
            } catch {
                if config.http.required {
                    try? await eventLoops.shutdownGracefully()
                    throw error
                }
                logger.warning("admin HTTP listener not started (--http HOST:PORT picks another address)", metadata: [
                    "address": "\(host):\(config.http.port)", "error": "\(error)",
                ])
            }
        }
        let (ready, readyContinuation) = AsyncStream<SocketAddress?>.makeStream()
        let service = BrokerService(broker: broker, group: eventLoops) { address in
            readyContinuation.yield(address)
            readyContinuation.finish()
        }
        let serviceGroup = ServiceGroup(configuration: .init(
            services: services + [.init(service: service)], gracefulShutdownSignals: signals, logger: logger
        ))
        let running = Task {
            // Also ends the wait below when the service stops before it listens.
            defer { readyContinuation.finish() }
            try await serviceGroup.run()
        }
        var bound: SocketAddress?
        for await address in ready { bound = address }
        guard let bound else {
            // The service ended before it listened (the bind failed): report why.
            try await running.value
            try? await eventLoops.shutdownGracefully()
            throw StorageError.closed
        }
        return BrokerRuntime(
            broker: broker, address: bound, httpAddress: httpAddress, startupDuration: ContinuousClock.now - started, serviceGroup: serviceGroup,
            running: running, eventLoops: eventLoops, temporaryDirectory: temporary, engine: engine
        )
    }

    private init(
        broker: Broker, address: SocketAddress, httpAddress: SocketAddress?, startupDuration: Duration, serviceGroup: ServiceGroup,
        running: Task<Void, any Error>, eventLoops: MultiThreadedEventLoopGroup, temporaryDirectory: String?, engine: PostgresEngine?
    ) {
        self.engine = engine
        self.broker = broker
        self.address = address
        self.httpAddress = httpAddress
        self.startupDuration = startupDuration
        self.serviceGroup = serviceGroup
        self.running = running
        self.eventLoops = eventLoops
        self.temporaryDirectory = temporaryDirectory
    }

    /// Waits until the broker has stopped (a signal, or `shutdown()` elsewhere), then
    /// releases its threads and temporary data.
    public func waitUntilStopped() async throws {
        defer { cleanUp() }
        defer { engine?.shutdown() }
        try await running.value
        try await eventLoops.shutdownGracefully()
    }

    /// Stops the broker gracefully (as SIGTERM does) and waits until it has.
    public func shutdown() async throws {
        await serviceGroup.triggerGracefulShutdown()
        try await waitUntilStopped()
    }

    private func cleanUp() {
        guard let temporaryDirectory else { return }
        try? PosixFileOperations().removeTree(temporaryDirectory)
    }

    /// Milliseconds since the Unix epoch.
    @Sendable public static func wallClockMs() -> Int64 {
        var time = timespec()
        clock_gettime(CLOCK_REALTIME, &time)
        return Int64(time.tv_sec) * 1000 + Int64(time.tv_nsec) / 1_000_000
    }
}
