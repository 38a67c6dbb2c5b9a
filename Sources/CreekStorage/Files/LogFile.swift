public import NIOCore

/// An open file the storage layer appends to, with its length cached. Not synchronised:
/// its owner (one partition's serial executor) is the only writer; concurrent reads are
/// safe. `sync` may run on another thread (group commit) while the owner keeps appending.
///
/// Invariant: `size` is the length of the bytes this object knows to be written; after a
/// failed append it is restored by cutting the file back (or the append's error says the
/// file could not be cut back, and the owner must stop using it).
public final class LogFile: @unchecked Sendable {
    public let path: String
    let file: any StorageFile
    public private(set) var size: Int

    public init(path: String, create: Bool = true, files: any FileOperations) throws(StorageError) {
        self.path = path
        self.file = try files.open(path, create: create)
        self.size = try file.length()
    }

    /// Appends the readable bytes of `parts` at the end. Returns the position where they
    /// start. On failure the file is cut back to its previous length; if that fails too,
    /// the error is `.unrecoverableWrite` (the file's tail is unknown).
    @discardableResult
    public func append(_ parts: [ByteBuffer]) throws(StorageError) -> Int {
        let start = size
        var total = 0
        for part in parts { total += part.readableBytes }
        do {
            try file.write(parts, at: start)
        } catch {
            do {
                try file.truncate(to: start)
            } catch {
                throw .unrecoverableWrite(path: path, cause: "\(error)")
            }
            throw error
        }
        size = start + total
        return start
    }

    /// Reads up to `length` bytes at `position` (fewer at end of file).
    public func read(at position: Int, length: Int) throws(StorageError) -> ByteBuffer {
        let wanted = max(0, min(length, size - position))
        guard wanted > 0 else { return ByteBuffer() }
        return try file.read(at: position, length: wanted)
    }

    /// Cuts the file to `length` bytes.
    public func truncate(to length: Int) throws(StorageError) {
        try file.truncate(to: length)
        size = length
    }

    /// Flushes data (and the size) to stable storage.
    public func sync() throws(StorageError) {
        try file.sync()
    }
}
