import CreekStorage
import Foundation
import NIOConcurrencyHelpers

/// One of the small `meta/` documents (SCRAM credentials, ACLs, client quotas) as its store
/// holds it: the value in memory, the file under the data directory rewritten whole on every
/// change (atomically, fsynced) before the change takes effect, changes one at a time. In a
/// cluster the document is also in the engine's shared documents: a change is saved there
/// first, over the version this broker last saw (on a conflict it reloads the newer copy and
/// applies the change again), and `refresh` adopts what other brokers saved.
///
/// Invariant: the value in memory is the one last saved to the file (and, shared, to the
/// shared documents), or adopted from them.
final class MetaDocument<Value: Sendable>: Sendable {
    /// The name in the shared documents.
    let name: String
    private let path: String
    private let files: any FileOperations
    private let encode: @Sendable (Value) throws(StorageError) -> [UInt8]
    private let decode: @Sendable ([UInt8]) throws(StorageError) -> Value
    private let didChange: @Sendable (Value) -> Void
    private let state: NIOLockedValueBox<(value: Value, version: Int64)>
    private let shared = NIOLockedValueBox<(any SharedDocuments)?>(nil)
    private let gate = ChangeGate()

    /// A document holding `initial` (nothing is read; the file is written on the first change).
    init(
        name: String, path: String, files: any FileOperations, initial: Value,
        encode: @escaping @Sendable (Value) throws(StorageError) -> [UInt8],
        decode: @escaping @Sendable ([UInt8]) throws(StorageError) -> Value,
        didChange: @escaping @Sendable (Value) -> Void = { _ in }
    ) {
        self.name = name
        self.path = path
        self.files = files
        self.encode = encode
        self.decode = decode
        self.didChange = didChange
        state = NIOLockedValueBox((initial, 0))
        didChange(initial)
    }

    /// The document as its file holds it (`empty` when there is no file yet).
    static func reading(
        name: String, path: String, files: any FileOperations, empty: Value,
        encode: @escaping @Sendable (Value) throws(StorageError) -> [UInt8],
        decode: @escaping @Sendable ([UInt8]) throws(StorageError) -> Value,
        didChange: @escaping @Sendable (Value) -> Void = { _ in }
    ) throws(StorageError) -> MetaDocument {
        let initial = files.exists(path) ? try decode(try files.readAll(path)) : empty
        return MetaDocument(name: name, path: path, files: files, initial: initial, encode: encode, decode: decode, didChange: didChange)
    }

    var value: Value { state.withLockedValue { $0.value } }

    /// Applies `edit` and saves the result; nothing changes if saving fails.
    @discardableResult
    func change<Result>(_ edit: (inout Value) throws(StorageError) -> Result) async throws(StorageError) -> Result {
        await gate.acquire()
        do {
            let result = try await changeHoldingGate(edit)
            await gate.release()
            return result
        } catch {
            await gate.release()
            throw error
        }
    }

    /// `change` before anything else runs (startup, alone).
    func changeAtStart<Result>(_ edit: (inout Value) throws(StorageError) -> Result) throws(StorageError) -> Result {
        var updated = value
        let result = try edit(&updated)
        try save(updated, version: state.withLockedValue { $0.version })
        return result
    }

    private func changeHoldingGate<Result>(_ edit: (inout Value) throws(StorageError) -> Result) async throws(StorageError) -> Result {
        guard let documents = shared.withLockedValue({ $0 }) else {
            return try changeAtStart(edit)
        }
        for _ in 0..<5 {
            var updated = value
            let result = try edit(&updated)
            let expected = state.withLockedValue { $0.version }
            if let version = try await documents.save(name, try encode(updated), expected: expected) {
                try save(updated, version: version)
                return result
            }
            // Another broker saved first: take its copy and apply the change to that.
            try await refresh(from: documents)
        }
        throw .database("\(name) keeps changing on other brokers; try again")
    }

    /// Shares the document: adopts the cluster's copy, or, when no broker saved one yet,
    /// saves this broker's (a single broker joining a cluster brings its users along).
    func share(with documents: any SharedDocuments) async throws(StorageError) {
        shared.withLockedValue { $0 = documents }
        await gate.acquire()
        do {
            if try await documents.load(name) == nil, let version = try await documents.save(name, try encode(value), expected: 0) {
                state.withLockedValue { $0.version = version }
            } else {
                try await refresh(from: documents)
            }
        } catch {
            await gate.release()
            throw error
        }
        await gate.release()
    }

    /// Adopts the shared copy when its version is past the one this broker has.
    func refresh(seen version: Int64?) async throws(StorageError) {
        guard let documents = shared.withLockedValue({ $0 }), let version,
              version > state.withLockedValue({ $0.version }) else { return }
        await gate.acquire()
        do {
            try await refresh(from: documents)
        } catch {
            await gate.release()
            throw error
        }
        await gate.release()
    }

    private func refresh(from documents: any SharedDocuments) async throws(StorageError) {
        guard let (version, bytes) = try await documents.load(name), version > state.withLockedValue({ $0.version }) else { return }
        try save(try decode(bytes), version: version)
    }

    private func save(_ updated: Value, version: Int64) throws(StorageError) {
        try files.makeDirectoryDurably(type(of: files).parent(of: path))
        try files.writeAtomically(try encode(updated), to: path)
        state.withLockedValue { $0 = (updated, version) }
        didChange(updated)
    }
}

extension MetaDocument where Value: Codable {
    /// A document whose file is the value's JSON (sorted keys, indented), starting empty.
    static func json(name: String, path: String, files: any FileOperations, empty: Value, what: String) -> MetaDocument {
        MetaDocument(
            name: name, path: path, files: files, initial: empty,
            encode: { value throws(StorageError) in try MetaFile.encode(value, path: path) },
            decode: { bytes throws(StorageError) in try MetaFile.decode(Value.self, bytes, path: path, what: what) }
        )
    }

    /// The same, read from its file.
    static func readingJSON(name: String, path: String, files: any FileOperations, empty: Value, what: String) throws(StorageError) -> MetaDocument {
        try reading(
            name: name, path: path, files: files, empty: empty,
            encode: { value throws(StorageError) in try MetaFile.encode(value, path: path) },
            decode: { bytes throws(StorageError) in try MetaFile.decode(Value.self, bytes, path: path, what: what) }
        )
    }
}
