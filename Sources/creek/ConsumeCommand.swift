import ArgumentParser
import CreekClient
#if canImport(Glibc)
import Glibc
#endif
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// `creek consume TOPIC`: prints records with the Swift client (assigned partitions).
struct ConsumeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "consume",
        abstract: "Print a topic's records (text values, or JSON lines with --output json)."
    )

    @OptionGroup var client: ClientOptions

    @Argument(help: "The topic.")
    var topic: String

    @Option(parsing: .unconditional, help: "Where to start: beginning, end, an offset, @TIMESTAMP (ms), or -N (the last N records of each partition).")
    var from = "beginning"

    @Option(help: "Only this partition.")
    var partition: Int32?

    @Option(help: "Stop after this many records.")
    var count: Int?

    @Flag(help: "Keep waiting for new records at the end (default: stop at the end).")
    var follow = false

    @Option(help: "Output: text (values) or json (one JSON record per line, base64 fields).")
    var output: OutputFormat = .text

    @Option(help: "Text output as a template: %t topic, %p partition, %o offset, %k key, %v value, %h headers, %T timestamp, %K/%S key/value size, \\n, \\t (default: %v\\n).")
    var format: String?

    @Option(help: "Isolation: read_uncommitted (every record) or read_committed (only committed transactions).")
    var isolation: Isolation = .readUncommitted

    @Option(help: "Read as a member of this consumer group (partitions shared with its other members, offsets committed).")
    var group: String?

    @Option(help: "With --group: the assignors offered, comma-separated (range, roundrobin, cooperative-sticky).")
    var assignor = "range,roundrobin"

    @Option(help: "Stop when no record arrives for this many milliseconds.")
    var timeoutMs: Int?

    func run() async throws {
        var config = ConsumerConfig(bootstrapServers: client.bootstrapServers)
        config.client.security = try client.security()
        config.isolationLevel = isolation == .readCommitted ? .readCommitted : .readUncommitted
        config.fetchMaxWait = .milliseconds(follow || group != nil ? 500 : 100)
        let target = try seekTarget()
        let printer = RecordPrinter(
            json: output == .json, template: try format.map(RecordTemplate.init) ?? RecordTemplate("%v\\n"), limit: count, idleTimeout: timeoutMs,
            // Records going to a file or pipe while a person watches the terminal.
            progress: ProgressLine(enabled: isatty(1) == 0 && isatty(2) == 1)
        )
        defer { printer.finish() }
        if let group {
            try await consumeAsMember(of: group, config: config, target: target, printer: printer)
            return
        }
        let consumer = KafkaConsumer(config: config)
        let partitions: [TopicPartition]
        if let partition {
            partitions = [TopicPartition(topic, partition)]
        } else {
            let count = try await consumer.partitionCount(of: topic)
            partitions = (0..<count).map { TopicPartition(topic, Int32($0)) }
        }
        consumer.assign(partitions)
        // Without --follow, stop at the high watermarks as they are now.
        let ends = try await consumer.offsets(partitions, at: -1)
        if case .lastRecords(let last) = target {
            let starts = try await consumer.offsets(partitions, at: -2)
            for partition in partitions {
                consumer.seek(partition, to: .offset(max(starts[partition] ?? 0, (ends[partition] ?? 0) - last)))
            }
        } else if case .seek(let seek) = target {
            for partition in partitions { consumer.seek(partition, to: seek) }
        }
        func atEnd() -> Bool {
            guard !follow else { return false }
            // A position not resolved yet (a seek by time or to the end) is not done.
            return partitions.allSatisfy { partition in consumer.position(partition).map { $0 >= (ends[partition] ?? 0) } ?? false }
        }
        while !atEnd(), try printer.print(try await consumer.poll()) {}
        await consumer.close()
    }

    /// `--group`: subscribe and print until `--count` or `--timeout-ms`; commits and leaves
    /// the group on the way out. `--from` picks where a partition without a committed
    /// offset starts (beginning or end).
    private func consumeAsMember(of groupId: String, config: ConsumerConfig, target: StartAt, printer: RecordPrinter) async throws {
        var config = config
        switch target {
        case .seek(.beginning): config.autoOffsetReset = .earliest
        case .seek(.end): config.autoOffsetReset = .latest
        default: throw ValidationError("with --group, --from must be beginning or end (where partitions without a committed offset start)")
        }
        var groupConfig = GroupConfig(groupId: groupId)
        groupConfig.sessionTimeout = .seconds(10)
        groupConfig.heartbeatInterval = .milliseconds(500)
        groupConfig.assignors = try assignor.split(separator: ",").map { name in
            guard let known = Assignor(rawValue: String(name)) else {
                throw ValidationError("unknown assignor \(name): range, roundrobin or cooperative-sticky")
            }
            return known
        }
        let member = GroupConsumer(consumer: config, group: groupConfig)
        member.subscribe([topic])
        while try printer.print(try await member.poll()) {}
        await member.close()
    }

    enum Isolation: String, ExpressibleByArgument, CaseIterable {
        case readUncommitted = "read_uncommitted"
        case readCommitted = "read_committed"
    }

    /// Where `--from` starts each partition.
    enum StartAt {
        case seek(SeekTarget)
        case lastRecords(Int64)
    }

    private func seekTarget() throws -> StartAt {
        switch from {
        case "beginning": return .seek(.beginning)
        case "end": return .seek(.end)
        case _ where from.hasPrefix("@"):
            guard let time = Int64(from.dropFirst()) else { throw ValidationError("--from @TIMESTAMP needs milliseconds") }
            return .seek(.timestamp(time))
        case _ where from.hasPrefix("-"):
            guard let last = Int64(from.dropFirst()), last >= 0 else { throw ValidationError("--from -N needs a count of records") }
            return .lastRecords(last)
        default:
            guard let offset = Int64(from), offset >= 0 else { throw ValidationError("--from must be beginning, end, an offset, @TIMESTAMP or -N") }
            return .seek(.offset(offset))
        }
    }
}

