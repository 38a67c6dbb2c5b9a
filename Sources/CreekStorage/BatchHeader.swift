public import KafkaProtocol
import NIOCore

/// The fields of a stored batch's header that the log needs to index and find it.
public struct BatchHeader: Hashable, Sendable {
    public var position: Int
    public var baseOffset: Int64
    public var lastOffset: Int64
    public var maxTimestamp: Int64
    public var size: Int
    public var producerId: Int64
    public var producerEpoch: Int16 = -1
    public var baseSequence: Int32 = -1
    public var isControl = false
    public var isTransactional = false

    public init(position: Int, batch: RecordBatch) {
        self.position = position
        self.baseOffset = batch.baseOffset
        self.lastOffset = batch.lastOffset
        self.maxTimestamp = batch.maxTimestamp
        self.size = batch.sizeInBytes
        self.producerId = batch.producerId
        self.producerEpoch = batch.producerEpoch
        self.baseSequence = batch.baseSequence
        self.isControl = batch.isControl
        self.isTransactional = batch.isTransactional
    }

    /// Reads just the 61-byte header at the front of `bytes` (no CRC check).
    init?(position: Int, headerBytes bytes: ByteBuffer) {
        let start = bytes.readerIndex
        guard bytes.readableBytes >= RecordBatch.headerSize,
              let base = bytes.getInteger(at: start, endianness: .big, as: Int64.self),
              let length = bytes.getInteger(at: start + 8, endianness: .big, as: Int32.self),
              let magic = bytes.getInteger(at: start + 16, as: Int8.self),
              let delta = bytes.getInteger(at: start + 23, endianness: .big, as: Int32.self),
              let maxTimestamp = bytes.getInteger(at: start + 35, endianness: .big, as: Int64.self),
              let producerId = bytes.getInteger(at: start + 43, endianness: .big, as: Int64.self),
              let producerEpoch = bytes.getInteger(at: start + 51, endianness: .big, as: Int16.self),
              let baseSequence = bytes.getInteger(at: start + 53, endianness: .big, as: Int32.self),
              let attributes = bytes.getInteger(at: start + 21, endianness: .big, as: Int16.self),
              magic == 2, length >= Int32(RecordBatch.headerSize - RecordBatch.logOverhead), delta >= 0, base >= 0
        else { return nil }
        // Values from disk: an offset that would overflow is corruption, not a trap.
        let (last, overflow) = base.addingReportingOverflow(Int64(delta))
        guard !overflow else { return nil }
        self.position = position
        self.baseOffset = base
        self.lastOffset = last
        self.maxTimestamp = maxTimestamp
        self.size = Int(length) + RecordBatch.logOverhead
        self.producerId = producerId
        self.producerEpoch = producerEpoch
        self.baseSequence = baseSequence
        self.isControl = attributes & 0x20 != 0
        self.isTransactional = attributes & 0x10 != 0
    }

    /// The last sequence number the batch covers (sequences wrap after Int32.max).
    public var lastSequence: Int32 {
        let span = lastOffset - baseOffset
        return Int32(truncatingIfNeeded: (Int64(baseSequence) + span) % (Int64(Int32.max) + 1))
    }

    public var endPosition: Int { position + size }
}
