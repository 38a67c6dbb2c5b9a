import KafkaProtocol
import NIOCore
import Testing

/// The record walk (the one parser, tuned for the produce path) against a deliberately plain
/// parser written here from the format's rules, on valid bodies and on thousands of corrupted
/// ones: both must accept and reject the same bodies and read the same records.
@Suite("Record walk against a reference parser")
struct RecordWalkReferenceTests {
    /// Kafka's rules for a v2 record body, read field by field with ByteBuffer's own reads.
    private func reference(
        _ body: ByteBuffer, count: Int, baseOffset: Int64, baseTimestamp: Int64, lastOffsetDelta: Int32, contiguous: Bool
    ) -> [Record]? {
        var body = body
        var records: [Record] = []
        var previous: Int32 = -1
        for index in 0..<count {
            guard let length = body.readVarint(), length >= 0, var record = body.readSlice(length: Int(length)),
                  let attributes = record.readInteger(as: Int8.self), let timestampDelta = record.readVarlong(),
                  let offsetDelta = record.readVarint() else { return nil }
            if contiguous {
                guard offsetDelta == Int32(index) else { return nil }
            } else {
                guard offsetDelta > previous, offsetDelta <= lastOffsetDelta else { return nil }
            }
            previous = offsetDelta
            func nullable(_ buffer: inout ByteBuffer) -> ByteBuffer?? {
                guard let length = buffer.readVarint() else { return nil }
                if length == -1 { return .some(nil) }
                guard length >= 0, let bytes = buffer.readSlice(length: Int(length)) else { return nil }
                return .some(bytes)
            }
            guard let key = nullable(&record), let value = nullable(&record),
                  let headerCount = record.readVarint(), headerCount >= 0 else { return nil }
            var headers: [RecordHeader] = []
            for _ in 0..<Int(headerCount) {
                guard let keyLength = record.readVarint(), keyLength >= 0,
                      let headerKey = record.readSlice(length: Int(keyLength)), let headerValue = nullable(&record) else { return nil }
                headers.append(RecordHeader(key: String(decoding: headerKey.readableBytesView, as: UTF8.self), value: headerValue))
            }
            guard record.readableBytes == 0 else { return nil }
            records.append(Record(
                offset: baseOffset &+ Int64(offsetDelta), timestamp: baseTimestamp &+ timestampDelta,
                attributes: attributes, key: key, value: value, headers: headers
            ))
        }
        return body.readableBytes == 0 ? records : nil
    }

    private func batches() -> [RecordBatch] {
        var small = RecordBatchBuilder()
        small.append(.init(timestamp: 1_700_000_000_000, key: ByteBuffer(string: "k"), value: ByteBuffer(string: "v"),
                           headers: [RecordHeader(key: "h", value: nil)]))
        small.append(.init(timestamp: 1_699_999_000_000, key: nil, value: nil))
        // Lengths and deltas of one, two and three varint bytes; the last record's header
        // count sits in the body's final byte (the walk's one-byte-left path).
        var wide = RecordBatchBuilder()
        for index in 0..<70 {
            wide.append(.init(
                timestamp: 1_700_000_000_000 + Int64(index % 7) * 9_000, key: index % 3 == 0 ? nil : ByteBuffer(repeating: 1, count: index),
                value: ByteBuffer(repeating: 2, count: index % 5 == 0 ? 20_000 : 100),
                headers: index % 4 == 0 ? [RecordHeader(key: String(repeating: "h", count: index), value: ByteBuffer(repeating: 3, count: 70))] : []
            ))
        }
        // Timestamp deltas growing from one to three varint bytes.
        return [small.build(), wide.build(), runs(count: 300) { $0 * $0 * 2 }]
    }

    /// What producers send most: runs of records alike in layout (the walk reads those from
    /// the learned `RecordShape`), runs of 50 with a different key, value or header between
    /// runs; `timestamp` gives each record's delta in milliseconds.
    private func runs(count: Int, timestamp: (Int) -> Int) -> RecordBatch {
        var builder = RecordBatchBuilder()
        for index in 0..<count {
            let (key, value): (Int?, Int?) = switch index / 50 % 6 {
            case 0: (nil, 100)
            case 1: (8, 100)
            case 2: (nil, nil)
            case 3: (3, 20)
            case 4: (nil, 100)
            default: (1, 300)
            }
            builder.append(.init(
                timestamp: 1_700_000_000_000 + Int64(timestamp(index)), key: key.map { ByteBuffer(repeating: 4, count: $0) },
                value: value.map { ByteBuffer(repeating: UInt8(truncatingIfNeeded: index), count: $0) },
                headers: index / 50 % 6 == 4 && index % 10 == 0 ? [RecordHeader(key: "h", value: nil)] : []
            ))
        }
        return builder.build()
    }

    @Test("valid and corrupted bodies: same verdict and same records, contiguous or not")
    func agreesWithReference() throws {
        var rng = TestRandom(seed: 0x5EED_0F_0A1C)
        for batch in batches() {
            try compare(batch, rounds: 1500, corruptingFrom: 0, rng: &rng)
        }
    }

    @Test("records past 8,192 (offset deltas of three bytes) against the reference")
    func threeByteOffsetDeltas() throws {
        var rng = TestRandom(seed: 0x3B17E)
        let batch = runs(count: 8_400) { $0 % 50 }
        // Corrupt only the records past index 8,192, whose offset deltas take three bytes.
        let tailStart = try batch.rawRecords(inBody: batch.body).prefix(8_192).reduce(0) { $0 + $1.bytes.readableBytes }
        try compare(batch, rounds: 60, corruptingFrom: tailStart, rng: &rng)
    }

    private func compare(_ batch: RecordBatch, rounds: Int, corruptingFrom first: Int, rng: inout TestRandom) throws {
        let original = try #require(batch.buffer.getSlice(at: RecordBatch.headerSize, length: batch.buffer.readableBytes - RecordBatch.headerSize))
        for round in 0..<rounds {
            var body = original
            if round > 0 {
                // Corrupt one to three bytes, biased toward the first bytes of records,
                // where the lengths and varints are.
                for _ in 0..<Int(1 + rng.next() % 3) {
                    let region = body.readableBytes - first
                    let span = rng.next() % 2 == 0 ? min(region, 64) : region
                    body.setInteger(UInt8(truncatingIfNeeded: rng.next()), at: body.readerIndex + first + Int(rng.next() % UInt64(span)))
                }
                if rng.next() % 8 == 0, body.readableBytes > 1 { body.moveWriterIndex(to: body.writerIndex - 1) }
            }
            for contiguous in [true, false] {
                let expected = reference(
                    body, count: Int(batch.recordsCount), baseOffset: batch.baseOffset, baseTimestamp: batch.baseTimestamp,
                    lastOffsetDelta: batch.lastOffsetDelta, contiguous: contiguous
                )
                let walked = try? batch.records(inBody: body, contiguous: contiguous)
                #expect(walked == expected, "round \(round), contiguous \(contiguous): \(body.hexString)")
            }
        }
    }
}
