import CreekStorage
import Foundation

/// The JSON format of the small files under the data directory's `meta/` (credentials,
/// ACLs, quotas); `MetaDocument` reads and writes them.
enum MetaFile {
    /// The value in `bytes`; bytes that do not decode are a corrupt file.
    static func decode<Value: Decodable>(_ type: Value.Type, _ bytes: [UInt8], path: String, what: String) throws(StorageError) -> Value {
        guard let value = try? JSONDecoder().decode(Value.self, from: Data(bytes)) else {
            throw StorageError.corruptCatalog(path: path, reason: "not \(what)")
        }
        return value
    }

    static func encode<Value: Encodable>(_ value: Value, path: String) throws(StorageError) -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .prettyPrinted]
        guard let data = try? encoder.encode(value) else {
            throw StorageError.corruptCatalog(path: path, reason: "could not encode")
        }
        return Array(data)
    }
}
