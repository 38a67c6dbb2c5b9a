/// What a read_committed consumer keeps of fetched batches: a Fetch names the aborted
/// transactions overlapping its records by producer id and first offset; from a producer's
/// first aborted offset until its next control batch (the abort marker), that producer's
/// transactional batches are dropped. Control batches themselves are never records.
/// (Kafka's consumer-side rule; used by tests and by clients built on this package.)
public enum ReadCommittedFilter {
    /// An aborted range's start, as a Fetch response lists it.
    public struct Aborted: Hashable, Sendable {
        public var producerId: Int64
        public var firstOffset: Int64

        public init(producerId: Int64, firstOffset: Int64) {
            self.producerId = producerId
            self.firstOffset = firstOffset
        }
    }

    /// The data batches of `batches` (in offset order) a read_committed consumer keeps.
    public static func committed(_ batches: [RecordBatch], aborted: [Aborted]) -> [RecordBatch] {
        var pending = aborted.sorted { $0.firstOffset < $1.firstOffset }[...]
        var aborting: Set<Int64> = []
        var kept: [RecordBatch] = []
        for batch in batches {
            while let next = pending.first, next.firstOffset <= batch.lastOffset {
                aborting.insert(next.producerId)
                pending.removeFirst()
            }
            if batch.isControl {
                aborting.remove(batch.producerId)
                continue
            }
            if batch.isTransactional && aborting.contains(batch.producerId) { continue }
            kept.append(batch)
        }
        return kept
    }
}
