public import NIOCore

/// One open file of the storage layer. Writes are whole or throw; a thrown write may
/// have left any prefix of its bytes behind (the caller cuts back or gives up the file).
/// Owned by one writer; concurrent reads are safe.
public protocol StorageFile: AnyObject, Sendable {
    var path: String { get }
    /// The file's length now (as the OS sees it, synced or not).
    func length() throws(StorageError) -> Int
    /// Writes the readable bytes of `parts`, in order, starting at `position`.
    func write(_ parts: [ByteBuffer], at position: Int) throws(StorageError)
    /// Up to `length` bytes at `position`, fewer at the end of the file.
    func read(at position: Int, length: Int) throws(StorageError) -> ByteBuffer
    func truncate(to length: Int) throws(StorageError)
    /// Makes the file's data and length durable (`fdatasync`). After a failure the
    /// unsynced data may be gone even if a later sync succeeds: callers must give up on it.
    func sync() throws(StorageError)
}

/// Every file-system operation the storage layer makes, so a simulated file system can
/// stand in for the real one in tests (crashes, torn writes, failed fsyncs, a full disk).
/// Directory changes (create, rename, remove) become durable only through `syncDirectory`.
public protocol FileOperations: Sendable {
    func open(_ path: String, create: Bool) throws(StorageError) -> any StorageFile
    /// Creates a directory; succeeds when it exists already.
    func makeDirectory(_ path: String) throws(StorageError)
    func exists(_ path: String) -> Bool
    func isDirectory(_ path: String) -> Bool
    /// Removes a file; succeeds when it does not exist.
    func remove(_ path: String) throws(StorageError)
    /// Removes an empty directory; succeeds when it does not exist.
    func removeEmptyDirectory(_ path: String) throws(StorageError)
    func rename(_ from: String, to: String) throws(StorageError)
    /// Names in a directory, without "." and "..".
    func list(_ path: String) throws(StorageError) -> [String]
    /// Makes the directory's entries durable (fsync of the directory).
    func syncDirectory(_ path: String) throws(StorageError)
}

extension FileOperations {
    /// The directory part of `path` ("." when there is none).
    public static func parent(of path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return "." }
        let head = String(path[..<slash])
        return head.isEmpty ? "/" : head
    }

    /// Creates `path` if missing and makes its entry in the parent durable.
    public func makeDirectoryDurably(_ path: String) throws(StorageError) {
        if isDirectory(path) { return }
        try makeDirectory(path)
        try syncDirectory(Self.parent(of: path))
    }

    /// Writes `bytes` to `path` atomically and durably: temp file, fsync, rename, fsync
    /// of the directory. A crash leaves either the old or the new content.
    public func writeAtomically(_ bytes: [UInt8], to path: String) throws(StorageError) {
        let temporary = path + ".tmp"
        try remove(temporary)
        let file = try open(temporary, create: true)
        try file.write([ByteBuffer(bytes: bytes)], at: 0)
        try file.sync()
        try rename(temporary, to: path)
        try syncDirectory(Self.parent(of: path))
    }

    public func readAll(_ path: String) throws(StorageError) -> [UInt8] {
        let file = try open(path, create: false)
        let buffer = try file.read(at: 0, length: try file.length())
        return Array(buffer.readableBytesView)
    }

    /// Removes a directory and everything below it (files and subdirectories).
    public func removeTree(_ path: String) throws(StorageError) {
        guard isDirectory(path) else { return try remove(path) }
        for name in try list(path) { try removeTree(path + "/" + name) }
        try removeEmptyDirectory(path)
    }
}
