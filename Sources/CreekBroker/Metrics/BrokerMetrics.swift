public import Prometheus
import Atomics
import KafkaProtocol
import NIOConcurrencyHelpers

/// Creek's metrics, in one Prometheus registry per broker: the counters and histograms the
/// request path updates as it goes (this type), and the gauges read from the broker's
/// state at each scrape (`MetricsScrape`). Every metric name is prefixed `creek_` and has
/// one help text (`MetricName`). When `enabled` is false every update is a no-op, so the
/// cost of metrics can be measured against none.
///
/// Labels are low-cardinality: API name and version, Kafka error name, topic. Series for a
/// topic are created on its first use and removed when it is deleted (`forget(topic:)`).
public final class BrokerMetrics: Sendable {
    public let registry: PrometheusCollectorRegistry
    public let enabled: Bool

    /// Counters per topic, cached so the request path takes one lock to find them. The
    /// atomics mirror the Prometheus counters for the console's totals and rates.
    public final class TopicCounters: Sendable {
        let recordsIn: Counter
        let bytesIn: Counter
        let recordsOut: Counter
        let bytesOut: Counter
        let totals = (
            recordsIn: ManagedAtomic<Int64>(0), bytesIn: ManagedAtomic<Int64>(0),
            recordsOut: ManagedAtomic<Int64>(0), bytesOut: ManagedAtomic<Int64>(0)
        )

        init(_ registry: PrometheusCollectorRegistry, topic: String) {
            let labels = [("topic", topic)]
            recordsIn = registry.makeCounter(MetricName.topicRecordsIn, labels)
            bytesIn = registry.makeCounter(MetricName.topicBytesIn, labels)
            recordsOut = registry.makeCounter(MetricName.topicRecordsOut, labels)
            bytesOut = registry.makeCounter(MetricName.topicBytesOut, labels)
        }

        func unregister(from registry: PrometheusCollectorRegistry) {
            for counter in [recordsIn, bytesIn, recordsOut, bytesOut] { registry.unregisterCounter(counter) }
        }
    }

    private struct Caches {
        var requests: [Int32: Counter] = [:]
        var durations: [Int16: DurationHistogram] = [:]
        var errors: [Int16: Counter] = [:]
        var topics: [String: TopicCounters] = [:]
    }

    private let caches = NIOLockedValueBox(Caches())
    private let produceBatchBytes: ValueHistogram
    private let fsyncDuration: DurationHistogram
    private let fsyncFailures: Counter
    private let connectionsActive: Gauge
    private let connectionsAccepted: Counter
    private let authenticationFailures: Counter
    private let inFlightRequestBytes: Gauge

    public init(enabled: Bool = true, registry: PrometheusCollectorRegistry = PrometheusCollectorRegistry()) {
        self.enabled = enabled
        self.registry = registry
        produceBatchBytes = registry.makeValueHistogram(
            descriptor: MetricName.produceBatchBytes.descriptor, buckets: (3...12).map { Double(1 << (2 * $0)) }
        )
        fsyncDuration = registry.makeDurationHistogram(MetricName.fsyncDuration, [])
        fsyncFailures = registry.makeCounter(MetricName.fsyncFailures, [])
        connectionsActive = registry.makeGauge(MetricName.connectionsActive, [])
        connectionsAccepted = registry.makeCounter(MetricName.connectionsAccepted, [])
        authenticationFailures = registry.makeCounter(MetricName.authenticationFailures, [])
        inFlightRequestBytes = registry.makeGauge(MetricName.inFlightRequestBytes, [])
    }

    // MARK: - Requests

    /// One request answered (or dropped): counted by API and version, timed by API.
    func requestCompleted(_ key: ApiKey, version: Int16, nanoseconds: Int64) {
        guard enabled else { return }
        let (counter, histogram) = caches.withLockedValue { caches -> (Counter, DurationHistogram) in
            let slot = Int32(key.rawValue) << 16 | Int32(UInt16(bitPattern: version))
            let counter = caches.requests[slot] ?? {
                let made = registry.makeCounter(MetricName.requests, [("api", key.name), ("version", String(version))])
                caches.requests[slot] = made
                return made
            }()
            let histogram = caches.durations[key.rawValue] ?? {
                let made = registry.makeDurationHistogram(MetricName.requestDuration, [("api", key.name)])
                caches.durations[key.rawValue] = made
                return made
            }()
            return (counter, histogram)
        }
        counter.increment()
        histogram.recordNanoseconds(nanoseconds)
    }

