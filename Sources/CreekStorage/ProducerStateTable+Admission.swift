public import KafkaProtocol

extension ProducerStateTable {
    /// What the producer checks decided for one append.
    public enum Admission: Sendable {
        /// The batches to store were handed to `accept`; offsets below `next` are taken.
        case accepted(next: Int64)
        /// Nothing new: every producer batch retried one already stored at these offsets.
        case duplicate(first: Int64, last: Int64)
        /// The append is refused (a sequence gap, a fenced epoch, …).
        case rejected(KafkaErrorCode)
    }

    /// Kafka's idempotent-producer checks over the batches of one append, stored from offset
    /// `next` on: a retried batch is skipped (answered with its original offsets when nothing
    /// else is new), any refusal refuses the whole append. Every batch to store is passed to
    /// `accept` with its base offset, in order, and its producer's state recorded here — so
    /// the caller works on a copy and keeps it only once the batches are stored. One loop for
    /// every storage engine.
    public mutating func admit(
        _ batches: [RecordBatch], from next: Int64, nowMs: Int64, accept: (RecordBatch, Int64) -> Void
    ) -> Admission {
        var next = next
        var accepted = false
        var duplicate: (Int64, Int64)?
        for batch in batches {
            if batch.producerId >= 0 && !batch.isControl {
                let lastSequence = Int32(truncatingIfNeeded: (Int64(batch.baseSequence) + Int64(batch.lastOffsetDelta)) % (Int64(Int32.max) + 1))
                switch check(producerId: batch.producerId, epoch: batch.producerEpoch, firstSequence: batch.baseSequence, lastSequence: lastSequence) {
                case .reject(let code):
                    return .rejected(code)
                case .duplicate(let first, let last):
                    if !accepted && duplicate == nil { duplicate = (first, last) }
                    continue
                case .accept:
                    record(producerId: batch.producerId, epoch: batch.producerEpoch, firstSequence: batch.baseSequence,
                           lastSequence: lastSequence, firstOffset: next, lastOffset: next + Int64(batch.lastOffsetDelta),
                           timestampMs: nowMs, transactional: batch.isTransactional)
                }
            }
            accept(batch, next)
            accepted = true
            next += Int64(batch.lastOffsetDelta) + 1
        }
        if !accepted, let (first, last) = duplicate { return .duplicate(first: first, last: last) }
        return .accepted(next: next)
    }
}