/// Prints records as `creek consume` does (values as text, or JSON lines), flushing each
/// batch, and says when to stop: after `limit` records or `idleTimeout` ms without one.
/// With `progress` enabled, a live count (records, MB/s, ETA toward `limit`) on standard error.
final class RecordPrinter {
    let json: Bool
    let template: RecordTemplate
    let limit: Int?
    let idleTimeout: Int?
    let progress: ProgressLine
    private var printed = 0
    private var bytes = 0
    private let started = MonotonicNanos.now
    private var lastRecord = ContinuousClock.now
    private let encoder = JSONEncoder()

    init(json: Bool, template: RecordTemplate, limit: Int?, idleTimeout: Int?, progress: ProgressLine = ProgressLine(enabled: false)) {
        self.json = json
        self.template = template
        self.limit = limit
        self.idleTimeout = idleTimeout
        self.progress = progress
        encoder.outputFormatting = [.sortedKeys]
    }

    /// Ends the progress line with a summary (only when it was enabled).
    func finish() {
        guard progress.enabled else { return }
        progress.finish()
        StandardError.emit("creek consume: \(status(final: true))\n")
    }

    private func status(final: Bool = false) -> String {
        let seconds = max(Double(MonotonicNanos.now &- started) / 1e9, 1e-9)
        let rate = Double(printed) / seconds
        var text = "\(printed) records, \(ByteCount.text(Int64(bytes))) in \(Int(seconds * 1000)) ms, \(Int(rate)) records/s, "
            + "\((Double(bytes) / seconds / 1e6 * 10).rounded() / 10) MB/s"
        if !final, let limit, rate > 0 {
            text += ", ETA \(Int((Double(limit - printed) / rate).rounded(.up))) s"
        }
        return text
    }

    /// Prints `records` (up to the limit); false once the consumer should stop.
    func print(_ records: [ConsumerRecord]) throws -> Bool {
        var text = ""
        for record in records {
            if let limit, printed >= limit { break }
            if json {
                let line = JSONRecord(
                    topic: record.topic, partition: record.partition, offset: record.offset, timestamp: record.timestamp,
                    key: JSONRecord.encode(record.key), value: JSONRecord.encode(record.value),
                    headers: record.headers.map { [$0.key, JSONRecord.encode($0.value)] }
                )
                text += String(decoding: try encoder.encode(line), as: UTF8.self) + "\n"
            } else {
                text += template.render(record)
            }
            printed += 1
            bytes += (record.key?.count ?? 0) + (record.value?.count ?? 0)
        }
        if !text.isEmpty {
            StandardOutput.emit(text)
            lastRecord = .now
            progress.update(status())
        }
        if let limit, printed >= limit { return false }
        if let idleTimeout, ContinuousClock.now - lastRecord >= .milliseconds(idleTimeout) { return false }
        return true
    }
}
