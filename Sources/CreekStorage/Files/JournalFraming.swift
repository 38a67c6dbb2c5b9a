import KafkaProtocol
public import NIOCore

/// The record framing of Creek's append-only journals (`meta/offsets.journal`,
/// `meta/transactions.journal`): `u32 length, u32 CRC-32C of the body, body`, big-endian.
/// A reader stops at the first torn or corrupt record; everything before it is valid.
public enum JournalFraming {
    /// Appends `body` as one framed record.
    public static func write(_ body: ByteBuffer, to buffer: inout ByteBuffer) {
        buffer.writeInteger(UInt32(body.readableBytes), endianness: .big)
        buffer.writeInteger(CRC32C.checksum(body), endianness: .big)
        buffer.writeImmutableBuffer(body)
    }

    /// The next whole, CRC-valid record's body, or nil (reader index unchanged) at the end
    /// or at a torn or corrupt record.
    public static func next(_ buffer: inout ByteBuffer) -> ByteBuffer? {
        let start = buffer.readerIndex
        guard let length = buffer.readInteger(endianness: .big, as: UInt32.self),
              let crc = buffer.readInteger(endianness: .big, as: UInt32.self),
              Int(length) <= buffer.readableBytes, let body = buffer.readSlice(length: Int(length)),
              CRC32C.checksum(body) == crc
        else {
            buffer.moveReaderIndex(to: start)
            return nil
        }
        return body
    }
}
