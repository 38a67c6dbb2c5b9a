import KafkaCompression
import KafkaProtocol
import NIOCore

/// Records appended one by one straight into a v2 batch (no per-record objects), then
/// sealed: header, optional compression, CRC-32C. Invariant: `body` holds room for the
/// batch header, then `count` whole records with offset deltas 0..<count — so an
/// uncompressed batch is sealed in place, without copying its records.
struct BatchEncoder {
    private(set) var body: ByteBuffer
    private(set) var count: Int32 = 0
    private(set) var baseTimestamp: Int64 = -1
    private(set) var maxTimestamp: Int64 = -1

    init(capacity: Int) {
        body = ByteBufferAllocator().buffer(capacity: capacity)
        body.writeRepeatingByte(0, count: RecordBatch.headerSize)
    }

    var sizeInBytes: Int { body.readableBytes }

    /// The bytes `append` would add for this record (an upper bound within 10 bytes).
    static func estimate(_ record: ProducerRecord) -> Int {
        var size = 32 + (record.key?.count ?? 0) + (record.value?.count ?? 0)
        for header in record.headers { size += 10 + header.key.utf8.count + (header.value?.count ?? 0) }
        return size
    }

    mutating func append(_ record: ProducerRecord, timestamp: Int64) {
        if count == 0 { baseTimestamp = timestamp }
        maxTimestamp = max(maxTimestamp, timestamp)
        let delta = timestamp &- baseTimestamp
        var length = 1 + Self.varlongSize(delta) + Self.varlongSize(Int64(count))
        length += Self.nullableSize(record.key) + Self.nullableSize(record.value) + Self.varlongSize(Int64(record.headers.count))
        for header in record.headers {
            let keyBytes = header.key.utf8.count
            length += Self.varlongSize(Int64(keyBytes)) + keyBytes + Self.nullableSize(header.value)
        }
        let total = Self.varlongSize(Int64(length)) + length
        // One capacity check per record; the fields go straight into the buffer's memory.
        body.writeWithUnsafeMutableBytes(minimumWritableBytes: total) { raw in
            var out = RecordWriter(base: raw.baseAddress.unsafelyUnwrapped)
            out.varlong(Int64(length))
            out.byte(0)
            out.varlong(delta)
            out.varlong(Int64(count))
            out.nullable(record.key)
            out.nullable(record.value)
            out.varlong(Int64(record.headers.count))
            for header in record.headers {
                var key = header.key
                key.withUTF8 { utf8 in
                    out.varlong(Int64(utf8.count))
                    out.bytes(UnsafeRawBufferPointer(utf8))
                }
                out.nullable(header.value)
            }
            return out.written
        }
        count += 1
    }

    /// The finished batch: base offset 0, the producer's id, epoch and first sequence.
    /// Takes the records out of the encoder (it is empty afterwards).
    mutating func seal(
        compression: RecordBatch.Compression, producerId: Int64, epoch: Int16, baseSequence: Int32, transactional: Bool
    ) throws(KafkaClientError) -> ByteBuffer {
        var batch = body
        body = ByteBuffer()
        if compression != .none {
            let records = batch.readableBytesView.dropFirst(RecordBatch.headerSize)
            let compressed: [UInt8]
            do {
                compressed = try BatchCodec.compress(Array(records), with: compression)
            } catch {
                throw .compression("\(error)")
            }
            batch = ByteBufferAllocator().buffer(capacity: RecordBatch.headerSize + compressed.count)
            batch.writeRepeatingByte(0, count: RecordBatch.headerSize)
            batch.writeBytes(compressed)
        }
        let start = batch.readerIndex
        var attributes = compression.rawValue
        if transactional { attributes |= 0x10 }
        batch.setInteger(Int64(0), at: start, endianness: .big)
        batch.setInteger(Int32(batch.readableBytes - RecordBatch.logOverhead), at: start + 8, endianness: .big)
        batch.setInteger(Int32(-1), at: start + 12, endianness: .big)
        batch.setInteger(Int8(2), at: start + 16)
        batch.setInteger(attributes, at: start + 21, endianness: .big)
        batch.setInteger(count - 1, at: start + 23, endianness: .big)
        batch.setInteger(baseTimestamp, at: start + 27, endianness: .big)
        batch.setInteger(maxTimestamp, at: start + 35, endianness: .big)
        batch.setInteger(producerId, at: start + 43, endianness: .big)
        batch.setInteger(epoch, at: start + 51, endianness: .big)
        batch.setInteger(baseSequence, at: start + 53, endianness: .big)
        batch.setInteger(count, at: start + 57, endianness: .big)
        let crc = CRC32C.checksum(batch, skipping: 21)
        batch.setInteger(crc, at: start + 17, endianness: .big)
        return batch
    }

    /// Rewrites a sealed batch's producer id, epoch and first sequence (after an epoch
    /// bump) and its CRC; returns its record count.
    static func restamp(_ batch: inout ByteBuffer, producerId: Int64, epoch: Int16, baseSequence: Int32) -> Int32 {
        let start = batch.readerIndex
        batch.setInteger(producerId, at: start + 43, endianness: .big)
        batch.setInteger(epoch, at: start + 51, endianness: .big)
        batch.setInteger(baseSequence, at: start + 53, endianness: .big)
        let crc = CRC32C.checksum(batch, skipping: 21)
        batch.setInteger(crc, at: start + 17, endianness: .big)
        return batch.getInteger(at: start + 57, endianness: .big, as: Int32.self) ?? 0
    }

    private static func varlongSize(_ value: Int64) -> Int {
        var zigzag = UInt64(bitPattern: (value << 1) ^ (value >> 63))
        var size = 1
        while zigzag >= 0x80 {
            zigzag >>= 7
            size += 1
        }
        return size
    }

    private static func nullableSize(_ bytes: [UInt8]?) -> Int {
        guard let bytes else { return 1 }
        return varlongSize(Int64(bytes.count)) + bytes.count
    }
}

/// Writes a record's fields into memory `BatchEncoder.append` sized exactly beforehand.
private struct RecordWriter {
    let base: UnsafeMutableRawPointer
    var written = 0

    mutating func byte(_ value: UInt8) {
        base.storeBytes(of: value, toByteOffset: written, as: UInt8.self)
        written += 1
    }

    mutating func varlong(_ value: Int64) {
        var zigzag = UInt64(bitPattern: (value << 1) ^ (value >> 63))
        while zigzag >= 0x80 {
            byte(UInt8(truncatingIfNeeded: zigzag) | 0x80)
            zigzag >>= 7
        }
        byte(UInt8(zigzag))
    }

    mutating func bytes(_ source: UnsafeRawBufferPointer) {
        guard let address = source.baseAddress, source.count > 0 else { return }
        (base + written).copyMemory(from: address, byteCount: source.count)
        written += source.count
    }

    mutating func nullable(_ value: [UInt8]?) {
        guard let value else { return varlong(-1) }
        varlong(Int64(value.count))
        value.withUnsafeBytes { bytes($0) }
    }
}
