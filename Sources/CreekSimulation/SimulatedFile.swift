public import CreekStorage
public import NIOCore
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A handle on one file of a `SimulatedFileSystem`. Valid until the next crash.
public final class SimulatedFile: StorageFile {
    let system: SimulatedFileSystem
    let id: Int
    let generation: Int
    public let path: String

    init(system: SimulatedFileSystem, id: Int, generation: Int, path: String) {
        self.system = system
        self.id = id
        self.generation = generation
        self.path = path
    }

    public func length() throws(StorageError) -> Int {
        try system.withFile(id, generation: generation, .read, path, call: "fstat") { inode, _ in inode.data.count }
    }

    public func write(_ parts: [ByteBuffer], at position: Int) throws(StorageError) {
        var bytes: [UInt8] = []
        for part in parts { bytes.append(contentsOf: part.readableBytesView) }
        try system.withFile(id, generation: generation, .write, path, call: "pwritev") { inode, state throws(StorageError) in
            if let capacity = state.capacity {
                let used = state.files.values.reduce(0) { $0 + $1.data.count }
                let growth = max(0, position + bytes.count - inode.data.count)
                if used + growth > capacity { throw .system(call: "pwritev", path: path, errno: ENOSPC) }
            }
            let change = SimulatedFileSystem.PendingChange.write(position: position, bytes: bytes)
            SimulatedFileSystem.apply(change, to: &inode.data)
            if !inode.poisoned { inode.pending.append(change) }
        }
    }

    public func read(at position: Int, length: Int) throws(StorageError) -> ByteBuffer {
        try system.withFile(id, generation: generation, .read, path, call: "pread") { inode, _ in
            guard position >= 0, position < inode.data.count, length > 0 else { return ByteBuffer() }
            let end = min(inode.data.count, position + length)
            return ByteBuffer(bytes: inode.data[position..<end])
        }
    }

    public func truncate(to length: Int) throws(StorageError) {
        try system.withFile(id, generation: generation, .truncate, path, call: "ftruncate") { inode, _ in
            let change = SimulatedFileSystem.PendingChange.truncate(length)
            SimulatedFileSystem.apply(change, to: &inode.data)
            if !inode.poisoned { inode.pending.append(change) }
        }
    }

    public func sync() throws(StorageError) {
        try system.withFile(id, generation: generation, .sync, path, call: "fdatasync") { inode, _ in
            guard !inode.poisoned else { return }
            inode.durable = inode.data
            inode.pending = []
        }
    }
}
