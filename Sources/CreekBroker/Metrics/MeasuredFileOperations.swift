import CreekStorage
import NIOCore

/// The storage layer's file operations with every fsync (of a file or a directory) timed
/// into `BrokerMetrics`; everything else passes straight through to `base`.
struct MeasuredFileOperations: FileOperations {
    let base: any FileOperations
    let metrics: BrokerMetrics

    func open(_ path: String, create: Bool) throws(StorageError) -> any StorageFile {
        MeasuredFile(base: try base.open(path, create: create), metrics: metrics)
    }

    func makeDirectory(_ path: String) throws(StorageError) { try base.makeDirectory(path) }
    func exists(_ path: String) -> Bool { base.exists(path) }
    func isDirectory(_ path: String) -> Bool { base.isDirectory(path) }
    func remove(_ path: String) throws(StorageError) { try base.remove(path) }
    func removeEmptyDirectory(_ path: String) throws(StorageError) { try base.removeEmptyDirectory(path) }
    func rename(_ from: String, to: String) throws(StorageError) { try base.rename(from, to: to) }
    func list(_ path: String) throws(StorageError) -> [String] { try base.list(path) }

    func syncDirectory(_ path: String) throws(StorageError) {
        try metrics.timingSync { () throws(StorageError) in try base.syncDirectory(path) }
    }
}

/// One open file whose `sync` is timed.
final class MeasuredFile: StorageFile {
    let base: any StorageFile
    let metrics: BrokerMetrics

    init(base: any StorageFile, metrics: BrokerMetrics) {
        self.base = base
        self.metrics = metrics
    }

    var path: String { base.path }
    func length() throws(StorageError) -> Int { try base.length() }
    func write(_ parts: [ByteBuffer], at position: Int) throws(StorageError) { try base.write(parts, at: position) }
    func read(at position: Int, length: Int) throws(StorageError) -> ByteBuffer { try base.read(at: position, length: length) }
    func truncate(to length: Int) throws(StorageError) { try base.truncate(to: length) }

    func sync() throws(StorageError) {
        try metrics.timingSync { () throws(StorageError) in try base.sync() }
    }
}

extension BrokerMetrics {
    /// Runs an fsync and records its duration (and whether it failed).
    func timingSync(_ sync: () throws(StorageError) -> Void) throws(StorageError) {
        let started = ProcessStats.monotonicNanos()
        do {
            try sync()
        } catch {
            synced(nanoseconds: ProcessStats.monotonicNanos() - started, failed: true)
            throw error
        }
        synced(nanoseconds: ProcessStats.monotonicNanos() - started, failed: false)
    }
}
