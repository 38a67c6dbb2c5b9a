import Foundation

/// An inclusive version range from a schema ("3", "1-4", "5+", "none").
/// `none` is represented by `low > high`.
struct VersionRange: Equatable {
    var low: Int
    var high: Int

    static let none = VersionRange(low: 1, high: 0)
    static let openEnd = Int(Int16.max)

    var isEmpty: Bool { low > high }

    init(low: Int, high: Int) {
        self.low = low
        self.high = high
    }

    init(_ text: String) throws {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        if trimmed == "none" {
            self = .none
        } else if trimmed.hasSuffix("+"), let low = Int(trimmed.dropLast()) {
            self.init(low: low, high: VersionRange.openEnd)
        } else if let dash = trimmed.firstIndex(of: "-"),
                  let low = Int(trimmed[..<dash]),
                  let high = Int(trimmed[trimmed.index(after: dash)...]) {
            self.init(low: low, high: high)
        } else if let single = Int(trimmed) {
            self.init(low: single, high: single)
        } else {
            throw SchemaError("bad version range '\(text)'")
        }
    }

    func intersection(_ other: VersionRange) -> VersionRange {
        let result = VersionRange(low: max(low, other.low), high: min(high, other.high))
        return result.isEmpty ? .none : result
    }

    func contains(_ version: Int) -> Bool { version >= low && version <= high }

    /// `self` minus `other` when the result is one range (schemas only need that).
    func subtracting(_ other: VersionRange) throws -> VersionRange {
        if other.isEmpty || intersection(other).isEmpty { return self }
        if other.low <= low && other.high >= high { return .none }
        if other.low <= low { return VersionRange(low: other.high + 1, high: high) }
        if other.high >= high { return VersionRange(low: low, high: other.low - 1) }
        throw SchemaError("range \(self) minus \(other) is not a single range")
    }

    /// A Swift boolean expression over `version` that is true inside this range,
    /// given that `version` is already known to lie in `within`.
    func condition(within: VersionRange) -> String {
        let effective = intersection(within)
        if effective.isEmpty { return "false" }
        var parts: [String] = []
        if effective.low > within.low { parts.append("version >= \(effective.low)") }
        if effective.high < within.high { parts.append("version <= \(effective.high)") }
        return parts.isEmpty ? "true" : parts.joined(separator: " && ")
    }
}

struct SchemaError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

indirect enum FieldType: Equatable {
    case bool, int8, int16, int32, int64, uint16, uint32, float64, uuid, string, bytes, records
    case array(FieldType)
    case structure(String)

    init(_ text: String) throws {
        if text.hasPrefix("[]") {
            self = .array(try FieldType(String(text.dropFirst(2))))
            return
        }
        switch text {
        case "bool": self = .bool
        case "int8": self = .int8
        case "int16": self = .int16
        case "int32": self = .int32
        case "int64": self = .int64
        case "uint16": self = .uint16
        case "uint32": self = .uint32
        case "float64": self = .float64
        case "uuid": self = .uuid
        case "string": self = .string
        case "bytes": self = .bytes
        case "records": self = .records
        default:
            guard let first = text.first, first.isUppercase else { throw SchemaError("unknown type \(text)") }
            self = .structure(text)
        }
    }

    var structName: String? {
        switch self {
        case .structure(let name): return name
        case .array(let element): return element.structName
        default: return nil
        }
    }
}

struct FieldSpec {
    var name: String
    var type: FieldType
    var versions: VersionRange
    var nullableVersions: VersionRange
    var taggedVersions: VersionRange
    var tag: Int?
    var defaultText: String?
    var ignorable: Bool
    var about: String?
    var flexibleOverride: VersionRange?
    var inlineFields: [FieldSpec]?

