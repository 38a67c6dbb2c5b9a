public import NIOCore
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// An open file with positional reads and writes. Not synchronised: its owner (one
/// partition's serial executor) is the only writer; concurrent `pread`s are safe.
/// `fsync` may run on another thread (group commit) while the owner keeps appending.
public final class LogFile: @unchecked Sendable {
    public let path: String
    public let descriptor: Int32
    public private(set) var size: Int

    public init(path: String, create: Bool = true) throws(StorageError) {
        let flags = O_RDWR | O_CLOEXEC | (create ? O_CREAT : 0)
        let fd = open(path, flags, 0o644)
        guard fd >= 0 else { throw .system(call: "open", path: path, errno: errno) }
        var info = stat()
        guard fstat(fd, &info) == 0 else {
            let code = errno
            close(fd)
            throw .system(call: "fstat", path: path, errno: code)
        }
        self.path = path
        self.descriptor = fd
        self.size = Int(info.st_size)
    }

    deinit {
        close(descriptor)
    }

    /// Appends the readable bytes of `parts` at the end of the file with one `pwritev`
    /// (looping on short writes). Returns the position where they start.
    @discardableResult
    public func append(_ parts: [ByteBuffer]) throws(StorageError) -> Int {
        let start = size
        var total = 0
        for part in parts { total += part.readableBytes }
        var written = 0
        while written < total {
            let result = try writeOnce(parts, skipping: written, at: start + written)
            written += result
        }
        size = start + total
        return start
    }

    private func writeOnce(_ parts: [ByteBuffer], skipping: Int, at position: Int) throws(StorageError) -> Int {
        // Build iovecs for everything after `skipping` bytes; buffers stay alive for the call.
        var remainingSkip = skipping
        var slices: [ByteBuffer] = []
        slices.reserveCapacity(parts.count)
        for part in parts {
            if remainingSkip >= part.readableBytes {
                remainingSkip -= part.readableBytes
                continue
            }
            var slice = part
            slice.moveReaderIndex(forwardBy: remainingSkip)
            remainingSkip = 0
            slices.append(slice)
        }
        let batchLimit = 512
        let chosen = Array(slices.prefix(batchLimit))
        let result = Self.withIOVecs(chosen) { vecs -> Int in
            pwritev(descriptor, vecs.baseAddress, Int32(vecs.count), off_t(position))
        }
        guard result >= 0 else {
            if errno == EINTR { return 0 }
            throw .system(call: "pwritev", path: path, errno: errno)
        }
        return result
    }

    private static func withIOVecs<R>(_ buffers: [ByteBuffer], _ body: (UnsafeBufferPointer<iovec>) -> R) -> R {
        var vecs: [iovec] = []
        vecs.reserveCapacity(buffers.count)
        func nest(_ index: Int) -> R {
            if index == buffers.count {
                return vecs.withUnsafeBufferPointer(body)
            }
            return buffers[index].withUnsafeReadableBytes { bytes in
                vecs.append(iovec(iov_base: UnsafeMutableRawPointer(mutating: bytes.baseAddress), iov_len: bytes.count))
                return nest(index + 1)
            }
        }
        return nest(0)
    }

    /// Reads up to `length` bytes at `position` (fewer at end of file).
    public func read(at position: Int, length: Int) throws(StorageError) -> ByteBuffer {
        let wanted = max(0, min(length, size - position))
        var buffer = ByteBuffer()
        guard wanted > 0 else { return buffer }
        var failure: Int32 = 0
        buffer.writeWithUnsafeMutableBytes(minimumWritableBytes: wanted) { pointer in
            guard let base = pointer.baseAddress else { return 0 }
            var done = 0
            while done < wanted {
                let result = pread(descriptor, base + done, wanted - done, off_t(position + done))
                if result < 0 {
                    if errno == EINTR { continue }
                    failure = errno
                    break
                }
                if result == 0 { break }
                done += result
            }
            return done
        }
        if failure != 0 { throw .system(call: "pread", path: path, errno: failure) }
        return buffer
    }

    /// Cuts the file to `length` bytes.
    public func truncate(to length: Int) throws(StorageError) {
        guard ftruncate(descriptor, off_t(length)) == 0 else {
            throw .system(call: "ftruncate", path: path, errno: errno)
        }
        size = length
    }

    /// Flushes data (and the size) to stable storage.
    public func sync() throws(StorageError) {
        guard fdatasync(descriptor) == 0 else { throw .system(call: "fdatasync", path: path, errno: errno) }
    }
}

/// File-system helpers for the storage layer.
public enum FileSystem {
    public static func makeDirectory(_ path: String) throws(StorageError) {
        if mkdir(path, 0o755) != 0 && errno != EEXIST {
            throw .system(call: "mkdir", path: path, errno: errno)
        }
    }

    public static func exists(_ path: String) -> Bool {
        access(path, F_OK) == 0
    }

    public static func remove(_ path: String) throws(StorageError) {
        if unlink(path) != 0 && errno != ENOENT { throw .system(call: "unlink", path: path, errno: errno) }
    }

    public static func removeDirectory(_ path: String) throws(StorageError) {
        for name in try list(path) { try remove(path + "/" + name) }
        if rmdir(path) != 0 && errno != ENOENT { throw .system(call: "rmdir", path: path, errno: errno) }
    }

    public static func rename(_ from: String, to: String) throws(StorageError) {
        guard Glibc.rename(from, to) == 0 else { throw .system(call: "rename", path: from, errno: errno) }
    }

    /// Names in a directory, without "." and "..".
    public static func list(_ path: String) throws(StorageError) -> [String] {
        guard let dir = opendir(path) else { throw .system(call: "opendir", path: path, errno: errno) }
        defer { closedir(dir) }
        var names: [String] = []
        while let entry = readdir(dir) {
            let name = withUnsafePointer(to: entry.pointee.d_name) {
                $0.withMemoryRebound(to: CChar.self, capacity: 256) { String(cString: $0) }
            }
            if name != "." && name != ".." { names.append(name) }
        }
        return names
    }

    /// Writes `bytes` to `path` atomically: temp file, fsync, rename, fsync the directory.
    public static func writeAtomically(_ bytes: [UInt8], to path: String) throws(StorageError) {
        let temporary = path + ".tmp"
        try remove(temporary)
        let file = try LogFile(path: temporary)
        try file.append([ByteBuffer(bytes: bytes)])
        try file.sync()
        try rename(temporary, to: path)
        syncDirectory(of: path)
    }

    public static func readAll(_ path: String) throws(StorageError) -> [UInt8] {
        let file = try LogFile(path: path, create: false)
        let buffer = try file.read(at: 0, length: file.size)
        return Array(buffer.readableBytesView)
    }

    static func syncDirectory(of path: String) {
        let directory = path.split(separator: "/", omittingEmptySubsequences: false).dropLast().joined(separator: "/")
        let fd = open(directory.isEmpty ? "." : directory, O_RDONLY | O_CLOEXEC)
        if fd >= 0 {
            fsync(fd)
            close(fd)
        }
    }
}
