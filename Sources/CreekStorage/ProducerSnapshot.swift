#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// A producer-state snapshot file, `<offset>.snapshot` in the partition directory: the
/// `ProducerStateTable` as of that offset, as JSON, written atomically at segment roll.
/// Unreadable snapshots are ignored (the state is then rebuilt from batch headers).
enum ProducerSnapshot {
    static func save(_ producers: [Int64: ProducerStateTable.Entry], path: String, files: any FileOperations) throws(StorageError) {
        let encoded = Dictionary(uniqueKeysWithValues: producers.map { (String($0.key), $0.value) })
        guard let data = try? JSONEncoder().encode(encoded) else {
            throw .corruptCatalog(path: path, reason: "cannot encode producer state")
        }
        try files.writeAtomically(Array(data), to: path)
    }

    static func load(path: String, files: any FileOperations) -> [Int64: ProducerStateTable.Entry]? {
        guard let bytes = try? files.readAll(path),
              let decoded = try? JSONDecoder().decode([String: ProducerStateTable.Entry].self, from: Data(bytes))
        else { return nil }
        var result: [Int64: ProducerStateTable.Entry] = [:]
        for (key, value) in decoded {
            guard let id = Int64(key) else { return nil }
            result[id] = value
        }
        return result
    }
}
