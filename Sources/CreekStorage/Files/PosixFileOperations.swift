import NIOCore
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The real file system, through POSIX calls. Every failure carries the call, the path
/// and errno.
public struct PosixFileOperations: FileOperations {
    public init() {}

    public func open(_ path: String, create: Bool) throws(StorageError) -> any StorageFile {
        try PosixFile(path: path, create: create)
    }

    public func makeDirectory(_ path: String) throws(StorageError) {
        if mkdir(path, 0o755) != 0 && errno != EEXIST { throw .system(call: "mkdir", path: path, errno: errno) }
    }

    public func exists(_ path: String) -> Bool { access(path, F_OK) == 0 }

    public func isDirectory(_ path: String) -> Bool {
        var info = stat()
        return stat(path, &info) == 0 && (info.st_mode & S_IFMT) == S_IFDIR
    }

    public func remove(_ path: String) throws(StorageError) {
        if unlink(path) != 0 && errno != ENOENT { throw .system(call: "unlink", path: path, errno: errno) }
    }

    public func removeEmptyDirectory(_ path: String) throws(StorageError) {
        if rmdir(path) != 0 && errno != ENOENT { throw .system(call: "rmdir", path: path, errno: errno) }
    }

    public func rename(_ from: String, to: String) throws(StorageError) {
        #if canImport(Glibc)
        let result = Glibc.rename(from, to)
        #else
        let result = Darwin.rename(from, to)
        #endif
        guard result == 0 else { throw .system(call: "rename", path: from, errno: errno) }
    }

    public func list(_ path: String) throws(StorageError) -> [String] {
        guard let dir = opendir(path) else { throw .system(call: "opendir", path: path, errno: errno) }
        defer { closedir(dir) }
        var names: [String] = []
        // d_name is read in place: a dirent returned by readdir may be shorter than
        // MemoryLayout<dirent>.size (d_reclen), so copying `entry.pointee` can read past
        // the end of the kernel's buffer page and crash.
        let nameOffset = MemoryLayout<dirent>.offset(of: \dirent.d_name) ?? 19
        while let entry = readdir(dir) {
            let name = String(cString: (UnsafeRawPointer(entry) + nameOffset).assumingMemoryBound(to: CChar.self))
            if name != "." && name != ".." { names.append(name) }
        }
        return names
    }

    public func syncDirectory(_ path: String) throws(StorageError) {
        let fd = Glibc.open(path, O_RDONLY | O_CLOEXEC | O_DIRECTORY)
        guard fd >= 0 else { throw .system(call: "open", path: path, errno: errno) }
        defer { close(fd) }
        guard fsync(fd) == 0 else { throw .system(call: "fsync", path: path, errno: errno) }
    }
}

/// An open file descriptor with positional reads and writes.
final class PosixFile: StorageFile {
    let path: String
    let descriptor: Int32

    init(path: String, create: Bool) throws(StorageError) {
        let fd = Glibc.open(path, O_RDWR | O_CLOEXEC | (create ? O_CREAT : 0), 0o644)
        guard fd >= 0 else { throw .system(call: "open", path: path, errno: errno) }
        self.path = path
        self.descriptor = fd
    }

    deinit { close(descriptor) }

    func length() throws(StorageError) -> Int {
        var info = stat()
        guard fstat(descriptor, &info) == 0 else { throw .system(call: "fstat", path: path, errno: errno) }
        return Int(info.st_size)
    }

    func write(_ parts: [ByteBuffer], at position: Int) throws(StorageError) {
        var total = 0
        for part in parts { total += part.readableBytes }
        var written = 0
        while written < total {
            written += try writeOnce(parts, skipping: written, at: position + written)
        }
    }

    /// One `pwritev` of everything after the first `skipping` bytes (at most 512 buffers).
    private func writeOnce(_ parts: [ByteBuffer], skipping: Int, at position: Int) throws(StorageError) -> Int {
        var remainingSkip = skipping
        var slices: [ByteBuffer] = []
        slices.reserveCapacity(min(parts.count, 512))
        for part in parts where slices.count < 512 {
            if remainingSkip >= part.readableBytes {
                remainingSkip -= part.readableBytes
                continue
            }
            var slice = part
            slice.moveReaderIndex(forwardBy: remainingSkip)
            remainingSkip = 0
            slices.append(slice)
        }
        let result = Self.withIOVecs(slices) { vecs -> Int in
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
            if index == buffers.count { return vecs.withUnsafeBufferPointer(body) }
            return buffers[index].withUnsafeReadableBytes { bytes in
                vecs.append(iovec(iov_base: UnsafeMutableRawPointer(mutating: bytes.baseAddress), iov_len: bytes.count))
                return nest(index + 1)
            }
        }
        return nest(0)
    }

    func read(at position: Int, length: Int) throws(StorageError) -> ByteBuffer {
        var buffer = ByteBuffer()
        let wanted = max(0, length)
        guard wanted > 0, position >= 0 else { return buffer }
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

    func truncate(to length: Int) throws(StorageError) {
        guard ftruncate(descriptor, off_t(length)) == 0 else { throw .system(call: "ftruncate", path: path, errno: errno) }
    }

    func sync() throws(StorageError) {
        guard fdatasync(descriptor) == 0 else { throw .system(call: "fdatasync", path: path, errno: errno) }
    }
}
