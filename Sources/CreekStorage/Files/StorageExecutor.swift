import Dispatch

/// The serial executor of one storage actor (a partition log): its jobs run in order on a
/// private serial queue that targets Creek's storage I/O queue, whose threads are not Swift's
/// cooperative pool. So the blocking `pwritev`/`pread`/`fdatasync` inside a partition never
/// occupies a task thread that connections, groups and other partitions need.
public final class StorageExecutor: SerialExecutor {
    /// Where every storage actor's jobs run: a concurrent queue, so partitions proceed in
    /// parallel while each stays serial.
    static let storageQueue = DispatchQueue(label: "creek.storage-io", attributes: .concurrent)

    private let queue: DispatchQueue

    public init(label: String) {
        queue = DispatchQueue(label: "creek.storage.\(label)", target: Self.storageQueue)
    }

    public func enqueue(_ job: consuming ExecutorJob) {
        let unowned = UnownedJob(job)
        let executor = asUnownedSerialExecutor()
        queue.async { unowned.runSynchronously(on: executor) }
    }

    public func asUnownedSerialExecutor() -> UnownedSerialExecutor {
        UnownedSerialExecutor(ordinary: self)
    }

    /// Runs blocking storage work (opening many logs, writing the catalog) on the storage
    /// I/O queue and waits for it without holding a task thread.
    public static func run<T: Sendable>(_ body: @escaping @Sendable () throws(StorageError) -> T) async throws(StorageError) -> T {
        let result: Result<T, StorageError> = await withCheckedContinuation { continuation in
            storageQueue.async {
                continuation.resume(returning: Result { () throws(StorageError) -> T in try body() })
            }
        }
        return try result.get()
    }
}
