import ArgumentParser
import CreekClient
import Histogram
import KafkaProtocol

/// `creek bench produce TOPIC`: records of `--size` bytes through the Swift producer (record
/// i to partition i % partitions), as fast as it goes or at `--rate`; reports throughput and
/// the latency from `sendAsync` to the broker's acknowledgement (ms resolution: a record's
/// timestamp is its send time).
struct ProduceBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "produce", abstract: "Swift producer throughput and acknowledgement latency.")

    @OptionGroup var options: ClientBenchOptions
    @Option(help: "Record value size in bytes.") var size = 100
    @Option(help: "Partitions to spread over (default: all of the topic's; a missing topic is created with this many, or 1).") var partitions: Int32?
    @Option(help: "acks: 0, 1 or all.") var acks = "all"
    @Option(help: "Compression: none, gzip, snappy, lz4 or zstd.") var compression = "none"
    @Option(help: "Records per second (default: as fast as possible).") var rate: Int?
    @Flag(help: "Idempotent (the client's default; off here to match librdkafka's default).") var idempotence = false

    func validate() throws {
        guard size >= 0, (options.count ?? 1) > 0, (options.duration ?? 1) > 0, (rate ?? 1) > 0, (partitions ?? 1) > 0 else {
            throw ValidationError("--size, --count, --duration, --rate and --partitions must be positive")
        }
        guard ["0", "1", "all"].contains(acks) else { throw ValidationError("--acks must be 0, 1 or all") }
        guard ProduceCommand.codecs[compression] != nil else { throw ValidationError("--compression must be none, gzip, snappy, lz4 or zstd") }
    }

    func run() async throws {
        var config = ProducerConfig(bootstrapServers: options.client.bootstrapServers)
        config.client.security = try options.client.security()
        config.acks = acks == "0" ? .none : acks == "1" ? .leader : .all
        config.enableIdempotence = idempotence
        config.compression = ProduceCommand.codecs[compression] ?? .none
        let topic = options.topic
        let spread: Int = try await withAdmin(options.client) { admin in
            if let known = try? await admin.describeTopics([topic])[topic] { return Int(partitions ?? Int32(known.partitionCount)) }
            try await admin.createTopics([NewTopic(name: topic, partitions: partitions ?? 1, replicationFactor: -1, configs: [:])])
            return Int(partitions ?? 1)
        }
        let producer = try await KafkaProducer.start(config: config)
        let payload = (0..<size).map { UInt8(ascii: "a") + UInt8($0 % 26) }
        _ = try await producer.send(ProducerRecord(topic: topic, partition: 0, value: payload))  // connections and metadata warm
        let count = options.count ?? (options.duration == nil ? 1_000_000 : Int.max)
        let progress = options.progress
        let acknowledged = Task {
            var (ok, failed) = (0, 0)
            var histogram = Histogram<UInt64>(highestTrackableValue: 600_000_000, numberOfSignificantValueDigits: .three)
            for await reports in producer.deliveryReports {
                let now = WallClockMs.now
                // Timestamps have ms resolution: one histogram entry per run of equal ones.
                var (runStamp, runLength): (Int64, UInt64) = (0, 0)
                for report in reports {
                    switch report {
                    case .success(let metadata):
                        ok += 1
                        if metadata.timestamp != runStamp, runLength > 0 {
                            _ = histogram.record(UInt64(max(1, now - runStamp)) * 1000, count: runLength)
                            runLength = 0
                        }
                        runStamp = metadata.timestamp
                        runLength += 1
                    case .failure:
                        failed += 1
                    }
                }
                if runLength > 0 { _ = histogram.record(UInt64(max(1, now - runStamp)) * 1000, count: runLength) }
            }
            return (ok, failed, histogram)
        }
        let (started, cpu) = (MonotonicNanos.now, ClientBenchOptions.cpuSeconds())
        let stop = options.duration.map { started + UInt64($0 * 1e9) }
        var sent = 0
        while sent < count {
            if sent % 1024 == 0 || rate != nil {
                let now = MonotonicNanos.now
                if let stop, now >= stop { break }
                let elapsed = Double(now - started) / 1e9
                progress.update("\(sent) records sent, \(Int(Double(sent) / max(elapsed, 0.001))) rec/s"
                    + (count == Int.max ? "" : ", ETA \(Int(Double(count - sent) / max(Double(sent) / max(elapsed, 0.001), 1))) s"))
            }
            if let rate {
                let due = started + UInt64(Double(sent) / Double(rate) * 1e9)
                let now = MonotonicNanos.now
                if due > now + 1_000_000 { try await Task.sleep(for: .nanoseconds(Int64(due - now))) }
            }
            try await producer.sendAsync(ProducerRecord(topic: topic, partition: Int32(sent % spread), value: payload))
            sent += 1
        }
        await producer.flush()
        let seconds = Double(MonotonicNanos.now - started) / 1e9
        let usedCPU = ClientBenchOptions.cpuSeconds() - cpu
        await producer.close()
        let (ok, failed, histogram) = await acknowledged.value
        progress.finish()
        try options.report(BenchResult(
            records: ok, failed: failed, complete: failed == 0, seconds: seconds, cpuSeconds: usedCPU, bytes: ok * size,
            latencyMs: config.acks == .none ? nil : BenchResult.percentiles(histogram)
        ))
        if failed > 0 { throw CommandFailure(description: "\(failed) records failed") }
    }
}
