import KafkaProtocol
import NIOCore

/// A `send` waiting for its record's outcome (records sent with `sendAsync` have none:
/// theirs goes to the delivery reports). A class, so that `Waiter?` on the per-record path
/// is one pointer, not an optional of `CheckedContinuation` (whose layout is resilient, so
/// every copy or test of it goes through generic value witnesses).
final class Waiter: Sendable {
    let continuation: CheckedContinuation<RecordMetadata, any Error>

    init(_ continuation: CheckedContinuation<RecordMetadata, any Error>) {
        self.continuation = continuation
    }
}

/// Who learns the outcome of a batch's records: each record's timestamp, in order, and the
/// continuations of those sent with `send` (by index); the rest go to delivery reports.
struct BatchCompletions: Sendable {
    var timestamps: [Int64] = []
    var waiting: [(index: Int, waiter: Waiter)] = []

    var count: Int { timestamps.count }

    mutating func append(_ waiter: Waiter?, timestamp: Int64) {
        if let waiter { waiting.append((timestamps.count, waiter)) }
        timestamps.append(timestamp)
    }
}

/// Records of one partition being gathered into a batch.
struct OpenBatch {
    var encoder: BatchEncoder
    var completions = BatchCompletions()
    var createdAt: MonotonicInstant
    var reserved = 0

    /// What `add` did besides appending.
    struct Added {
        /// The batch as it was, when the record did not fit in it (to be sealed first).
        var displaced: OpenBatch?
        /// This batch is full now (to be sealed).
        var full: Bool
        /// The record opened this batch.
        var opened: Bool
    }

    /// Appends a record; when it would overflow `batchSize`, the records so far move out
    /// (returned in `displaced`) and the record starts a fresh batch.
    mutating func add(
        _ record: ProducerRecord, timestamp: Int64, waiter: Waiter?, reserved bytes: Int, batchSize: Int
    ) -> Added {
        var displaced: OpenBatch?
        if encoder.count > 0 && encoder.sizeInBytes + bytes > batchSize {
            displaced = self
            self = OpenBatch(encoder: BatchEncoder(capacity: min(batchSize, 64 << 10)), createdAt: .now)
        }
        encoder.append(record, timestamp: timestamp)
        completions.append(waiter, timestamp: timestamp)
        reserved += bytes
        return Added(displaced: displaced, full: encoder.sizeInBytes >= batchSize, opened: encoder.count == 1)
    }
}

/// A sealed batch: its bytes (sequence numbers already assigned) and who is waiting.
struct SealedBatch: Sendable {
    var partition: TopicPartition
    var bytes: ByteBuffer
    var completions: BatchCompletions
    var reserved: Int
    var firstAttempt: MonotonicInstant
    var attempts = 0
}

/// The producer's mutable state, only ever touched under its lock. Invariants: a partition
/// has at most one open batch; its sealed batches wait in `queued` in sequence order; with
/// idempotence at most one of them is in flight (so a retry can never overtake a later
/// batch); `reservedBytes` counts every record not yet acknowledged.
struct ProducerState {
    var open: [TopicPartition: OpenBatch] = [:]
    var queued: [TopicPartition: [SealedBatch]] = [:]
    var inFlight: [TopicPartition: Int] = [:]
    var requestsInFlight: [Int32: Int] = [:]
    var reservedBytes = 0
    var spaceWaiters: [(bytes: Int, continuation: CheckedContinuation<Void, Never>)] = []
    var flushWaiters: [CheckedContinuation<Void, Never>] = []
    var sticky: [String: Int32] = [:]
    var partitionCounts: [String: Int] = [:]
    var sequences: [TopicPartition: Int32] = [:]
    var producerId: Int64 = -1
    var epoch: Int16 = -1
    var flushing = false
    var closed = false
    /// Produce rounds in flight; each sends at most one request per broker, so this bounds
    /// every broker's requests in flight by `maxInFlight`.
    var roundsInFlight = 0
    /// A batch of this idempotent producer failed for good: its sequence numbers have a gap
    /// the broker would refuse, so the sender gets a new epoch (KIP-360) before sending more.
    var epochBumpNeeded = false
    var transaction = TransactionState()

    var isIdle: Bool { open.isEmpty && queued.values.allSatisfy(\.isEmpty) && inFlight.values.allSatisfy { $0 == 0 } }

    /// Releases `bytes` of buffer and returns the waiters that now fit.
    mutating func release(_ bytes: Int, limit: Int) -> [CheckedContinuation<Void, Never>] {
        reservedBytes -= bytes
        var resumed: [CheckedContinuation<Void, Never>] = []
        while let first = spaceWaiters.first, reservedBytes + first.bytes <= limit || reservedBytes == 0 {
            spaceWaiters.removeFirst()
            reservedBytes += first.bytes
            resumed.append(first.continuation)
        }
        return resumed
    }

    /// Flush waiters to resume once nothing is left to send.
    mutating func idleWaiters() -> [CheckedContinuation<Void, Never>] {
        guard isIdle else { return [] }
        flushing = false
        defer { flushWaiters.removeAll() }
        return flushWaiters
    }
}

/// Where a transactional producer stands. `partitions` were added to the open transaction
/// (AddPartitionsToTxn); `failure` is the first error a record of it met, which makes the
/// transaction abortable only.
struct TransactionState {
    enum Phase { case uninitialised, ready, open }
    var phase = Phase.uninitialised
    var partitions: Set<TopicPartition> = []
    var failure: KafkaClientError?
    var coordinator: Int32?
}
