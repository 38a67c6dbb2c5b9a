import KafkaCompression
import KafkaProtocol
import NIOCore
import Testing

@Suite("Batch codecs")
struct BatchCodecTests {
    static let codecs: [RecordBatch.Compression] = [.gzip, .snappy, .lz4, .zstd]

    /// Text-like, repetitive, random and empty inputs, and one past snappy's 64 KiB block.
    static func samples() -> [[UInt8]] {
        var generator = SystemRandomNumberGenerator()
        let random = (0..<100_000).map { _ in UInt8.random(in: 0...255, using: &generator) }
        let text = Array(String(repeating: "{\"user\":\"ada\",\"count\":42} ", count: 5_000).utf8)
        return [[], [7], Array(repeating: 0, count: 200_000), random, text, Array("abcabcabcabd".utf8)]
    }

    @Test("every codec is available on this machine (CI installs nothing extra for them)")
    func available() {
        for codec in Self.codecs { #expect(BatchCodec.isAvailable(codec), "\(codec)") }
    }

    @Test("compress then decompress gives the input back, in every codec")
    func roundTrip() throws {
        for codec in Self.codecs {
            for sample in Self.samples() {
                let packed = try BatchCodec.compress(sample, with: codec)
                #expect(try BatchCodec.decompress(packed, with: codec) == sample, "\(codec) \(sample.count) bytes")
            }
        }
    }

    @Test("repetitive input shrinks (the codec really compresses)")
    func shrinks() throws {
        let text = Array(String(repeating: "key-0001=value-abcdef; ", count: 4_000).utf8)
        for codec in Self.codecs {
            let packed = try BatchCodec.compress(text, with: codec)
            #expect(packed.count < text.count / 4, "\(codec): \(packed.count) of \(text.count)")
        }
    }

    @Test("raw snappy (librdkafka's framing) is read as well as xerial")
    func rawSnappy() throws {
        let text = Array(String(repeating: "hello snappy ", count: 1_000).utf8)
        let framed = try BatchCodec.compress(text, with: .snappy)
        #expect(Array(framed.prefix(8)) == [0x82, 0x53, 0x4E, 0x41, 0x50, 0x50, 0x59, 0x00])
        // A hand-made raw stream: preamble 5, then one 5-byte literal.
        let raw: [UInt8] = [5, 4 << 2, 0x68, 0x65, 0x6C, 0x6C, 0x6F]
        #expect(try BatchCodec.decompress(raw, with: .snappy) == Array("hello".utf8))
        // A copy that overlaps its own output: "ab" then copy 6 from offset 2 = "abababab".
        let overlapping: [UInt8] = [8, 1 << 2, 0x61, 0x62, (5 << 2) | 0x02, 2, 0]
        #expect(try BatchCodec.decompress(overlapping, with: .snappy) == Array("abababab".utf8))
    }

    @Test("corrupt, truncated and oversized inputs fail with a clear error, never a crash")
    func badInput() throws {
        let text = Array(String(repeating: "payload ", count: 10_000).utf8)
        for codec in Self.codecs {
            let packed = try BatchCodec.compress(text, with: codec)
            #expect(throws: CompressionError.self) { try BatchCodec.decompress(Array(packed.prefix(packed.count / 2)), with: codec) }
            #expect(throws: CompressionError.tooLarge(codec, limit: 1_000)) { try BatchCodec.decompress(packed, with: codec, limit: 1_000) }
            var generator = SystemRandomNumberGenerator()
            for _ in 0..<50 {
                let garbage = (0..<Int.random(in: 1...64, using: &generator)).map { _ in UInt8.random(in: 0...255, using: &generator) }
                _ = try? BatchCodec.decompress(garbage, with: codec, limit: 1 << 20)
            }
        }
    }

    @Test("a compressed batch decodes to the records it was built from, and keeps a subset")
    func batches() throws {
        var builder = RecordBatchBuilder()
        builder.baseOffset = 100
        for index in 0..<50 {
            builder.append(.init(timestamp: 1_000 + Int64(index), key: ByteBuffer(string: "k\(index % 7)"),
                                 value: index % 10 == 9 ? nil : ByteBuffer(string: "value \(index)")))
        }
        let plain = builder.build()
        for codec in Self.codecs {
            let batch = try RecordBatch.compressed(plain, with: codec)
            #expect(batch.compression == codec)
            #expect(batch.computeCRC() == batch.crc)
            #expect(try batch.decodedRecords() == plain.records())
            let raw = try batch.decodedRawRecords()
            let kept = raw.filter { $0.offset % 3 == 0 }
            let thinned = try batch.keeping(kept)
            #expect(thinned.baseOffset == 100 && thinned.lastOffsetDelta == 49 && thinned.compression == codec)
            #expect(thinned.recordsCount == Int32(kept.count))
            #expect(thinned.computeCRC() == thinned.crc)
            let decoded = try thinned.decodedRecords()
            #expect(decoded.map(\.offset) == kept.map(\.offset))
            #expect(decoded == (try plain.records()).filter { $0.offset % 3 == 0 })
        }
    }
}
