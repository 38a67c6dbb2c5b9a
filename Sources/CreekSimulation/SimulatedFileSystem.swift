public import CreekStorage
import NIOConcurrencyHelpers
import NIOCore
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// An in-memory file system that remembers, per file and per directory entry, what is
/// durable and what is only written, so tests can crash the storage layer at any point.
///
/// - A file's bytes become durable only through `StorageFile.sync`; a directory's entries
///   (created, renamed, removed files and subdirectories) only through `syncDirectory`.
/// - `crash()` drops everything not durable; with a `tearing` generator, each file keeps
///   a random prefix of its unsynced writes, the last of them cut at a random byte.
/// - `faults` can fail any operation with an errno; `capacity` makes writes beyond it
///   fail with ENOSPC. A failed fsync loses the file's unsynced writes for good: later
///   syncs of that file report success and persist nothing (Linux may drop dirty pages).
///
/// Handles opened before a crash fail with EIO afterwards. Thread-safe (one lock).
public final class SimulatedFileSystem: FileOperations, @unchecked Sendable {
    /// The kinds of operation a fault can target.
    public enum Operation: Sendable, Hashable {
        case open, write, read, truncate, sync, makeDirectory, remove, rename, syncDirectory
    }

    enum Entry: Hashable {
        case file(Int)
        case directory(Int)
    }

    enum PendingChange {
        case write(position: Int, bytes: [UInt8])
        case truncate(Int)
    }

    struct Inode {
        var data: [UInt8] = []
        var durable: [UInt8] = []
        var pending: [PendingChange] = []
        /// Set by a failed fsync: nothing written to this file is ever durable again.
        var poisoned = false
    }

    struct State {
        var files: [Int: Inode] = [:]
        var directories: [Int: [String: Entry]] = [0: [:]]
        var durableDirectories: [Int: [String: Entry]] = [0: [:]]
        var nextId = 1
        var generation = 0
        var faults: (@Sendable (Operation, String, Int) -> Int32?)?
        var capacity: Int?
        var operations = 0
    }

    let state = NIOLockedValueBox(State())

    public init() {}

    // MARK: - Test controls

    /// Called before every operation with its kind, path and sequence number (see
    /// `operationCount`); a non-nil errno fails it.
    public func setFaults(_ faults: (@Sendable (Operation, String, Int) -> Int32?)?) {
        state.withLockedValue { $0.faults = faults }
    }

    /// Total bytes the files may hold; a write past it fails with ENOSPC. nil: unlimited.
    public func setCapacity(_ bytes: Int?) {
        state.withLockedValue { $0.capacity = bytes }
    }

    /// How many operations ran (a crash point can be chosen among them).
    public var operationCount: Int { state.withLockedValue { $0.operations } }

    /// Bytes held by all files now.
    public var usedBytes: Int { state.withLockedValue { $0.files.values.reduce(0) { $0 + $1.data.count } } }

    /// Loses everything that is not durable, as a power loss would. With `tearing`, a
    /// random prefix of each file's unsynced writes survives, the last one possibly torn.
    public func crash<R: RandomNumberGenerator>(tearing random: inout R) {
        crash(tear: { count in Int.random(in: 0...count, using: &random) }, cut: { size in Int.random(in: 0...size, using: &random) })
    }

    /// Loses everything that is not durable (no torn writes).
    public func crash() {
        crash(tear: { _ in 0 }, cut: { $0 })
    }

