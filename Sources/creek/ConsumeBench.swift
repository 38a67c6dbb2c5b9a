import ArgumentParser
import CreekClient

/// `creek bench consume TOPIC`: reads every partition from the beginning with the Swift
/// consumer — `--count` records, for `--duration` seconds, or up to the high watermarks as
/// they were at the start — and reports throughput (timed from the first record).
struct ConsumeBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "consume", abstract: "Swift consumer throughput.")

    @OptionGroup var options: ClientBenchOptions

    func run() async throws {
        var consumerConfig = ConsumerConfig(bootstrapServers: options.client.bootstrapServers)
        consumerConfig.client.security = try options.client.security()
        let consumer = KafkaConsumer(config: consumerConfig)
        let partitions = (0..<(try await consumer.partitionCount(of: options.topic))).map { TopicPartition(options.topic, Int32($0)) }
        consumer.assign(partitions)
        for partition in partitions { consumer.seek(partition, to: .beginning) }
        var count = options.count ?? Int.max
        if options.count == nil && options.duration == nil {
            let (starts, ends) = (try await consumer.offsets(partitions, at: -2), try await consumer.offsets(partitions, at: -1))
            count = partitions.reduce(0) { $0 + Int((ends[$1] ?? 0) - (starts[$1] ?? 0)) }
        }
        let progress = options.progress
        var (received, bytes) = (0, 0)
        var (start, cpu): (UInt64?, Double) = (nil, 0)
        // Bounded: at most --duration, or 15 s without a new record.
        var lastRecord = MonotonicNanos.now
        let limit = options.duration.map { UInt64($0 * 1e9) }
        while received < count {
            let now = MonotonicNanos.now
            if let start, let limit, now - start >= limit { break }
            if now - lastRecord > 15_000_000_000 { break }
            let batch = try await consumer.poll()
            if batch.isEmpty { continue }
            lastRecord = MonotonicNanos.now
            if start == nil { (start, cpu) = (lastRecord, ClientBenchOptions.cpuSeconds()) }
            received += batch.count
            for record in batch { bytes += record.valueBuffer?.readableBytes ?? 0 }
            let elapsed = Double(lastRecord - (start ?? lastRecord)) / 1e9
            progress.update("\(received) records, \(Int(Double(received) / max(elapsed, 0.001))) rec/s")
        }
        progress.finish()
        let seconds = start.map { Double(MonotonicNanos.now - $0) / 1e9 } ?? 0
        let usedCPU = ClientBenchOptions.cpuSeconds() - cpu
        await consumer.close()
        try options.report(BenchResult(
            records: received, complete: received >= count || options.duration != nil, seconds: seconds, cpuSeconds: usedCPU, bytes: bytes, latencyMs: nil
        ))
    }
}
