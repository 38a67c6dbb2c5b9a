import ArgumentParser
import CreekClient
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// Options every client command shares: where the brokers are.
struct ClientOptions: ParsableArguments {
    @Option(help: "Brokers, HOST:PORT[,HOST:PORT…] (default: $CREEK_BROKERS, then 127.0.0.1:9092).")
    var brokers: String?

    @Option(help: "A properties file of client security settings, as Kafka's tools take: security.protocol, sasl.mechanism, sasl.username, sasl.password (or sasl.jaas.config), ssl.ca.location, ssl.certificate.location, ssl.key.location, ssl.endpoint.identification.algorithm (default: $CREEK_COMMAND_CONFIG).")
    var commandConfig: String?

    var bootstrapServers: [String] {
        let text = brokers ?? ProcessInfo.processInfo.environment["CREEK_BROKERS"] ?? "127.0.0.1:9092"
        return text.split(separator: ",").map { String($0.filter { $0 != " " }) }
    }

    /// The security settings from `--command-config` (plaintext without one).
    func security() throws -> ClientSecurity {
        guard let path = commandConfig ?? ProcessInfo.processInfo.environment["CREEK_COMMAND_CONFIG"] else { return ClientSecurity() }
        let text: String
        do {
            text = try String(contentsOfFile: path, encoding: .utf8)
        } catch {
            throw ValidationError("cannot read --command-config \(path): \(error)")
        }
        return try ClientSecurity(properties: text)
    }

    /// The client settings: brokers and security.
    func clientConfig() throws -> ClientConfig {
        var config = ClientConfig(bootstrapServers: bootstrapServers)
        config.security = try security()
        return config
    }
}

extension ClientSecurity {
    /// Reads Kafka/librdkafka-named settings from a properties file.
    init(properties text: String) throws {
        self.init()
        for rawLine in text.split(whereSeparator: \.isNewline) {
            let line = rawLine.trimmingCharacters(in: .whitespaces)
            guard !line.isEmpty, !line.hasPrefix("#"), !line.hasPrefix("!"), let equals = line.firstIndex(of: "=") else { continue }
            let name = line[..<equals].trimmingCharacters(in: .whitespaces)
            let value = line[line.index(after: equals)...].trimmingCharacters(in: .whitespaces)
            switch name {
            case "security.protocol":
                guard let parsed = SecurityProtocol(rawValue: value.uppercased()) else {
                    throw ValidationError("security.protocol must be PLAINTEXT, SSL, SASL_PLAINTEXT or SASL_SSL")
                }
                securityProtocol = parsed
            case "sasl.mechanism", "sasl.mechanisms": saslMechanism = value.uppercased()
            case "sasl.username": username = value
            case "sasl.password": password = value
            case "sasl.jaas.config":
                username = Self.quoted("username", in: value) ?? username
                password = Self.quoted("password", in: value) ?? password
            case "ssl.ca.location", "ssl.truststore.location": caFile = value
            case "ssl.certificate.location": certificateFile = value
            case "ssl.key.location": keyFile = value
            case "ssl.endpoint.identification.algorithm": verifyHostname = !value.isEmpty && value.lowercased() != "none"
            default: continue
            }
        }
    }

    /// `key="value"` inside a JAAS line.
    private static func quoted(_ key: String, in text: String) -> String? {
        guard let start = text.range(of: "\(key)=\"") else { return nil }
        let rest = text[start.upperBound...]
        guard let end = rest.firstIndex(of: "\"") else { return nil }
        return String(rest[..<end])
    }
}

/// A record as the JSON-lines format of `creek produce` and `creek consume` carries it:
/// key, value and header values in base64 (binary-safe), null for null.
struct JSONRecord: Codable {
    var topic: String?
    var partition: Int32?
    var offset: Int64?
    var timestamp: Int64?
    var key: String?
    var value: String?
    var headers: [[String?]]?

    static func encode(_ bytes: [UInt8]?) -> String? { bytes.map { Data($0).base64EncodedString() } }

    static func decode(_ text: String?) throws -> [UInt8]? {
        guard let text else { return nil }
        guard let data = Data(base64Encoded: text) else { throw ValidationError("not base64: \(text)") }
        return Array(data)
    }
}
