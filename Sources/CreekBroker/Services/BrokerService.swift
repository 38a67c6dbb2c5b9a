import CreekStorage
import Logging
public import NIOCore
import NIOPosix
public import ServiceLifecycle

/// The running broker as a `Service`: listens, runs retention, the log cleaner and (for
/// `--flush os`) the periodic flush, and on graceful shutdown (SIGTERM/SIGINT) stops accepting, lets
/// in-flight requests finish, fsyncs every partition and writes the clean-shutdown marker.
public final class BrokerService: Service, Sendable, CustomStringConvertible {
    /// How service-lifecycle names it in its logs (a description also spares the runtime a
    /// reflective look at the type on every start).
    public var description: String { "Kafka listeners" }

    let broker: Broker
    let group: any EventLoopGroup
    /// Called with the bound address once the broker accepts connections.
    let onReady: @Sendable (SocketAddress?) -> Void

    public init(broker: Broker, group: any EventLoopGroup, onReady: @escaping @Sendable (SocketAddress?) -> Void) {
        self.broker = broker
        self.group = group
        self.onReady = onReady
    }

    public func run() async throws {
        // Transactions decided before the last stop get their markers before clients come.
        await broker.transactions.recover()
        let offsetsMirror = ConsumerOffsetsMirror(broker: broker)
        let server = try await KafkaServer.start(broker: broker, group: group)
        broker.listening(on: server.addresses.compactMapValues(\.port))
        onReady(server.localAddress)
        await withDiscardingTaskGroup { tasks in
            tasks.addTask { await self.retentionLoop() }
            tasks.addTask { await self.transactionLoop() }
            tasks.addTask { await self.offsetExpiryLoop() }
            // In a cluster the offsets live in PostgreSQL (creek_offsets), and the mirror's
            // partitions are led by whichever broker: it runs only for a broker alone.
            if broker.config.offsetsTopicEnable && broker.topics.engine.cluster == nil {
                tasks.addTask { await offsetsMirror.run() }
            }
            tasks.addTask { await server.watchCertificates() }
            if broker.config.logCleanerEnable {
                let cleaner = LogCleaner(broker: broker)
                tasks.addTask { await cleaner.run() }
            }
            if broker.config.flush == .os {
                tasks.addTask { await self.flushLoop() }
            }
            try? await gracefulShutdown()
            tasks.cancelAll()
        }
        broker.logger.notice("shutting down: no longer accepting connections")
        await server.stopAccepting()
        await broker.beginShutdown()
        let deadline = ContinuousClock.now + .seconds(30)
        while broker.requestsInFlight > 0 && ContinuousClock.now < deadline {
            try? await Task.sleep(for: .milliseconds(20))
        }
        await server.closeConnections()
        if await broker.closeStorage() {
            broker.logger.notice("shut down cleanly")
        } else {
            broker.logger.critical("shut down with storage failures: the next start runs recovery")
        }
    }

    /// Aborts timed-out transactions and retries unfinished ones
    /// (`transaction.abort.timed.out.transaction.cleanup.interval.ms`).
    private func transactionLoop() async {
        let interval = Duration.milliseconds(broker.config.transactionAbortTimedOutCleanupIntervalMs)
        while !Task.isCancelled {
            try? await Task.sleep(for: interval)
            if Task.isCancelled { return }
            await broker.transactions.tick()
        }
    }

    private func retentionLoop() async {
        let interval = Duration.milliseconds(broker.config.logRetentionCheckIntervalMs)
        while !Task.isCancelled {
            try? await Task.sleep(for: interval)
            if Task.isCancelled { return }
            await applyRetention()
        }
    }

    /// One retention pass over every partition.
    func applyRetention() async {
        let now = broker.clock()
        for topic in broker.topics.allTopics() {
            for partition in topic.partitions {
                do {
                    let deleted = try await partition.applyRetention(nowMs: now)
                    if deleted > 0 {
                        let start = await partition.logStartOffset
                        broker.logger.info("retention deleted segments", metadata: [
                            "partition": "\(partition.topic)-\(partition.partition)", "segments": "\(deleted)",
                            "logStartOffset": "\(start)",
                        ])
                    }
                } catch {
                    broker.logger.error("retention failed", metadata: ["partition": "\(partition.topic)-\(partition.partition)", "error": "\(error)"])
                }
            }
        }
    }

    private func offsetExpiryLoop() async {
        let interval = Duration.milliseconds(broker.config.offsetsRetentionCheckIntervalMs)
        let retentionMs = broker.config.offsetsRetentionMinutes * 60_000
        while !Task.isCancelled {
            try? await Task.sleep(for: interval)
            if Task.isCancelled { return }
            do {
                let removed = try await broker.groups.expireOffsets(retentionMs: retentionMs)
                if removed > 0 { broker.logger.info("expired committed offsets", metadata: ["count": "\(removed)"]) }
            } catch {
                broker.logger.error("offset expiry failed", metadata: ["error": "\(error)"])
            }
        }
    }

    private func flushLoop() async {
        let interval = Duration.milliseconds(broker.config.logFlushIntervalMs)
        while !Task.isCancelled {
            try? await Task.sleep(for: interval)
            for topic in broker.topics.allTopics() {
                for partition in topic.partitions {
                    do {
                        try await partition.flush()
                    } catch {
                        broker.logger.error("flush failed", metadata: ["partition": "\(partition.topic)-\(partition.partition)", "error": "\(error)"])
                    }
                }
            }
        }
    }
}
