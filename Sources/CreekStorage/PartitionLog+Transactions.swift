public import KafkaProtocol

/// Transactions as one partition sees them (KIP-98): transactional batches open a
/// producer's transaction at their first offset, a marker (control batch) written by the
/// transaction coordinator ends it, and the last stable offset — what read_committed
/// consumers may read up to — is the first offset of the oldest open transaction. Aborts are
/// indexed per segment (`TransactionIndex`) so a Fetch can name the aborted ranges it returns.
extension PartitionLog {
    /// What writing a marker did.
    public enum MarkerOutcome: Hashable, Sendable {
        case written(offset: Int64)
        /// The producer has moved to a newer epoch: a fenced coordinator's late marker.
        case staleEpoch
        /// A marker from a newer coordinator epoch was written for the producer already: this
        /// one comes from a coordinator replaced since (TRANSACTION_COORDINATOR_FENCED).
        case coordinatorFenced
    }

    /// The offset below which every transaction is decided: the first offset of the oldest
    /// open transaction, or the high watermark when none is open.
    public var lastStableOffset: Int64 {
        let end = highWatermark
        guard let first = producers.firstUnstableOffset else { return end }
        return min(first, end)
    }

    /// Open transactions: producer id → first offset (DescribeProducers).
    public var openTransactions: [Int64: Int64] { producers.openTransactions }

    /// Appends the marker that ends `producerId`'s transaction here (commit or abort),
    /// records an abort in the segment's transaction index, and returns its offset. No
    /// fsync: the caller makes it durable (`makeDurable(upTo:)`) before it counts.
    public func appendMarker(producerId: Int64, epoch: Int16, marker: TransactionMarker, nowMs: Int64) throws(StorageError) -> MarkerOutcome {
        guard producers.acceptsMarker(producerId: producerId, epoch: epoch) else { return .staleEpoch }
        if producers.markerFenced(producerId: producerId, coordinatorEpoch: marker.coordinatorEpoch) { return .coordinatorFenced }
        let batch = marker.batch(producerId: producerId, epoch: epoch, timestampMs: nowMs)
        let appended = try appendNow([batch], nowMs: nowMs)
        let offset = appended.baseOffset
        let first = producers.endTransaction(producerId: producerId, epoch: epoch, timestampMs: nowMs, coordinatorEpoch: marker.coordinatorEpoch)
        if !marker.commit, let first, let active = segments.last {
            let aborted = AbortedTransaction(
                producerId: producerId, firstOffset: first, lastOffset: offset,
                lastStableOffset: producers.firstUnstableOffset ?? offset + 1
            )
            try guarded { () throws(StorageError) in try active.transactions.append(aborted) }
        }
        return .written(offset: offset)
    }

    /// The aborted transactions a read_committed Fetch from `offset` must be told about when
    /// it returns records below `upperBound`: those whose range overlaps, by first offset.
    /// Segments are searched from the one holding `offset` until an entry shows every later
    /// abort began at or after `upperBound`.
    public func abortedTransactions(from offset: Int64, upTo upperBound: Int64) -> [AbortedTransaction] {
        guard upperBound > offset, let index = segmentIndex(containing: offset) else { return [] }
        var found: [AbortedTransaction] = []
        scan: for segment in segments[index...] {
            for entry in segment.transactions.entries {
                if entry.lastOffset >= offset && entry.firstOffset < upperBound { found.append(entry) }
                if entry.lastStableOffset >= upperBound { break scan }
            }
        }
        return found.sorted { $0.firstOffset < $1.firstOffset }
    }

    /// Replays one stored batch header into producer state at startup: transactional data
    /// opens a transaction, a marker ends it (its type is read from the batch). Returns the
    /// abort it recorded, if any.
    static func replay(
        _ header: BatchHeader, in segment: LogSegment, into producers: inout ProducerStateTable, nowMs: Int64
    ) throws(StorageError) -> AbortedTransaction? {
        guard header.producerId >= 0 else { return nil }
        guard header.isControl else {
            producers.record(
                producerId: header.producerId, epoch: header.producerEpoch, firstSequence: header.baseSequence,
                lastSequence: header.lastSequence, firstOffset: header.baseOffset, lastOffset: header.lastOffset,
                timestampMs: nowMs, transactional: header.isTransactional
            )
            return nil
        }
        guard let batch = try? RecordBatch(bytes: try segment.readBatch(header)),
              let marker = TransactionMarker(controlBatch: batch)
        else { return nil }
        let first = producers.endTransaction(
            producerId: header.producerId, epoch: header.producerEpoch, timestampMs: nowMs, coordinatorEpoch: marker.coordinatorEpoch
        )
        guard !marker.commit, let first else { return nil }
        return AbortedTransaction(
            producerId: header.producerId, firstOffset: first, lastOffset: header.baseOffset,
            lastStableOffset: producers.firstUnstableOffset ?? header.baseOffset + 1
        )
    }
}
