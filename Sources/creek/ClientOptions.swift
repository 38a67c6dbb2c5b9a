import ArgumentParser
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// Options every client command shares: where the brokers are.
struct ClientOptions: ParsableArguments {
    @Option(help: "Brokers, HOST:PORT[,HOST:PORT…] (default: $CREEK_BROKERS, then 127.0.0.1:9092).")
    var brokers: String?

    var bootstrapServers: [String] {
        let text = brokers ?? ProcessInfo.processInfo.environment["CREEK_BROKERS"] ?? "127.0.0.1:9092"
        return text.split(separator: ",").map { String($0.filter { $0 != " " }) }
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