    init(json: [String: Any]) throws {
        guard let name = json["name"] as? String, let type = json["type"] as? String else {
            throw SchemaError("field without name or type: \(json)")
        }
        self.name = name
        self.type = try FieldType(type)
        guard let versions = json["versions"] as? String else { throw SchemaError("field \(name) has no versions") }
        self.versions = try VersionRange(versions)
        self.nullableVersions = try (json["nullableVersions"] as? String).map(VersionRange.init) ?? .none
        self.taggedVersions = try (json["taggedVersions"] as? String).map(VersionRange.init) ?? .none
        self.tag = json["tag"] as? Int ?? (json["tag"] as? String).flatMap { Int($0) }
        if let text = json["default"] as? String {
            self.defaultText = text
        } else if let number = json["default"] as? Int {
            self.defaultText = String(number)
        } else if let flag = json["default"] as? Bool {
            self.defaultText = flag ? "true" : "false"
        } else {
            self.defaultText = nil
        }
        self.ignorable = json["ignorable"] as? Bool ?? false
        self.about = json["about"] as? String
        self.flexibleOverride = try (json["flexibleVersions"] as? String).map(VersionRange.init)
        if let fields = json["fields"] as? [[String: Any]] {
            self.inlineFields = try fields.map(FieldSpec.init(json:))
        }
        if !taggedVersions.isEmpty && tag == nil { throw SchemaError("tagged field \(name) without tag") }
    }

    /// True when the Swift property is optional (the field is nullable in some version).
    var isOptional: Bool { !nullableVersions.intersection(versions).isEmpty }

    /// Versions in which the field is a regular (untagged) field.
    func regularVersions() throws -> VersionRange { try versions.subtracting(taggedVersions) }
}

struct MessageSpec {
    var fileName: String
    var apiKey: Int?
    var kind: String
    var name: String
    var validVersions: VersionRange
    var flexibleVersions: VersionRange
    var fields: [FieldSpec]
    var commonStructs: [String: [FieldSpec]]
    var commonStructOrder: [String]
    var listeners: [String]
    var latestVersionUnstable: Bool

    init(fileName: String, text: String) throws {
        let stripped = text.split(separator: "\n", omittingEmptySubsequences: false)
            .filter { !$0.trimmingCharacters(in: .whitespaces).hasPrefix("//") }
            .joined(separator: "\n")
        guard let json = try JSONSerialization.jsonObject(with: Data(stripped.utf8)) as? [String: Any] else {
            throw SchemaError("\(fileName): not a JSON object")
        }
        self.fileName = fileName
        self.apiKey = json["apiKey"] as? Int
        self.kind = json["type"] as? String ?? ""
        guard let name = json["name"] as? String else { throw SchemaError("\(fileName): no name") }
        self.name = name
        self.validVersions = try VersionRange(json["validVersions"] as? String ?? "none")
        self.flexibleVersions = try VersionRange(json["flexibleVersions"] as? String ?? "none")
        self.fields = try (json["fields"] as? [[String: Any]] ?? []).map(FieldSpec.init(json:))
        var common: [String: [FieldSpec]] = [:]
        var order: [String] = []
        for entry in json["commonStructs"] as? [[String: Any]] ?? [] {
            guard let structName = entry["name"] as? String else { throw SchemaError("\(fileName): unnamed common struct") }
            common[structName] = try (entry["fields"] as? [[String: Any]] ?? []).map(FieldSpec.init(json:))
            order.append(structName)
        }
        self.commonStructs = common
        self.commonStructOrder = order
        self.listeners = json["listeners"] as? [String] ?? []
        self.latestVersionUnstable = json["latestVersionUnstable"] as? Bool ?? false
    }

    /// Every struct type used in the message, in first-use order, each defined once.
    func structDefinitions() throws -> [(name: String, fields: [FieldSpec])] {
        var result: [(name: String, fields: [FieldSpec])] = []
        var seen: [String: [String]] = [:]
        func visit(_ fields: [FieldSpec]) throws {
            for field in fields {
                guard let structName = field.type.structName else { continue }
                let definition: [FieldSpec]
                if let inline = field.inlineFields {
                    definition = inline
                } else if let common = commonStructs[structName] {
                    definition = common
                } else {
                    throw SchemaError("\(fileName): struct \(structName) has no definition")
                }
                let signature = definition.map { "\($0.name):\($0.type)" }
                if let existing = seen[structName] {
                    if existing != signature { throw SchemaError("\(fileName): struct \(structName) defined twice differently") }
                    continue
                }
                seen[structName] = signature
                result.append((structName, definition))
                try visit(definition)
            }
        }
        try visit(fields)
        return result
    }
}
