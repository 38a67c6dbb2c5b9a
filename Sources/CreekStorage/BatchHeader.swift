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

    public init(position: Int, batch: RecordBatch) {
        self.position = position
        self.baseOffset = batch.baseOffset
        self.lastOffset = batch.lastOffset
        self.maxTimestamp = batch.maxTimestamp
        self.size = batch.sizeInBytes
        self.producerId = batch.producerId
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
              magic == 2, length >= Int32(RecordBatch.headerSize - RecordBatch.logOverhead), delta >= 0
        else { return nil }
        self.position = position
        self.baseOffset = base
        self.lastOffset = base + Int64(delta)
        self.maxTimestamp = maxTimestamp
        self.size = Int(length) + RecordBatch.logOverhead
        self.producerId = producerId
    }

    public var endPosition: Int { position + size }
}
