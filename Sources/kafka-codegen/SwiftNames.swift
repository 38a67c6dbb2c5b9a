/// Swift spellings of schema names.
enum SwiftNames {
    static let keywords: Set<String> = [
        "associatedtype", "class", "deinit", "enum", "extension", "fileprivate", "func", "import", "init",
        "inout", "internal", "let", "open", "operator", "private", "protocol", "public", "rethrows", "static",
        "struct", "subscript", "typealias", "var", "break", "case", "continue", "default", "defer", "do",
        "else", "fallthrough", "for", "guard", "if", "in", "repeat", "return", "switch", "where", "while",
        "as", "catch", "false", "is", "nil", "super", "self", "Self", "throw", "throws", "true", "try", "Any",
    ]

    /// `ErrorCode` -> `errorCode`, escaped with backticks when it is a keyword.
    static func property(_ schemaName: String) -> String {
        guard let first = schemaName.first else { return schemaName }
        let name = first.lowercased() + schemaName.dropFirst()
        return keywords.contains(name) ? "`\(name)`" : name
    }

    /// `FetchRequest` -> `fetch` for the ApiKey enum.
    static func apiKeyCase(_ requestName: String) -> String {
        let base = requestName.hasSuffix("Request") ? String(requestName.dropLast("Request".count)) : requestName
        return property(base)
    }

    /// A `///` doc comment block at the given indentation.
    static func docComment(_ text: String?, indent: String) -> String {
        guard let text, !text.isEmpty else { return "" }
        return text.split(separator: "\n").map { "\(indent)/// \($0.trimmingCharacters(in: .whitespaces))\n" }.joined()
    }

    static func stringLiteral(_ text: String) -> String {
        var escaped = ""
        for character in text {
            switch character {
            case "\\": escaped += "\\\\"
            case "\"": escaped += "\\\""
            case "\n": escaped += "\\n"
            default: escaped.append(character)
            }
        }
        return "\"\(escaped)\""
    }
}
