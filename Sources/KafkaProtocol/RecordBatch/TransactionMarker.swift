import NIOCore

/// A transaction marker: the one record of a control batch that ends a producer's
/// transaction in a partition. Key: version i16 (0), type i16 (0 abort, 1 commit); value:
/// version i16 (0), coordinator epoch i32 — Kafka's `EndTransactionMarker`.
public struct TransactionMarker: Hashable, Sendable {
    public var commit: Bool
    public var coordinatorEpoch: Int32

    public init(commit: Bool, coordinatorEpoch: Int32) {
        self.commit = commit
        self.coordinatorEpoch = coordinatorEpoch
    }

    /// The control batch carrying this marker for `producerId` at `epoch`.
    public func batch(producerId: Int64, epoch: Int16, timestampMs: Int64) -> RecordBatch {
        var key = ByteBuffer()
        key.writeInteger(Int16(0), endianness: .big)
        key.writeInteger(Int16(commit ? 1 : 0), endianness: .big)
        var value = ByteBuffer()
        value.writeInteger(Int16(0), endianness: .big)
        value.writeInteger(coordinatorEpoch, endianness: .big)
        var builder = RecordBatchBuilder()
        builder.producerId = producerId
        builder.producerEpoch = epoch
        builder.baseSequence = -1
        builder.isTransactional = true
        builder.isControl = true
        builder.append(.init(timestamp: timestampMs, key: key, value: value))
        return builder.build()
    }

    /// The marker in a stored control batch, or nil when the batch is not a readable
    /// transaction marker (another control type, compressed, or malformed).
    public init?(controlBatch batch: RecordBatch) {
        guard batch.isControl, let records = try? batch.records(), let record = records.first,
              var key = record.key, let version = key.readInteger(endianness: .big, as: Int16.self), version == 0,
              let type = key.readInteger(endianness: .big, as: Int16.self), type == 0 || type == 1
        else { return nil }
        var value = record.value ?? ByteBuffer()
        _ = value.readInteger(endianness: .big, as: Int16.self)
        self.commit = type == 1
        self.coordinatorEpoch = value.readInteger(endianness: .big, as: Int32.self) ?? -1
    }
}
