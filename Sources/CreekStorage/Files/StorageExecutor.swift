import Dispatch
import NIOConcurrencyHelpers

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// The serial executor of one storage actor (a partition log), built as a mutex: every job
/// runs while holding it, on a private serial queue that targets Creek's storage I/O queue
/// (not Swift's cooperative pool, so blocking `pwritev`/`pread`/`fdatasync` never occupies a
/// task thread). A thread may also take the mutex directly (`runLocked`) and is then isolated
/// to the actor — that is how an event loop appends or reads in place, without a hop.
///
/// Invariant: the actor's state is touched only while the mutex is held — by a job, or by
/// `runLocked`'s body; `isHeldByCurrentThread` is true exactly then, on that thread.
public final class StorageExecutor: SerialExecutor, @unchecked Sendable {
    /// Where every storage actor's jobs run: a concurrent queue, so partitions proceed in
    /// parallel while each stays serial.
    static let storageQueue = DispatchQueue(label: "creek.storage-io", attributes: .concurrent)

    private let queue: DispatchQueue
    private let mutex = NIOLock()

    public init(label: String) {
        queue = DispatchQueue(label: "creek.storage.\(label)", target: Self.storageQueue)
    }

    public func enqueue(_ job: consuming ExecutorJob) {
        let unowned = UnownedJob(job)
        let executor = asUnownedSerialExecutor()
        queue.async {
            self.runLocked { unowned.runSynchronously(on: executor) }
        }
    }

    public func asUnownedSerialExecutor() -> UnownedSerialExecutor {
        UnownedSerialExecutor(ordinary: self)
    }

    /// Runs `body` holding the mutex; inside it the current thread is the actor's.
    /// The body must not wait for anything that needs this thread (it runs file I/O only).
    public func runLocked<T, E: Error>(_ body: () throws(E) -> T) throws(E) -> T {
        mutex.lock()
        let previous = HeldExecutor.current
        HeldExecutor.current = Unmanaged.passUnretained(self).toOpaque()
        defer {
            HeldExecutor.current = previous
            mutex.unlock()
        }
        return try body()
    }

    /// True while the current thread holds this executor's mutex.
    public var isHeldByCurrentThread: Bool {
        HeldExecutor.current == Unmanaged.passUnretained(self).toOpaque()
    }

    public func checkIsolated() {
        precondition(isHeldByCurrentThread, "not on the partition's storage executor")
    }
}

/// The storage executor whose mutex the current thread holds (at most one at a time,
/// restored on exit), in thread-local storage.
private enum HeldExecutor {
    static let key: pthread_key_t = {
        var key = pthread_key_t()
        pthread_key_create(&key, nil)
        return key
    }()

    static var current: UnsafeMutableRawPointer? {
        get { pthread_getspecific(key) }
        set { pthread_setspecific(key, newValue) }
    }
}

extension StorageExecutor {
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
