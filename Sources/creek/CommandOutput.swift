import ArgumentParser
import CreekClient
import KafkaProtocol
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// `--output text|json` of the read commands: text for people, JSON (one document, sorted
/// keys) for scripts.
struct OutputOption: ParsableArguments {
    @Option(help: "Output: text or json.")
    var output: OutputFormat = .text

    init() {}

    init(output: OutputFormat) {
        self.output = output
    }

    /// Prints `value` as JSON, or `text()` as it is.
    func emit<Value: Encodable>(_ value: Value, text: () -> String) throws {
        switch output {
        case .json:
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys, .prettyPrinted]
            StandardOutput.emit(String(decoding: try encoder.encode(value), as: UTF8.self) + "\n")
        case .text:
            StandardOutput.emit(text())
        }
    }
}

enum OutputFormat: String, ExpressibleByArgument, CaseIterable {
    case text, json
}

/// Left-aligned columns for text output; the header is bold on a terminal.
func table(_ header: [String], _ rows: [[String]], style: TerminalStyle = .standardOutput) -> String {
    let all = [header] + rows
    let widths = header.indices.map { column in all.map { $0.indices.contains(column) ? $0[column].count : 0 }.max() ?? 0 }
    func line(_ row: [String]) -> String {
        row.enumerated().map { column, cell in
            column == row.count - 1 ? cell : cell + String(repeating: " ", count: max(0, widths[column] - cell.count))
        }.joined(separator: "  ")
    }
    return ([style.bold(line(header))] + rows.map(line)).joined(separator: "\n") + "\n"
}

/// What an operator can do about a failed client command, by the error's kind.
enum ErrorAdvice {
    static func advice(for error: KafkaClientError) -> String? {
        switch error {
        case .connection, .timeout:
            return "is the broker running and reachable? Set --brokers or CREEK_BROKERS (default 127.0.0.1:9092)."
        case .broker(let code, _, _):
            switch code {
            case .topicAlreadyExists: return "the topic exists; pick another name or delete it first."
            case .unknownTopicOrPartition: return "no such topic or partition; `creek topic list` shows what exists."
            case .invalidPartitions: return "the partition count must be positive (and, to add partitions, above the current count)."
            case .invalidConfig: return "a setting name or value is not valid; `creek topic describe` lists the settings."
            case .nonEmptyGroup: return "the group has active members; stop them first."
            case .groupIdNotFound: return "no such group; `creek group list` shows what exists."
            default: return nil
            }
        default:
            return nil
        }
    }
}

/// Byte counts for people: "512 B", "1.5 KiB", "3.2 GiB" (powers of 1024).
enum ByteCount {
    static func text(_ bytes: Int64) -> String {
        let units = ["B", "KiB", "MiB", "GiB", "TiB", "PiB"]
        var value = Double(bytes)
        var unit = 0
        while abs(value) >= 1024 && unit < units.count - 1 {
            value /= 1024
            unit += 1
        }
        if unit == 0 { return "\(bytes) B" }
        let tenths = (value * 10).rounded() / 10
        return "\(tenths) \(units[unit])"
    }
}
