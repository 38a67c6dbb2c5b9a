import ArgumentParser
#if canImport(Glibc)
import Glibc
#endif
import CreekClient
import KafkaProtocol
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// `creek produce TOPIC`: one record per line of standard input, sent with the Swift client.
struct ProduceCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "produce",
        abstract: "Send lines of standard input as records (text, or JSON lines with --format json)."
    )

    @OptionGroup var client: ClientOptions

    @Argument(help: "The topic.")
    var topic: String

    @Option(help: "Input format: text (one value per line), json (one JSON record per line, base64 fields), or a template of %k key, %v value, %h headers (k=v,k=v), %T timestamp, %p partition and literals, e.g. '%k\\t%v'.")
    var format = "text"

    @Option(help: "Read records from this file instead of standard input.")
    var file: String?

    @Option(help: "In text format, split each line at this separator into key and value.")
    var keySeparator: String?

    @Option(help: "A header K=V on every record (repeatable).")
    var header: [String] = []

    @Option(help: "Send every record to this partition.")
    var partition: Int32?

    @Option(help: "acks: 0, 1 or all.")
    var acks = "all"

    @Option(help: "Compression: none, gzip, snappy, lz4 or zstd.")
    var compression = "none"

    @Option(help: "A partition's batch is sent once it holds this many bytes.")
    var batchSize = 1_000_000

    @Option(help: "How long a batch waits for more records, in milliseconds.")
    var lingerMs = 5

    func run() async throws {
        var config = ProducerConfig(bootstrapServers: client.bootstrapServers)
        config.client.security = try client.security()
        guard batchSize > 0, lingerMs >= 0 else { throw ValidationError("--batch-size must be positive and --linger-ms not negative") }
        config.batchSize = batchSize
        config.linger = .milliseconds(lingerMs)
        switch acks {
        case "0": config.acks = .none
        case "1": config.acks = .leader
        case "all", "-1": config.acks = .all
        default: throw ValidationError("--acks must be 0, 1 or all")
        }
        guard let codec = Self.codecs[compression] else {
            throw ValidationError("--compression must be none, gzip, snappy, lz4 or zstd")
        }
        config.compression = codec
        config.enableIdempotence = config.acks == .all
        let headers = try header.map { item -> RecordHeaderValue in
            guard let equals = item.firstIndex(of: "=") else { throw ValidationError("--header expects K=V") }
            return RecordHeaderValue(String(item[..<equals]), Array(item[item.index(after: equals)...].utf8))
        }
        let producer = try await KafkaProducer.start(config: config)
        let started = ContinuousClock.now
        let startedNanos = MonotonicNanos.now
        var count = 0
        var failures = 0
        let reports = Task {
            var failed = 0
            for await reports in producer.deliveryReports {
                for case .failure(let error) in reports {
                    failed += 1
                    if failed <= 5 { StandardError.emit("creek produce: \(error)\n") }
                }
            }
            return failed
        }
        let template = format.contains("%") ? try RecordTemplate(format) : nil
        let input = try LineReader(path: file)
        // Reading a file is a long operation: a live line on a terminal, nothing when piped.
        let progress = ProgressLine(enabled: file != nil && isatty(2) == 1)
        while let line = input.next() {
            try await producer.sendAsync(try record(from: line, headers: headers, template: template))
            count += 1
            if count % 1024 == 0 {
                let seconds = Double(MonotonicNanos.now - startedNanos) / 1e9
                progress.update("\(count) records sent, \(Int(Double(count) / max(seconds, 0.001))) rec/s")
            }
        }
        progress.finish()
        await producer.close()
        failures = await reports.value
        let elapsed = (ContinuousClock.now - started).components
        let milliseconds = elapsed.seconds * 1000 + elapsed.attoseconds / 1_000_000_000_000_000
        StandardError.emit("creek produce: \(count - failures) of \(count) records sent to \(topic) in \(milliseconds) ms\n")
        if failures > 0 { throw ExitCode(1) }
    }

    private func record(from line: String, headers: [RecordHeaderValue], template: RecordTemplate?) throws -> ProducerRecord {
        if let template {
            guard let fields = template.parse(line[...]) else { throw CommandFailure(description: "line does not match --format \(format): \(line)") }
            let lineHeaders = try fields["h"].map { text in
                try text.split(separator: ",").map { item -> RecordHeaderValue in
                    guard let equals = item.firstIndex(of: "=") else { throw CommandFailure(description: "header \(item) is not k=v") }
                    return RecordHeaderValue(String(item[..<equals]), Array(item[item.index(after: equals)...].utf8))
                }
            } ?? []
            guard fields["T"].map({ Int64($0) != nil }) ?? true, fields["p"].map({ Int32($0) != nil }) ?? true else {
                throw CommandFailure(description: "%T and %p must be numbers: \(line)")
            }
            return ProducerRecord(
                topic: topic, partition: fields["p"].flatMap { Int32($0) } ?? partition, key: fields["k"].map { Array($0.utf8) },
                value: fields["v"].map { Array($0.utf8) }, headers: headers + lineHeaders, timestamp: fields["T"].flatMap { Int64($0) }
            )
        }
        if format == "json" {
            let parsed = try JSONDecoder().decode(JSONRecord.self, from: Data(line.utf8))
            let recordHeaders = try (parsed.headers ?? []).map { pair -> RecordHeaderValue in
                guard let key = pair.first ?? nil else { throw ValidationError("a header needs a key") }
                return RecordHeaderValue(key, try JSONRecord.decode(pair.count > 1 ? pair[1] : nil))
            }
            return ProducerRecord(
                topic: topic, partition: parsed.partition ?? partition, key: try JSONRecord.decode(parsed.key),
                value: try JSONRecord.decode(parsed.value), headers: headers + recordHeaders, timestamp: parsed.timestamp
            )
        }
        if let keySeparator, !keySeparator.isEmpty, let split = Self.split(line, at: keySeparator) {
            return ProducerRecord(topic: topic, partition: partition, key: Array(split.0.utf8), value: Array(split.1.utf8), headers: headers)
        }
        return ProducerRecord(topic: topic, partition: partition, value: Array(line.utf8), headers: headers)
    }

    /// The `--compression` names.
    static let codecs: [String: RecordBatch.Compression] = ["none": .none, "gzip": .gzip, "snappy": .snappy, "lz4": .lz4, "zstd": .zstd]

    /// Lines of a file, or of standard input.
    final class LineReader {
        private let lines: [Substring]?
        private var index = 0

        init(path: String?) throws {
            guard let path else {
                lines = nil
                return
            }
            guard let data = FileManager.default.contents(atPath: path) else { throw ValidationError("cannot read --file \(path)") }
            let text = String(decoding: data, as: UTF8.self)
            lines = text.split(separator: "\n", omittingEmptySubsequences: false).dropLast(text.hasSuffix("\n") ? 1 : 0).map { $0 }
        }

        func next() -> String? {
            guard let lines else { return readLine(strippingNewline: true) }
            guard index < lines.count else { return nil }
            defer { index += 1 }
            return String(lines[index])
        }
    }

    /// `line` before and after the first `separator`, or nil when it has none.
    static func split(_ line: String, at separator: String) -> (Substring, Substring)? {
        var index = line.startIndex
        while index < line.endIndex {
            if line[index...].hasPrefix(separator) {
                return (line[..<index], line[line.index(index, offsetBy: separator.count)...])
            }
            index = line.index(after: index)
        }
        return nil
    }
}
