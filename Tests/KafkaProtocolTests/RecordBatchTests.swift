import KafkaProtocol
import NIOCore
import Testing

@Suite("RecordBatch v2")
struct RecordBatchTests {
    private func sampleBatch() -> RecordBatch {
        var builder = RecordBatchBuilder()
        builder.producerId = 4711
        builder.producerEpoch = 3
        builder.baseSequence = 10
        builder.append(.init(timestamp: 1_700_000_000_000, key: ByteBuffer(string: "k1"), value: ByteBuffer(string: "v1"),
                             headers: [RecordHeader(key: "h", value: ByteBuffer(string: "x")), RecordHeader(key: "n", value: nil)]))
        builder.append(.init(timestamp: 1_699_999_999_000, key: nil, value: ByteBuffer(string: "tombstone? no")))
        builder.append(.init(timestamp: 1_700_000_000_500, key: ByteBuffer(), value: nil))
        return builder.build()
    }

    @Test("builder output validates and every field reads back")
    func buildAndRead() throws {
        let batch = sampleBatch()
        try batch.validate()
        #expect(batch.magic == 2)
        #expect(batch.recordsCount == 3)
        #expect(batch.lastOffsetDelta == 2)
        #expect(batch.baseTimestamp == 1_700_000_000_000)
        #expect(batch.maxTimestamp == 1_700_000_000_500)
        #expect(batch.producerId == 4711)
        #expect(batch.producerEpoch == 3)
        #expect(batch.baseSequence == 10)
        #expect(batch.partitionLeaderEpoch == -1)
        #expect(batch.compression == RecordBatch.Compression.none)
        #expect(batch.timestampType == .createTime)
        #expect(batch.batchLength == Int32(batch.sizeInBytes - 12))
        let records = try batch.records()
        #expect(records.map(\.offset) == [0, 1, 2])
        #expect(records.map(\.timestamp) == [1_700_000_000_000, 1_699_999_999_000, 1_700_000_000_500])
        #expect(records[0].key == ByteBuffer(string: "k1"))
        #expect(records[0].headers == [RecordHeader(key: "h", value: ByteBuffer(string: "x")), RecordHeader(key: "n", value: nil)])
        #expect(records[1].key == nil)
        #expect(records[2].key == ByteBuffer())
        #expect(records[2].value == nil)
    }

    @Test("patching baseOffset and leader epoch keeps the CRC valid")
    func patching() throws {
        var batch = sampleBatch()
        let crc = batch.crc
        batch.setBaseOffset(1_000_000)
        batch.setPartitionLeaderEpoch(7)
        #expect(batch.crc == crc)
        try batch.validate()
        #expect(batch.baseOffset == 1_000_000)
        #expect(batch.partitionLeaderEpoch == 7)
        #expect(batch.lastOffset == 1_000_002)
        #expect(try batch.records().map(\.offset) == [1_000_000, 1_000_001, 1_000_002])
    }

    @Test("LogAppendTime rewrites attributes, maxTimestamp and the CRC")
    func logAppendTime() throws {
        var batch = sampleBatch()
        let crc = batch.crc
        batch.setLogAppendTime(1_800_000_000_000)
        #expect(batch.timestampType == .logAppendTime)
        #expect(batch.maxTimestamp == 1_800_000_000_000)
        #expect(batch.crc != crc)
        try batch.validate()
    }

    @Test("a flipped byte anywhere in the covered range fails the CRC")
    func corruption() throws {
        let batch = sampleBatch()
        for position in [21, 30, 61, batch.sizeInBytes - 1] {
            var bytes = batch.buffer
            let byte = bytes.getInteger(at: position, as: UInt8.self) ?? 0
            bytes.setInteger(byte ^ 0x01, at: position)
            let corrupted = try RecordBatch(bytes: bytes)
            #expect(throws: RecordBatchError.self) { try corrupted.validate() }
        }
    }

