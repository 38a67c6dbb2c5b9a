import CreekStorage
import NIOConcurrencyHelpers
import Prometheus

/// The gauges read from the broker's state when `/metrics` is scraped: partitions
/// (watermarks, size, segments), consumer groups (state, members, committed offsets, lag),
/// open transactions, the process and the data directory's volume. A series whose subject
/// is gone (a deleted topic, a dropped group) is unregistered at the next scrape.
final class MetricsScrape: Sendable {
    private let metrics: BrokerMetrics
    private let startedNanos = ProcessStats.monotonicNanos()
    /// The gauges set by the previous scrape, by name and labels.
    private let previous = NIOLockedValueBox<[String: Gauge]>([:])

    init(metrics: BrokerMetrics) {
        self.metrics = metrics
    }

    /// Updates every state gauge and returns the registry's exposition text.
    func scrape(_ broker: Broker) async -> [UInt8] {
        var values: [(MetricName, [(String, String)], Double)] = []
        var offline = 0
        for topic in broker.topics.allTopics() {
            for (index, log) in topic.partitions.enumerated() {
                let labels = [("topic", topic.name), ("partition", String(index))]
                let (high, start, size, segments, isOffline) = await (log.highWatermark, log.logStartOffset, log.sizeInBytes, log.segmentCount, log.isOffline)
                values.append((.partitionHighWatermark, labels, Double(high)))
                values.append((.partitionLogStartOffset, labels, Double(start)))
                values.append((.partitionSizeBytes, labels, Double(size)))
                values.append((.partitionSegments, labels, Double(segments)))
                if isOffline { offline += 1 }
            }
        }
        values.append((.partitionsOffline, [], Double(offline)))
        for group in await GroupLag.all(broker) {
            values.append((.groupMembers, [("group", group.group)], Double(group.members)))
            values.append((.groupState, [("group", group.group), ("state", group.state)], 1))
            for partition in group.partitions {
                let labels = [("group", group.group), ("topic", partition.topic), ("partition", String(partition.partition))]
                values.append((.groupCommittedOffset, labels, Double(partition.committed)))
                if let lag = partition.lag { values.append((.groupLag, labels, Double(lag))) }
            }
            values.append((.groupLagSum, [("group", group.group)], Double(group.lagSum)))
        }
        let open = broker.transactions.transactions.values.filter { [.ongoing, .prepareCommit, .prepareAbort].contains($0.state) }.count
        values.append((.transactionsOpen, [], Double(open)))
        let process = ProcessStats.current()
        values.append((.residentMemory, [], Double(process.residentBytes)))
        values.append((.cpuSeconds, [], process.cpuSeconds))
        values.append((.openFiles, [], Double(process.openFiles)))
        values.append((.uptime, [], Double(ProcessStats.monotonicNanos() - startedNanos) / 1e9))
        if let space = VolumeSpace.of(path: broker.config.dataDirectory) {
            values.append((.dataDirFree, [], Double(space.usable)))
            values.append((.dataDirTotal, [], Double(space.total)))
        }
        apply(values)
        return metrics.registry.emitToBuffer()
    }

    private func apply(_ values: [(MetricName, [(String, String)], Double)]) {
        let registry = metrics.registry
        previous.withLockedValue { previous in
            var current: [String: Gauge] = [:]
            for (metric, labels, value) in values {
                let key = metric.name + labels.map { "|\($0.0)=\($0.1)" }.joined()
                let gauge = previous[key] ?? registry.makeGauge(metric, labels)
                gauge.set(value)
                current[key] = gauge
            }
            for (key, gauge) in previous where current[key] == nil { registry.unregisterGauge(gauge) }
            previous = current
        }
    }
}
