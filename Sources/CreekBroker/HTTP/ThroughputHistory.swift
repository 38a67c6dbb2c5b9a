import NIOConcurrencyHelpers

/// The console's charts over time: every `interval` a sample of each topic's record and byte
/// totals (in and out) and each group's lag, keeping the last `capacity` samples (10 minutes
/// at 2 s). Rates are differences of consecutive samples, computed by the reader.
final class ThroughputHistory: Sendable {
    struct Sample: Sendable, Encodable {
        var timeMs: Int64
        var topics: [String: BrokerMetrics.TopicTotals]
        /// Group → lag summed over its partitions.
        var groupLag: [String: Int64]
        /// Group → "topic-partition" → lag.
        var partitionLag: [String: [String: Int64]]
    }

    static let interval = Duration.seconds(2)
    let capacity: Int
    private let buffer = NIOLockedValueBox<[Sample]>([])

    init(capacity: Int = 300) {
        self.capacity = capacity
    }

    func samples() -> [Sample] { buffer.withLockedValue { $0 } }

    func record(_ sample: Sample) {
        buffer.withLockedValue { samples in
            samples.append(sample)
            if samples.count > capacity { samples.removeFirst(samples.count - capacity) }
        }
    }

    /// Takes one sample of `broker` now.
    func sample(_ broker: Broker) async {
        let groups = await GroupLag.all(broker)
        record(Sample(
            timeMs: broker.clock(), topics: broker.metrics.totals(),
            groupLag: Dictionary(uniqueKeysWithValues: groups.map { ($0.group, $0.lagSum) }),
            partitionLag: Dictionary(uniqueKeysWithValues: groups.map { group in
                (group.group, Dictionary(group.partitions.compactMap { p in p.lag.map { ("\(p.topic)-\(p.partition)", $0) } }, uniquingKeysWith: { a, _ in a }))
            })
        ))
    }

    /// Samples every `interval` until cancelled.
    func run(_ broker: Broker) async {
        while !Task.isCancelled {
            await sample(broker)
            try? await Task.sleep(for: Self.interval)
        }
    }

    /// Records per second in and out of `topic` over the last two samples (nil before two).
    func rates(of topic: String) -> (recordsIn: Double, recordsOut: Double)? {
        buffer.withLockedValue { samples in
            guard samples.count >= 2 else { return nil }
            let last = samples[samples.count - 1]
            let before = samples[samples.count - 2]
            let seconds = max(0.001, Double(last.timeMs - before.timeMs) / 1000)
            let now = last.topics[topic] ?? .init()
            let then = before.topics[topic] ?? .init()
            return (Double(now.recordsIn - then.recordsIn) / seconds, Double(now.recordsOut - then.recordsOut) / seconds)
        }
    }
}