    @Test("magic 0 and 1 are rejected with a clear error")
    func legacyMagic() {
        for magic: UInt8 in [0, 1] {
            var bytes = sampleBatch().buffer
            bytes.setInteger(magic, at: 16)
            #expect(throws: RecordBatchError.unsupportedMagic(Int8(magic))) { _ = try RecordBatch(bytes: bytes) }
            var records = bytes
            #expect(throws: RecordBatchError.unsupportedMagic(Int8(magic))) { _ = try RecordBatch.next(from: &records) }
        }
        #expect(RecordBatchError.unsupportedMagic(1).description.contains("only magic 2"))
    }

    @Test("truncated batches and lying lengths are rejected")
    func truncation() throws {
        let bytes = sampleBatch().buffer
        var empty = ByteBuffer()
        #expect(try RecordBatch.next(from: &empty) == nil)
        for cut in [1, 10, 60, bytes.readableBytes - 1] {
            var records = try #require(bytes.getSlice(at: 0, length: cut))
            #expect(throws: RecordBatchError.self) { _ = try RecordBatch.next(from: &records) }
        }
        var lying = bytes
        lying.setInteger(Int32(10), at: 8, endianness: .big)
        #expect(throws: RecordBatchError.invalidBatchLength(10)) { _ = try RecordBatch(bytes: lying) }
    }

    /// Rewrites a header field and fixes the CRC, so only the field's own check can fail.
    private func withField(_ batch: RecordBatch, _ mutate: (inout ByteBuffer) -> Void) throws -> RecordBatch {
        var bytes = batch.buffer
        mutate(&bytes)
        let crc = CRC32C.checksum(bytes.getSlice(at: 21, length: bytes.readableBytes - 21) ?? ByteBuffer())
        bytes.setInteger(crc, at: 17, endianness: .big)
        return try RecordBatch(bytes: bytes)
    }

    @Test("recordsCount must agree with lastOffsetDelta and the records")
    func recordCount() throws {
        let batch = sampleBatch()
        let wrongCount = try withField(batch) { $0.setInteger(Int32(4), at: 57, endianness: .big) }
        #expect(throws: RecordBatchError.invalidRecordCount(recordsCount: 4, lastOffsetDelta: 2)) { try wrongCount.validate() }
        let bothWrong = try withField(batch) {
            $0.setInteger(Int32(4), at: 57, endianness: .big)
            $0.setInteger(Int32(3), at: 23, endianness: .big)
        }
        #expect(throws: RecordBatchError.self) { try bothWrong.validate() }
        let zero = try withField(batch) {
            $0.setInteger(Int32(0), at: 57, endianness: .big)
            $0.setInteger(Int32(-1), at: 23, endianness: .big)
        }
        #expect(throws: RecordBatchError.self) { try zero.validate() }
    }

    @Test("a compressed batch validates by header and CRC and is not iterated")
    func compressed() throws {
        let batch = try withField(sampleBatch()) { $0.setInteger(Int16(4), at: 21, endianness: .big) }
        #expect(batch.compression == .zstd)
        try batch.validate()
        #expect(throws: RecordBatchError.compressed(.zstd)) { _ = try batch.records() }
    }

    @Test("malformed records inside an uncompressed batch are rejected")
    func malformedRecords() throws {
        let batch = sampleBatch()
        // The first record's length varint sits at byte 61; make it claim more than the batch.
        let tooLong = try withField(batch) { $0.setInteger(UInt8(0x7E), at: 61) }
        #expect(throws: RecordBatchError.self) { try tooLong.validate() }
        // A negative record length (zig-zag 0x01 = -1).
        let negative = try withField(batch) { $0.setInteger(UInt8(0x01), at: 61) }
        #expect(throws: RecordBatchError.self) { try negative.validate() }
        // Trailing garbage after the last record.
        var longer = batch.buffer
        longer.writeInteger(UInt8(0))
        longer.setInteger(Int32(longer.readableBytes - 12), at: 8, endianness: .big)
        let trailing = try withField(try RecordBatch(bytes: longer)) { _ in }
        #expect(throws: RecordBatchError.self) { try trailing.validate() }
    }

