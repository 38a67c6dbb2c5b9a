import ArgumentParser
import CreekClient

/// A kcat-style record format: `%t` topic, `%p` partition, `%o` offset, `%k` key, `%v` value,
/// `%h` headers (k=v,k=v), `%T` timestamp (ms), `%K`/`%S` key/value size, `%%` a percent
/// sign, `\n` `\t` `\\` escapes; anything else is literal. `creek consume --format` renders
/// records with it; `creek produce --format` reads lines with it (a field runs up to the
/// literal that follows it, the last one to the end of the line).
struct RecordTemplate {
    enum Part: Equatable {
        case literal(String)
        case field(Character)
    }

    static let fields: Set<Character> = ["t", "p", "o", "k", "v", "h", "T", "K", "S"]
    let parts: [Part]

    init(_ text: String) throws {
        var parts: [Part] = []
        var literal = ""
        var iterator = text.makeIterator()
        while let character = iterator.next() {
            switch character {
            case "%":
                guard let next = iterator.next() else { throw ValidationError("--format ends with a lone %") }
                if next == "%" {
                    literal.append("%")
                } else if Self.fields.contains(next) {
                    if !literal.isEmpty { parts.append(.literal(literal)) }
                    literal = ""
                    parts.append(.field(next))
                } else {
                    throw ValidationError("--format: unknown field %\(next) (known: %t %p %o %k %v %h %T %K %S)")
                }
            case "\\":
                switch iterator.next() {
                case "n": literal.append("\n")
                case "t": literal.append("\t")
                case "\\": literal.append("\\")
                case let other?: literal.append("\\"); literal.append(other)
                case nil: literal.append("\\")
                }
            default:
                literal.append(character)
            }
        }
        if !literal.isEmpty { parts.append(.literal(literal)) }
        self.parts = parts
    }

    /// The record as this template shows it (key and values as UTF-8 text).
    func render(_ record: ConsumerRecord) -> String {
        var text = ""
        for part in parts {
            switch part {
            case .literal(let literal): text += literal
            case .field("t"): text += record.topic
            case .field("p"): text += String(record.partition)
            case .field("o"): text += String(record.offset)
            case .field("k"): text += record.key.map { String(decoding: $0, as: UTF8.self) } ?? ""
            case .field("v"): text += record.value.map { String(decoding: $0, as: UTF8.self) } ?? ""
            case .field("h"): text += record.headers.map { "\($0.key)=\($0.value.map { String(decoding: $0, as: UTF8.self) } ?? "")" }.joined(separator: ",")
            case .field("T"): text += String(record.timestamp)
            case .field("K"): text += String(record.keyBuffer?.readableBytes ?? -1)
            case .field("S"): text += String(record.valueBuffer?.readableBytes ?? -1)
            case .field: break
            }
        }
        return text
    }

    /// The fields of one input line, by field letter; nil when a literal is missing.
    func parse(_ line: Substring) -> [Character: Substring]? {
        var fields: [Character: Substring] = [:]
        var rest = line
        var index = parts.startIndex
        while index < parts.endIndex {
            switch parts[index] {
            case .literal(let literal):
                guard rest.hasPrefix(literal) else { return nil }
                rest = rest.dropFirst(literal.count)
            case .field(let name):
                let next = index + 1
                if next < parts.endIndex, case .literal(let literal) = parts[next] {
                    guard let range = rest.firstRange(of: literal) else { return nil }
                    fields[name] = rest[..<range.lowerBound]
                    rest = rest[range.lowerBound...]
                } else {
                    fields[name] = rest
                    rest = rest[rest.endIndex...]
                }
            }
            index += 1
        }
        return rest.isEmpty ? fields : nil
    }
}