    private func crash(tear: (Int) -> Int, cut: (Int) -> Int) {
        state.withLockedValue { state in
            state.generation += 1
            state.faults = nil
            for id in Array(state.files.keys) {
                guard var inode = state.files[id] else { continue }
                var survivor = inode.durable
                if !inode.poisoned && !inode.pending.isEmpty {
                    let kept = tear(inode.pending.count)
                    for (index, change) in inode.pending.prefix(kept).enumerated() {
                        switch change {
                        case .write(let position, let bytes):
                            let isLast = index == kept - 1
                            let length = isLast ? cut(bytes.count) : bytes.count
                            Self.apply(.write(position: position, bytes: Array(bytes.prefix(length))), to: &survivor)
                        case .truncate:
                            Self.apply(change, to: &survivor)
                        }
                    }
                }
                inode.data = survivor
                inode.durable = survivor
                inode.pending = []
                inode.poisoned = false
                state.files[id] = inode
            }
            // Directory contents revert to their durable entries; unreachable ones vanish.
            var rebuilt: [Int: [String: Entry]] = [:]
            var queue = [0]
            while let id = queue.popLast() {
                let entries = state.durableDirectories[id] ?? [:]
                rebuilt[id] = entries
                for entry in entries.values { if case .directory(let child) = entry { queue.append(child) } }
            }
            state.directories = rebuilt
            state.durableDirectories = rebuilt
            var live = Set<Int>()
            for entries in rebuilt.values { for entry in entries.values { if case .file(let id) = entry { live.insert(id) } } }
            state.files = state.files.filter { live.contains($0.key) }
        }
    }

    // MARK: - FileOperations

    public func open(_ path: String, create: Bool) throws(StorageError) -> any StorageFile {
        let result: Result<(Int, Int), StorageError> = state.withLockedValue { state in
            if let code = Self.fault(&state, .open, path) { return .failure(.system(call: "open", path: path, errno: code)) }
            guard let (parent, name) = Self.resolveParent(state, path) else {
                return .failure(.system(call: "open", path: path, errno: ENOENT))
            }
            switch state.directories[parent]?[name] {
            case .file(let id):
                return .success((id, state.generation))
            case .directory:
                return .failure(.system(call: "open", path: path, errno: EISDIR))
            case nil:
                guard create else { return .failure(.system(call: "open", path: path, errno: ENOENT)) }
                let id = state.nextId
                state.nextId += 1
                state.files[id] = Inode()
                state.directories[parent, default: [:]][name] = .file(id)
                return .success((id, state.generation))
            }
        }
        let (id, generation) = try result.get()
        return SimulatedFile(system: self, id: id, generation: generation, path: path)
    }

    public func makeDirectory(_ path: String) throws(StorageError) {
        try mutate(.makeDirectory, path, call: "mkdir") { state throws(StorageError) in
            guard let (parent, name) = Self.resolveParent(state, path) else { throw .system(call: "mkdir", path: path, errno: ENOENT) }
            switch state.directories[parent]?[name] {
            case .directory: return
            case .file: throw .system(call: "mkdir", path: path, errno: EEXIST)
            case nil:
                let id = state.nextId
                state.nextId += 1
                state.directories[id] = [:]
                state.directories[parent, default: [:]][name] = .directory(id)
            }
        }
    }

    public func exists(_ path: String) -> Bool {
        state.withLockedValue { Self.resolve($0, path) != nil }
    }

    public func isDirectory(_ path: String) -> Bool {
        state.withLockedValue { state in
            if case .directory = Self.resolve(state, path) { return true }
            return false
        }
    }

    public func remove(_ path: String) throws(StorageError) {
        try mutate(.remove, path, call: "unlink") { state throws(StorageError) in
            guard let (parent, name) = Self.resolveParent(state, path) else { return }
            switch state.directories[parent]?[name] {
            case .file: state.directories[parent]?[name] = nil
            case .directory: throw .system(call: "unlink", path: path, errno: EISDIR)
            case nil: return
            }
        }
    }

    public func removeEmptyDirectory(_ path: String) throws(StorageError) {
        try mutate(.remove, path, call: "rmdir") { state throws(StorageError) in
            guard let (parent, name) = Self.resolveParent(state, path) else { return }
            guard case .directory(let id) = state.directories[parent]?[name] else { return }
            guard state.directories[id]?.isEmpty ?? true else { throw .system(call: "rmdir", path: path, errno: ENOTEMPTY) }
            state.directories[parent]?[name] = nil
        }
    }