    @Test("the allocation-free record walk in validate() agrees with records() on corrupted batches")
    func walkAgreesWithRecords() throws {
        var rng = TestRandom(seed: 0xFA11)
        // Besides the small sample, a batch whose lengths and deltas need 2- and 3-byte varints.
        var wide = RecordBatchBuilder()
        for index in 0..<4 {
            wide.append(.init(
                timestamp: 1_700_000_000_000 + Int64(index) * 70_000, key: ByteBuffer(repeating: 1, count: 70 * index),
                value: ByteBuffer(repeating: 2, count: 9_000 * index + 100),
                headers: [RecordHeader(key: String(repeating: "h", count: 65), value: ByteBuffer(repeating: 3, count: 130))]
            ))
        }
        for (round, original) in [sampleBatch(), wide.build()].enumerated() {
            try original.validate()
            for _ in 0..<(round == 0 ? 3000 : 600) {
                let mutated = try withField(original) { bytes in
                    for _ in 0..<Int(1 + rng.next() % 3) {
                        let position = 61 + Int(rng.next() % UInt64(bytes.readableBytes - 61))
                        bytes.setInteger(UInt8(truncatingIfNeeded: rng.next()), at: position)
                    }
                }
                let walked = (try? mutated.validate()) != nil
                // validate() also requires maxTimestamp to be the records' largest timestamp.
                let parsed = (try? mutated.records()).map { records in
                    records.map(\.timestamp).max() == mutated.maxTimestamp && mutated.maxTimestamp >= mutated.baseTimestamp
                } ?? false
                #expect(walked == parsed, "walk \(walked) vs records \(parsed) for \(mutated.buffer.hexString)")
            }
        }
    }

    @Test("a header that contradicts itself or its records is refused")
    func inconsistentHeaders() throws {
        let batch = sampleBatch()
        // maxTimestamp that is not the records' largest timestamp.
        let wrongMax = try withField(batch) { $0.setInteger(batch.maxTimestamp + 1, at: 35, endianness: .big) }
        #expect(throws: RecordBatchError.self) { try wrongMax.validate() }
        // maxTimestamp before baseTimestamp.
        let backwards = try withField(batch) { $0.setInteger(batch.baseTimestamp - 1, at: 35, endianness: .big) }
        #expect(throws: RecordBatchError.self) { try backwards.validate() }
        // A "compressed" batch of 40 payload bytes claiming 2^31 - 1 records.
        var compressed = ByteBuffer()
        compressed.writeImmutableBuffer(batch.buffer.getSlice(at: batch.buffer.readerIndex, length: 61) ?? ByteBuffer())
        compressed.writeRepeatingByte(7, count: 40)
        compressed.setInteger(Int32(compressed.readableBytes - 12), at: 8, endianness: .big)
        let claimed = try withField(try RecordBatch(bytes: compressed)) { bytes in
            bytes.setInteger(Int16(3), at: 21, endianness: .big)  // lz4
            bytes.setInteger(Int32.max - 1, at: 23, endianness: .big)
            bytes.setInteger(Int32.max, at: 57, endianness: .big)
        }
        #expect(throws: RecordBatchError.self) { try claimed.validate() }
        try batch.validate()
    }

    @Test("several batches split out of one records field")
    func splitting() throws {
        var records = ByteBuffer()
        var builder = RecordBatchBuilder()
        builder.append(.init(timestamp: 5, key: nil, value: ByteBuffer(string: "a")))
        for offset in [0, 1, 2] as [Int64] {
            var batch = builder.build()
            batch.setBaseOffset(offset)
            records.writeImmutableBuffer(batch.buffer)
        }
        let batches = try RecordBatch.all(in: records)
        #expect(batches.map(\.baseOffset) == [0, 1, 2])
    }

    @Test("zig-zag varints round-trip at the edges")
    func varints() {
        for value: Int64 in [0, -1, 1, 63, -64, 64, Int64(Int32.max), Int64(Int32.min), .max, .min] {
            var buffer = ByteBuffer()
            buffer.writeVarlong(value)
            #expect(buffer.readVarlong() == value)
        }
        for value: Int32 in [0, -1, 1, .max, .min, 300, -300] {
            var buffer = ByteBuffer()
            buffer.writeVarint(value)
            #expect(buffer.readVarint() == value)
        }
    }
}
