import CreekStorage
import Logging
import NIOConcurrencyHelpers
import NIOPosix

/// Compaction in the background: every `log.cleaner.backoff.ms`, each partition of a topic
/// with `cleanup.policy` containing `compact` is offered a cleaning pass (which runs only
/// when the partition is dirty enough, see `PartitionLog.clean`). Passes run on
/// `log.cleaner.threads` threads of their own (blocking file I/O stays off the event loops
/// and Swift's cooperative pool), at most one per partition at a time, all within
/// `log.cleaner.io.max.bytes.per.second`; the key-map memory
/// (`log.cleaner.dedupe.buffer.size`) is split between the threads.
final class LogCleaner: Sendable {
    let broker: Broker
    private let pool: NIOThreadPool
    private let throttle: CleanerThrottle
    private let budget: Int
    private let threads: Int

    init(broker: Broker) {
        self.broker = broker
        threads = broker.config.logCleanerThreads
        pool = NIOThreadPool(numberOfThreads: threads)
        throttle = CleanerThrottle(bytesPerSecond: broker.config.logCleanerIoMaxBytesPerSecond)
        budget = broker.config.logCleanerDedupeBufferSize / threads
    }

    /// Runs passes until the task is cancelled; a pass in progress completes first.
    func run() async {
        pool.start()
        let interval = Duration.milliseconds(broker.config.logCleanerBackoffMs)
        while !Task.isCancelled {
            try? await Task.sleep(for: interval)
            if Task.isCancelled { break }
            await cleanAll()
        }
        try? await pool.shutdownGracefully()
    }

    /// One round over every compacted partition, `threads` at a time.
    func cleanAll(force: Bool = false) async {
        let compacted = broker.topics.allTopics()
            .filter { $0.logConfig.cleanupPolicy.contains(.compact) }
            .flatMap(\.partitions)
        // Engines that compact inside the partition (PostgreSQL): one pass each, in turn.
        for partition in compacted where !(partition is PartitionLog) {
            await cleanInEngine(partition, force: force)
        }
        let partitions = compacted.compactMap { $0 as? PartitionLog }
        var next = partitions.makeIterator()
        await withTaskGroup(of: Void.self) { group in
            for _ in 0..<threads {
                guard let partition = next.next() else { break }
                group.addTask { await self.clean(partition, force: force) }
            }
            while await group.next() != nil {
                guard let partition = next.next() else { continue }
                group.addTask { await self.clean(partition, force: force) }
            }
        }
    }

    private func cleanInEngine(_ partition: any PartitionStorage, force: Bool) async {
        let started = ContinuousClock.now
        do {
            guard let result = try await partition.compact(nowMs: broker.clock(), dedupeBufferBytes: budget, force: force) else { return }
            report(result, partition: "\(partition.topic)-\(partition.partition)", elapsed: ContinuousClock.now - started)
        } catch {
            broker.logger.error("log cleaner pass failed", metadata: ["partition": "\(partition.topic)-\(partition.partition)", "error": "\(error)"])
        }
    }

    private func clean(_ partition: PartitionLog, force: Bool) async {
        let name = "\(partition.topic)-\(partition.partition)"
        let now = broker.clock()
        let throttle = self.throttle
        let budget = self.budget
        do {
            let started = ContinuousClock.now
            guard let result = try await pool.runIfActive({
                try partition.clean(nowMs: now, throttle: throttle, dedupeBufferBytes: budget, force: force)
            }) else { return }
            report(result, partition: name, elapsed: ContinuousClock.now - started)
        } catch {
            broker.logger.error("log cleaner pass failed", metadata: ["partition": "\(name)", "error": "\(error)"])
        }
    }

    /// Logs a pass (on the PostgreSQL engine "segments" are batch rows).
    private func report(_ result: CleaningResult, partition name: String, elapsed: Duration) {
        broker.logger.info("log cleaner pass", metadata: [
            "partition": "\(name)", "segmentsRewritten": "\(result.segmentsRewritten)",
            "segmentsRemoved": "\(result.segmentsRemoved)", "recordsRemoved": "\(result.recordsRemoved)",
            "bytesRead": "\(result.bytesRead)", "bytesWritten": "\(result.bytesWritten)",
            "cleanedUpTo": "\(result.cleanedUpTo)", "duration": "\(elapsed)",
        ])
        for problem in result.unreadableBatches.prefix(5) {
            broker.logger.error("log cleaner kept a batch it cannot read", metadata: ["partition": "\(name)", "batch": "\(problem)"])
        }
    }
}
