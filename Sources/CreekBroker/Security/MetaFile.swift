import CreekStorage
import Foundation

/// The small JSON files under the data directory's `meta/` (credentials, ACLs, quotas):
/// read whole at start, rewritten whole (atomically, fsynced, directory included) on change.
enum MetaFile {
    /// The decoded file, nil when it does not exist; a file that does not decode is corrupt.
    static func load<Value: Decodable>(_ type: Value.Type, path: String, files: any FileOperations, what: String) throws(StorageError) -> Value? {
        guard files.exists(path) else { return nil }
        let bytes = try files.readAll(path)
        guard let value = try? JSONDecoder().decode(Value.self, from: Data(bytes)) else {
            throw StorageError.corruptCatalog(path: path, reason: "not \(what)")
        }
        return value
    }

    static func save<Value: Encodable>(_ value: Value, path: String, files: any FileOperations) throws(StorageError) {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .prettyPrinted]
        guard let data = try? encoder.encode(value) else {
            throw StorageError.corruptCatalog(path: path, reason: "could not encode")
        }
        try files.makeDirectoryDurably(type(of: files).parent(of: path))
        try files.writeAtomically(Array(data), to: path)
    }
}