    /// Counts each non-zero error code in a response, by its Kafka name.
    func countErrors<Response: KafkaResponseMessage>(in response: Response) {
        guard enabled else { return }
        var codes: [Int16] = []
        response.forEachErrorCode { code in if code != 0 { codes.append(code) } }
        guard !codes.isEmpty else { return }
        let counters = caches.withLockedValue { caches in
            codes.map { code in
                caches.errors[code] ?? {
                    let name = KafkaErrorCode(rawValue: code)?.name ?? "UNKNOWN_\(code)"
                    let made = registry.makeCounter(MetricName.requestErrors, [("code", name)])
                    caches.errors[code] = made
                    return made
                }()
            }
        }
        for counter in counters { counter.increment() }
    }

    // MARK: - Topics

    /// The counters of `topic` (created on first use).
    func topic(_ topic: String) -> TopicCounters? {
        guard enabled else { return nil }
        return caches.withLockedValue { caches in
            if let known = caches.topics[topic] { return known }
            let made = TopicCounters(registry, topic: topic)
            caches.topics[topic] = made
            return made
        }
    }

    /// Records appended to a topic by Produce, and the batch sizes they came in.
    func produced(topic: String, records: Int, batchBytes: [Int]) {
        guard let counters = self.topic(topic) else { return }
        let bytes = Int64(batchBytes.reduce(0, +))
        counters.recordsIn.increment(by: Int64(records))
        counters.bytesIn.increment(by: bytes)
        counters.totals.recordsIn.wrappingIncrement(by: Int64(records), ordering: .relaxed)
        counters.totals.bytesIn.wrappingIncrement(by: bytes, ordering: .relaxed)
        for size in batchBytes { produceBatchBytes.record(Double(size)) }
    }

    /// Records and bytes a Fetch returned from a topic.
    func fetched(topic: String, records: Int, bytes: Int) {
        guard let counters = self.topic(topic), bytes > 0 else { return }
        counters.recordsOut.increment(by: Int64(records))
        counters.bytesOut.increment(by: Int64(bytes))
        counters.totals.recordsOut.wrappingIncrement(by: Int64(records), ordering: .relaxed)
        counters.totals.bytesOut.wrappingIncrement(by: Int64(bytes), ordering: .relaxed)
    }

    /// Records and bytes in and out since the start, per topic.
    public struct TopicTotals: Sendable, Hashable, Codable {
        public var recordsIn: Int64 = 0
        public var bytesIn: Int64 = 0
        public var recordsOut: Int64 = 0
        public var bytesOut: Int64 = 0
    }

    /// The totals of every topic seen since the start (empty when metrics are off).
    public func totals() -> [String: TopicTotals] {
        caches.withLockedValue { $0.topics }.mapValues { counters in
            TopicTotals(
                recordsIn: counters.totals.recordsIn.load(ordering: .relaxed), bytesIn: counters.totals.bytesIn.load(ordering: .relaxed),
                recordsOut: counters.totals.recordsOut.load(ordering: .relaxed), bytesOut: counters.totals.bytesOut.load(ordering: .relaxed)
            )
        }
    }

    /// Drops a deleted topic's series.
    func forget(topic: String) {
        guard let counters = caches.withLockedValue({ $0.topics.removeValue(forKey: topic) }) else { return }
        counters.unregister(from: registry)
    }

    // MARK: - Storage and connections

    /// One fsync (`fdatasync` of a file or a directory) and how long it took.
    public func synced(nanoseconds: Int64, failed: Bool) {
        guard enabled else { return }
        fsyncDuration.recordNanoseconds(nanoseconds)
        if failed { fsyncFailures.increment() }
    }

    func connectionOpened() {
        guard enabled else { return }
        connectionsAccepted.increment()
        connectionsActive.increment()
    }

    func authenticationFailed() {
        guard enabled else { return }
        authenticationFailures.increment()
    }

    func connectionClosed() {
        guard enabled else { return }
        connectionsActive.decrement()
    }

    func inFlightBytesChanged(by delta: Int) {
        guard enabled, delta != 0 else { return }
        inFlightRequestBytes.increment(by: Double(delta))
    }
}

extension PrometheusCollectorRegistry {
    func makeCounter(_ metric: MetricName, _ labels: [(String, String)]) -> Counter {
        labels.isEmpty ? makeCounter(descriptor: metric.descriptor) : makeCounter(descriptor: metric.descriptor, labels: labels)
    }

    func makeGauge(_ metric: MetricName, _ labels: [(String, String)]) -> Gauge {
        labels.isEmpty ? makeGauge(descriptor: metric.descriptor) : makeGauge(descriptor: metric.descriptor, labels: labels)
    }

    func makeDurationHistogram(_ metric: MetricName, _ labels: [(String, String)]) -> DurationHistogram {
        labels.isEmpty
            ? makeDurationHistogram(descriptor: metric.descriptor, buckets: MetricName.latencyBuckets)
            : makeDurationHistogram(descriptor: metric.descriptor, labels: labels, buckets: MetricName.latencyBuckets)
    }
}

extension MetricName {
    var descriptor: MetricNameDescriptor { MetricNameDescriptor(metricName: name, unitName: "", helpText: help) }
}
