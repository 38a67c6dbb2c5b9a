import ArgumentParser
import CreekClient
import Histogram
#if canImport(Glibc)
import Glibc
#endif

/// `creek bench e2e TOPIC`: produces records at a fixed rate while a consumer in the same
/// process reads them back; each record carries its send time, so the consumer measures
/// produce-to-consume latency into an HdrHistogram. A live progress line on a terminal
/// (quiet when piped); a final table, or one JSON document with `--json`.
struct EndToEndBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "e2e", abstract: "End-to-end latency at a fixed rate (Swift producer and consumer).")

    @OptionGroup var client: ClientOptions
    @Argument(help: "The topic (created with --partitions when missing).") var topic: String
    @Option(help: "Record value size in bytes (at least 8).") var size = 100
    @Option(help: "Records per second.") var rate = 1000
    @Option(help: "Seconds to run.") var duration = 10.0
    @Option(help: "Partitions of the topic when it is created.") var partitions: Int32 = 1
    @Option(help: "acks: 0, 1 or all.") var acks = "all"
    @Flag(help: "Print one JSON document instead of the table.") var json = false

    func validate() throws {
        guard size >= 8, rate > 0, duration > 0, partitions > 0 else { throw ValidationError("--size ≥ 8, --rate, --duration and --partitions positive") }
        guard ["0", "1", "all"].contains(acks) else { throw ValidationError("--acks must be 0, 1 or all") }
    }

    struct Result: Encodable {
        var records: Int
        var seconds: Double
        var recordsPerSecond: Double
        var megabytesPerSecond: Double
        var latencyMs: [String: Double]
    }

    func run() async throws {
        let servers = client.bootstrapServers
        try await withAdmin(client) { admin in
            if try await admin.listTopics().contains(topic) { return }
            try await admin.createTopics([NewTopic(name: topic, partitions: partitions, replicationFactor: -1, configs: [:])])
        }
        var producerConfig = ProducerConfig(bootstrapServers: servers)
        producerConfig.client.security = try client.security()
        producerConfig.acks = acks == "0" ? .none : acks == "1" ? .leader : .all
        producerConfig.linger = .milliseconds(1)
        let producer = try await KafkaProducer.start(config: producerConfig)
        var consumerConfig = ConsumerConfig(bootstrapServers: servers)
        consumerConfig.client.security = try client.security()
        consumerConfig.fetchMaxWait = .milliseconds(10)
        let consumer = KafkaConsumer(config: consumerConfig)
        let count = try await consumer.partitionCount(of: topic)
        let assigned = (0..<count).map { TopicPartition(topic, Int32($0)) }
        consumer.assign(assigned)
        for partition in assigned { consumer.seek(partition, to: .end) }
        _ = try await consumer.poll()  // positions resolved before the first record is sent

        let total = Int(Double(rate) * duration)
        let progress = ProgressLine(enabled: !json && isatty(2) == 1)
        let started = MonotonicNanos.now
        let sending = Task {
            let padding = [UInt8](repeating: UInt8(ascii: "x"), count: size - 8)
            for index in 0..<total {
                let due = started + UInt64(Double(index) / Double(rate) * 1e9)
                let now = MonotonicNanos.now
                // Sleeping costs about a millisecond: records due sooner go now.
                if due > now + 1_000_000 { try await Task.sleep(for: .nanoseconds(Int64(due - now))) }
                var value = withUnsafeBytes(of: MonotonicNanos.now.bigEndian) { Array($0) }
                value += padding
                try await producer.sendAsync(ProducerRecord(topic: topic, value: value))
            }
            await producer.flush()
        }
        var histogram = Histogram<UInt64>(highestTrackableValue: 60_000_000, numberOfSignificantValueDigits: .three)
        var received = 0
        let deadline = started + UInt64((duration + 30) * 1e9)
        while received < total && MonotonicNanos.now < deadline {
            let records = try await consumer.poll()
            let now = MonotonicNanos.now
            for record in records {
                guard let stamp = record.valueBuffer?.getInteger(at: record.valueBuffer?.readerIndex ?? 0, endianness: .big, as: UInt64.self) else { continue }
                _ = histogram.record(max(1, (now &- stamp) / 1000))
                received += 1
            }
            let elapsed = Double(MonotonicNanos.now - started) / 1e9
            progress.update("\(received)/\(total) records, \(Int(Double(received) / max(elapsed, 0.001))) rec/s, "
                + "p99 \(String(format3: Double(histogram.valueAtPercentile(99)) / 1000)) ms, ETA \(Int(max(0, duration - elapsed))) s")
        }
        try await sending.value
        progress.finish()
        let seconds = Double(MonotonicNanos.now - started) / 1e9
        await consumer.close()
        await producer.close()
        let percentiles: [(String, Double)] = [("p50", 50), ("p99", 99), ("p99.9", 99.9)]
        var latency = Dictionary(uniqueKeysWithValues: percentiles.map { ($0.0, Double(histogram.valueAtPercentile($0.1)) / 1000) })
        latency["max"] = Double(histogram.max) / 1000
        let result = Result(
            records: received, seconds: seconds, recordsPerSecond: Double(received) / seconds,
            megabytesPerSecond: Double(received * size) / seconds / 1e6, latencyMs: latency
        )
        let output = OutputOption(output: json ? .json : .text)
        try output.emit(result) {
            table(["RECORDS", "SECONDS", "REC/S", "MB/S", "P50 MS", "P99 MS", "P99.9 MS", "MAX MS"], [[
                String(received), String(format3: seconds), String(Int(result.recordsPerSecond)), String(format3: result.megabytesPerSecond),
                String(format3: latency["p50"] ?? 0), String(format3: latency["p99"] ?? 0), String(format3: latency["p99.9"] ?? 0), String(format3: latency["max"] ?? 0),
            ]])
        }
        if received < total { throw CommandFailure(description: "only \(received) of \(total) records came back") }
    }
}

/// Monotonic nanoseconds (send stamps and rate pacing).
enum MonotonicNanos {
    static var now: UInt64 {
        var time = timespec()
        clock_gettime(CLOCK_MONOTONIC, &time)
        return UInt64(time.tv_sec) * 1_000_000_000 + UInt64(time.tv_nsec)
    }
}

/// Milliseconds since the epoch (record timestamps are in it).
enum WallClockMs {
    static var now: Int64 {
        var time = timespec()
        clock_gettime(CLOCK_REALTIME, &time)
        return Int64(time.tv_sec) * 1000 + Int64(time.tv_nsec) / 1_000_000
    }
}

/// A status line rewritten in place on standard error (`\r`), at most ten times a second;
/// does nothing when disabled (standard error is not a terminal, or JSON output).
final class ProgressLine {
    let enabled: Bool
    private var last: UInt64 = 0
    private var shown = false

    init(enabled: Bool) {
        self.enabled = enabled
    }

    func update(_ text: String) {
        guard enabled else { return }
        let now = MonotonicNanos.now
        guard now &- last >= 100_000_000 else { return }
        last = now
        shown = true
        StandardError.emit("\r\u{1B}[2K" + text)
    }

    func finish() {
        if shown { StandardError.emit("\n") }
    }
}
