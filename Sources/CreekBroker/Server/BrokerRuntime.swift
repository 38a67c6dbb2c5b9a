import CreekStorage
public import Logging
public import NIOCore
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
    private let serviceGroup: ServiceGroup
    private let running: Task<Void, any Error>
    private let eventLoops: MultiThreadedEventLoopGroup
    private let temporaryDirectory: String?

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
        _ = OpenFileLimit.raise()
        let broker = try Broker.open(config: config, logger: logger, clock: clock)
        let eventLoops = MultiThreadedEventLoopGroup(numberOfThreads: max(1, threads))
        let (ready, readyContinuation) = AsyncStream<SocketAddress?>.makeStream()
        let service = BrokerService(broker: broker, group: eventLoops) { address in
            readyContinuation.yield(address)
            readyContinuation.finish()
        }
        let serviceGroup = ServiceGroup(configuration: .init(
            services: [.init(service: service)], gracefulShutdownSignals: signals, logger: logger
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
            broker: broker, address: bound, startupDuration: ContinuousClock.now - started, serviceGroup: serviceGroup,
            running: running, eventLoops: eventLoops, temporaryDirectory: temporary
        )
    }

    private init(
        broker: Broker, address: SocketAddress, startupDuration: Duration, serviceGroup: ServiceGroup,
        running: Task<Void, any Error>, eventLoops: MultiThreadedEventLoopGroup, temporaryDirectory: String?
    ) {
        self.broker = broker
        self.address = address
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
