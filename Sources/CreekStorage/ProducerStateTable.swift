public import KafkaProtocol

/// Idempotent-producer state of one partition: for each producer id, its epoch and the
/// sequence ranges and offsets of its last five batches (Kafka's limit of five in-flight
/// requests per connection), so a retried batch is recognised and answered with its
/// original offsets; and, for a transactional producer, the offset of the first record of
/// its open transaction, which holds the partition's last stable offset back until a
/// marker ends it. Pure value; the partition log persists it in snapshots and rebuilds it
/// from batch headers and markers.
public struct ProducerStateTable: Hashable, Sendable {
    public static let cachedBatches = 5

    public struct BatchRecord: Hashable, Sendable, Codable {
        public var firstSequence: Int32
        public var lastSequence: Int32
        public var firstOffset: Int64
        public var lastOffset: Int64
    }

    public struct Entry: Hashable, Sendable, Codable {
        public var epoch: Int16
        public var batches: [BatchRecord]
        public var lastTimestampMs: Int64
        /// First offset of the producer's open transaction in this partition, if any.
        public var currentTxnFirstOffset: Int64?
        /// The transaction coordinator epoch of the last marker written for the producer (nil:
        /// none yet). A marker from an older coordinator epoch is a coordinator's that has
        /// since been replaced, arriving late: it is refused, never written.
        public var coordinatorEpoch: Int32? = nil
    }

    public enum Check: Hashable, Sendable {
        /// Append it.
        case accept
        /// Already appended: answer with these offsets and append nothing.
        case duplicate(firstOffset: Int64, lastOffset: Int64)
        /// Refuse it with this error.
        case reject(KafkaErrorCode)
    }

    public private(set) var producers: [Int64: Entry] = [:]
    /// Open transactions: producer id → first offset. Kept beside `producers` (the same
    /// facts) so that the last stable offset, asked for by every Fetch, costs nothing
    /// when no transaction is open instead of a walk over every producer.
    public private(set) var openTransactions: [Int64: Int64] = [:]

    public init() {}

    /// Kafka's sequence rules for a batch of `producerId` with `epoch` covering sequences
    /// `firstSequence...lastSequence`: an older epoch is fenced; a newer epoch must start
    /// at sequence 0; within an epoch the batch must repeat one of the cached five or
    /// continue right after the last one. A producer the partition has no state for (new,
    /// or expired) is accepted at any sequence, as Kafka does since KIP-360.
    public func check(producerId: Int64, epoch: Int16, firstSequence: Int32, lastSequence: Int32) -> Check {
        guard let entry = producers[producerId] else { return .accept }
        if epoch < entry.epoch { return .reject(.invalidProducerEpoch) }
        if epoch > entry.epoch { return firstSequence == 0 ? .accept : .reject(.outOfOrderSequenceNumber) }
        if let match = entry.batches.first(where: { $0.firstSequence == firstSequence && $0.lastSequence == lastSequence }) {
            return .duplicate(firstOffset: match.firstOffset, lastOffset: match.lastOffset)
        }
        guard let last = entry.batches.last else { return .accept }
        let expected = last.lastSequence == Int32.max ? 0 : last.lastSequence + 1
        return firstSequence == expected ? .accept : .reject(.outOfOrderSequenceNumber)
    }

    /// Records an appended batch.
    public mutating func record(
        producerId: Int64, epoch: Int16, firstSequence: Int32, lastSequence: Int32,
        firstOffset: Int64, lastOffset: Int64, timestampMs: Int64, transactional: Bool = false
    ) {
        var entry = producers[producerId] ?? Entry(epoch: epoch, batches: [], lastTimestampMs: timestampMs)
        if epoch != entry.epoch {
            entry = Entry(
                epoch: epoch, batches: [], lastTimestampMs: timestampMs, currentTxnFirstOffset: entry.currentTxnFirstOffset,
                coordinatorEpoch: entry.coordinatorEpoch
            )
        }
        if transactional && entry.currentTxnFirstOffset == nil {
            entry.currentTxnFirstOffset = firstOffset
            openTransactions[producerId] = firstOffset
        }
        entry.batches.append(BatchRecord(firstSequence: firstSequence, lastSequence: lastSequence, firstOffset: firstOffset, lastOffset: lastOffset))
        if entry.batches.count > Self.cachedBatches { entry.batches.removeFirst(entry.batches.count - Self.cachedBatches) }
        entry.lastTimestampMs = max(entry.lastTimestampMs, timestampMs)
        producers[producerId] = entry
    }

    /// Whether a transaction marker of `producerId` at `epoch` may be written: not from an
    /// epoch older than the producer's (a fenced coordinator's late marker).
    public func acceptsMarker(producerId: Int64, epoch: Int16) -> Bool {
        guard let entry = producers[producerId] else { return true }
        return epoch >= entry.epoch
    }

    /// Whether a marker sent by a coordinator at `coordinatorEpoch` comes from one replaced
    /// since (a marker from a newer coordinator epoch was already written for the producer).
    public func markerFenced(producerId: Int64, coordinatorEpoch: Int32) -> Bool {
        guard let last = producers[producerId]?.coordinatorEpoch else { return false }
        return coordinatorEpoch < last
    }

    /// Ends the producer's open transaction (a marker was written at `epoch`, at
    /// `timestampMs`, by a coordinator at `coordinatorEpoch`); returns the first offset it
    /// had, or nil when none was open.
    @discardableResult
    public mutating func endTransaction(producerId: Int64, epoch: Int16, timestampMs: Int64, coordinatorEpoch: Int32? = nil) -> Int64? {
        var entry = producers[producerId] ?? Entry(epoch: epoch, batches: [], lastTimestampMs: timestampMs)
        if epoch > entry.epoch {
            entry = Entry(
                epoch: epoch, batches: [], lastTimestampMs: timestampMs, currentTxnFirstOffset: entry.currentTxnFirstOffset,
                coordinatorEpoch: entry.coordinatorEpoch
            )
        }
        let first = entry.currentTxnFirstOffset
        entry.currentTxnFirstOffset = nil
        if let coordinatorEpoch { entry.coordinatorEpoch = max(entry.coordinatorEpoch ?? coordinatorEpoch, coordinatorEpoch) }
        openTransactions[producerId] = nil
        entry.lastTimestampMs = max(entry.lastTimestampMs, timestampMs)
        producers[producerId] = entry
        return first
    }

    /// The first offset of the oldest open transaction: the partition's last stable offset
    /// (nil when no transaction is open, when it is the high watermark).
    public var firstUnstableOffset: Int64? {
        openTransactions.isEmpty ? nil : openTransactions.values.min()
    }

    /// Forgets producers idle since before `cutoffMs` (`producer.id.expiration.ms`), never
    /// one with an open transaction.
    public mutating func expire(idleBefore cutoffMs: Int64) -> Int {
        let before = producers.count
        producers = producers.filter { $0.value.lastTimestampMs >= cutoffMs || $0.value.currentTxnFirstOffset != nil }
        return before - producers.count
    }

    public mutating func replace(with producers: [Int64: Entry]) {
        self.producers = producers
        openTransactions = producers.compactMapValues(\.currentTxnFirstOffset)
    }
}
