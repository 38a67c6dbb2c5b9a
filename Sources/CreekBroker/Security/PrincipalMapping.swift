import Foundation

/// `ssl.principal.mapping.rules`: how a client certificate's subject (RFC 2253, as Kafka
/// writes it: `CN=alice,OU=eng,O=Example`) becomes the user name of its principal. Rules are
/// tried in order; the first whose pattern matches the whole subject gives the name:
/// `RULE:PATTERN/REPLACEMENT/` with `$1`… for groups, an optional `L` or `U` after the last
/// slash to lower- or upper-case it; `DEFAULT` keeps the subject as it is. No rule matching
/// keeps the subject too.
///
/// Invariant: every rule's pattern compiled when the rules were parsed.
public struct PrincipalMapping: Sendable {
    enum Rule: @unchecked Sendable {
        case keep
        case replace(NSRegularExpression, template: String, caseChange: Character?)
    }

    let rules: [Rule]

    public init(parsing text: String) throws(ConfigError) {
        func refuse(_ reason: String) -> ConfigError { ConfigError(name: "ssl.principal.mapping.rules", value: text, reason: reason) }
        var rules: [Rule] = []
        var rest = Substring(text)
        while true {
            rest = rest.drop { $0 == " " || $0 == "," || $0 == "\n" || $0 == "\t" }
            if rest.isEmpty { break }
            if rest.hasPrefix("DEFAULT") {
                rules.append(.keep)
                rest = rest.dropFirst("DEFAULT".count)
                continue
            }
            guard rest.hasPrefix("RULE:") else { throw refuse("expected RULE:PATTERN/REPLACEMENT/[LU] or DEFAULT") }
            rest = rest.dropFirst("RULE:".count)
            guard let pattern = Self.readUntilSlash(&rest), let template = Self.readUntilSlash(&rest) else {
                throw refuse("a RULE needs PATTERN/REPLACEMENT/")
            }
            var caseChange: Character?
            if let first = rest.first, first == "L" || first == "U" {
                caseChange = first
                rest = rest.dropFirst()
            }
            guard let regex = try? NSRegularExpression(pattern: pattern) else { throw refuse("pattern \(pattern) is not a regular expression") }
            rules.append(.replace(regex, template: template, caseChange: caseChange))
        }
        self.rules = rules.isEmpty ? [.keep] : rules
    }

    /// Reads up to an unescaped slash (dropped); `\/` stands for a slash.
    private static func readUntilSlash(_ rest: inout Substring) -> String? {
        var result = ""
        var escaped = false
        while let character = rest.first {
            rest = rest.dropFirst()
            if escaped {
                result.append(character == "/" ? "/" : "\\\(character)")
                escaped = false
            } else if character == "\\" {
                escaped = true
            } else if character == "/" {
                return result
            } else {
                result.append(character)
            }
        }
        return nil
    }

    /// The user name for a certificate subject.
    public func name(for subject: String) -> String {
        let whole = NSRange(subject.startIndex..., in: subject)
        for rule in rules {
            switch rule {
            case .keep:
                return subject
            case .replace(let regex, let template, let caseChange):
                guard let match = regex.firstMatch(in: subject, range: whole), match.range == whole else { continue }
                let name = regex.replacementString(for: match, in: subject, offset: 0, template: template)
                switch caseChange {
                case "L": return name.lowercased()
                case "U": return name.uppercased()
                default: return name
                }
            }
        }
        return subject
    }
}
