public import KafkaProtocol

/// What the broker needs from one partition's storage, whichever engine holds it (the
/// local segmented log, `PartitionLog`, or a database). An actor: it is the partition's
/// single writer in this process, so offsets are assigned in order.
///
/// Invariants every engine keeps: offsets are assigned contiguously from the log end and
/// never reused; `logStartOffset <= highWatermark <= logEndOffset`; nothing at or above
/// the high watermark is served; an append answered without `rejection` is in the log, and
/// durable by the engine's policy once `makeDurable(upTo:)` returns.
public protocol PartitionStorage: Actor {
    nonisolated var topic: String { get }
    nonisolated var partition: Int32 { get }
    var config: LogConfig { get }
    var logStartOffset: Int64 { get }
    var logEndOffset: Int64 { get }
    var highWatermark: Int64 { get }
    var lastStableOffset: Int64 { get }
    var sizeInBytes: Int { get }
    var segmentCount: Int { get }
    var isOffline: Bool { get }
    /// Idempotent and transactional producers this partition keeps state for.
    var producers: ProducerStateTable { get }
    var openTransactions: [Int64: Int64] { get }

    /// Makes the partition ready to answer offset queries: nothing for the local log; a shared
    /// engine checks this broker leads it (else `notLeader`) and has its current state.
    func prepareToServe() async throws(StorageError)
    func update(config: LogConfig)
    func append(_ batches: [RecordBatch], nowMs: Int64, sync: Bool) async throws(StorageError) -> PartitionLog.AppendResult
    func makeDurable(upTo offset: Int64) async throws(StorageError)
    func flush() async throws(StorageError)
    func read(from offset: Int64, maxBytes: Int, minOneBatch: Bool, committedOnly: Bool) async throws(StorageError) -> PartitionLog.ReadResult
    func register(_ waiter: FetchWaiter)
    func wakeWaiters()
    func offset(forTimestamp timestamp: Int64) async throws(StorageError) -> (offset: Int64, timestamp: Int64)?
    func maxTimestampOffset() async throws(StorageError) -> (offset: Int64, timestamp: Int64)?
    func applyRetention(nowMs: Int64) async throws(StorageError) -> Int
    func deleteRecords(before offset: Int64) async throws(StorageError) -> Int64
    func appendMarker(producerId: Int64, epoch: Int16, marker: TransactionMarker, nowMs: Int64) async throws(StorageError) -> PartitionLog.MarkerOutcome
    func abortedTransactions(from offset: Int64, upTo upperBound: Int64) async -> [AbortedTransaction]
    /// Syncs everything for a clean shutdown; throws when the partition is offline.
    func close() async throws(StorageError)
    /// Takes the partition out of service for deletion; returns the work that removes its
    /// data for good, which the caller runs in the background.
    func retire(tag: String) async throws(StorageError) -> @Sendable () -> Void
    /// One compaction pass for an engine that compacts inside the partition (not the local
    /// log, whose cleaner runs on threads of its own): nil when there was nothing to do.
    func compact(nowMs: Int64, dedupeBufferBytes: Int, force: Bool) async throws(StorageError) -> CleaningResult?
}

extension PartitionStorage {
    public func prepareToServe() async throws(StorageError) {}

    public func compact(nowMs: Int64, dedupeBufferBytes: Int, force: Bool) async throws(StorageError) -> CleaningResult? { nil }

    public func read(from offset: Int64, maxBytes: Int, minOneBatch: Bool) async throws(StorageError) -> PartitionLog.ReadResult {
        try await read(from: offset, maxBytes: maxBytes, minOneBatch: minOneBatch, committedOnly: false)
    }
}