    public func rename(_ from: String, to: String) throws(StorageError) {
        try mutate(.rename, from, call: "rename") { state throws(StorageError) in
            guard let (sourceParent, sourceName) = Self.resolveParent(state, from),
                  let entry = state.directories[sourceParent]?[sourceName],
                  let (targetParent, targetName) = Self.resolveParent(state, to)
            else { throw .system(call: "rename", path: from, errno: ENOENT) }
            if case .directory(let id) = state.directories[targetParent]?[targetName], state.directories[id]?.isEmpty == false {
                throw .system(call: "rename", path: to, errno: ENOTEMPTY)
            }
            state.directories[sourceParent]?[sourceName] = nil
            state.directories[targetParent, default: [:]][targetName] = entry
        }
    }

    public func list(_ path: String) throws(StorageError) -> [String] {
        let result: Result<[String], StorageError> = state.withLockedValue { state in
            guard case .directory(let id) = Self.resolve(state, path) else {
                return .failure(.system(call: "opendir", path: path, errno: ENOENT))
            }
            return .success(Array((state.directories[id] ?? [:]).keys))
        }
        return try result.get()
    }

    public func syncDirectory(_ path: String) throws(StorageError) {
        try mutate(.syncDirectory, path, call: "fsync") { state throws(StorageError) in
            guard case .directory(let id) = Self.resolve(state, path) else { throw .system(call: "fsync", path: path, errno: ENOENT) }
            state.durableDirectories[id] = state.directories[id] ?? [:]
        }
    }

    // MARK: - File operations (used by SimulatedFile)

    func withFile<R>(
        _ id: Int, generation: Int, _ operation: Operation, _ path: String, call: String,
        _ body: (inout Inode, inout State) throws(StorageError) -> R
    ) throws(StorageError) -> R {
        let result: Result<R, StorageError> = state.withLockedValue { state in
            guard state.generation == generation, var inode = state.files[id] else {
                return .failure(.system(call: call, path: path, errno: EIO))
            }
            if let code = Self.fault(&state, operation, path) {
                if operation == .sync {
                    inode.poisoned = true
                    inode.pending = []
                    state.files[id] = inode
                }
                return .failure(.system(call: call, path: path, errno: code))
            }
            do throws(StorageError) {
                let value = try body(&inode, &state)
                state.files[id] = inode
                return .success(value)
            } catch {
                return .failure(error)
            }
        }
        return try result.get()
    }

    static func apply(_ change: PendingChange, to bytes: inout [UInt8]) {
        switch change {
        case .write(let position, let data):
            if bytes.count < position { bytes.append(contentsOf: repeatElement(0, count: position - bytes.count)) }
            let overlap = min(data.count, bytes.count - position)
            bytes.replaceSubrange(position..<(position + overlap), with: data.prefix(overlap))
            bytes.append(contentsOf: data.dropFirst(overlap))
        case .truncate(let length):
            if length < bytes.count {
                bytes.removeSubrange(length...)
            } else {
                bytes.append(contentsOf: repeatElement(0, count: length - bytes.count))
            }
        }
    }

    // MARK: - Paths

    private func mutate(
        _ operation: Operation, _ path: String, call: String, _ body: (inout State) throws(StorageError) -> Void
    ) throws(StorageError) {
        let result: Result<Void, StorageError> = state.withLockedValue { state in
            if let code = Self.fault(&state, operation, path) { return .failure(.system(call: call, path: path, errno: code)) }
            do throws(StorageError) {
                try body(&state)
                return .success(())
            } catch {
                return .failure(error)
            }
        }
        try result.get()
    }

    static func fault(_ state: inout State, _ operation: Operation, _ path: String) -> Int32? {
        state.operations += 1
        return state.faults?(operation, path, state.operations)
    }

    static func components(_ path: String) -> [String] {
        path.split(separator: "/").map(String.init).filter { $0 != "." }
    }

    static func resolve(_ state: State, _ path: String) -> Entry? {
        var current = Entry.directory(0)
        for name in components(path) {
            guard case .directory(let id) = current, let next = state.directories[id]?[name] else { return nil }
            current = next
        }
        return current
    }

    static func resolveParent(_ state: State, _ path: String) -> (Int, String)? {
        var parts = components(path)
        guard let name = parts.popLast() else { return nil }
        var current = 0
        for part in parts {
            guard case .directory(let id) = state.directories[current]?[part] else { return nil }
            current = id
        }
        return (current, name)
    }
}
