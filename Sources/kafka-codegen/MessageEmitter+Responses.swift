/// The response-only members: `forEachErrorCode` (metrics count error codes through it)
/// and `rejection(errorCode:message:)` (answers to APIs a server does not serve).
extension MessageEmitter {
    /// `rejection(errorCode:message:)`: an empty response carrying only a top-level error
    /// code (and message, where the schema has one); nil for responses without one.
    func emitRejection(fields: [FieldSpec], indent: String) -> String {
        let i1 = indent + "    "
        let hasCode = fields.contains { $0.name == "ErrorCode" && $0.type == .int16 }
        let messageField = fields.first { $0.name == "ErrorMessage" && $0.type == .string }
        var out = "\(indent)/// An empty response whose top-level error code is `errorCode`, or nil when the schema has none.\n"
        out += "\(indent)public static func rejection(errorCode: Int16, message: String?) -> Self? {\n"
        if hasCode {
            out += "\(i1)var value = Self()\n\(i1)value.errorCode = errorCode\n"
            if let messageField { out += "\(i1)value.errorMessage = message\(messageField.isOptional ? "" : " ?? \"\"")\n" }
            out += "\(i1)return value\n"
        } else {
            out += "\(i1)nil\n"
        }
        return out + "\(indent)}\n"
    }

    /// `forEachErrorCode`: every int16 field named `…ErrorCode`, then the nested structs.
    func emitErrorCodeVisitor(fields: [FieldSpec], indent: String) -> String {
        let i1 = indent + "    "
        var body = ""
        for field in fields {
            let property = SwiftNames.property(field.name)
            let access = field.isOptional ? "\(property)?" : property
            switch field.type {
            case .int16 where field.name.hasSuffix("ErrorCode"):
                body += field.isOptional ? "\(i1)if let \(property) { body(\(property)) }\n" : "\(i1)body(\(property))\n"
            case .structure:
                body += "\(i1)\(access).forEachErrorCode(body)\n"
            case .array(.structure):
                body += "\(i1)for element in \(property)\(field.isOptional ? " ?? []" : "") { element.forEachErrorCode(body) }\n"
            default:
                continue
            }
        }
        let parameter = body.isEmpty ? "_" : "_ body"
        var out = "\(indent)/// Calls `body` with every error code in this value, nested ones included.\n"
        out += "\(indent)public func forEachErrorCode(\(parameter): (Int16) -> Void) {\n\(body)\(indent)}\n"
        return out
    }
}
