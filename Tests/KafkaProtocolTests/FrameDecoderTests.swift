import KafkaProtocol
import NIOCore
import NIOEmbedded
import NIOTestUtils
import Testing

@Suite("Frame decoder")
struct FrameDecoderTests {
    private func frame(_ body: [UInt8]) -> ByteBuffer {
        var buffer = ByteBuffer()
        buffer.writeInteger(Int32(body.count))
        buffer.writeBytes(body)
        return buffer
    }

    @Test("same frames whether fed byte by byte, all at once, or frame by frame")
    func verifier() throws {
        var rng = TestRandom(seed: 42)
        var pairs: [(ByteBuffer, [ByteBuffer])] = []
        for _ in 0..<20 {
            var input = ByteBuffer()
            var outputs: [ByteBuffer] = []
            for _ in 0..<Int(rng.next() % 5) {
                let body = (0..<Int(rng.next() % 300)).map { _ in UInt8(truncatingIfNeeded: rng.next()) }
                input.writeImmutableBuffer(frame(body))
                outputs.append(ByteBuffer(bytes: body))
            }
            pairs.append((input, outputs))
        }
        try ByteToMessageDecoderVerifier.verifyDecoder(inputOutputPairs: pairs) {
            KafkaFrameDecoder(maximumFrameLength: 1024)
        }
    }

    @Test("nextFrame splits identically for every chunking")
    func chunking() throws {
        let bodies: [[UInt8]] = [[1, 2, 3], [], Array(repeating: 7, count: 1000), [9]]
        var stream = ByteBuffer()
        for body in bodies { stream.writeImmutableBuffer(frame(body)) }
        for chunkSize in [1, 2, 3, 5, 64, stream.readableBytes] {
            let decoder = KafkaFrameDecoder()
            var pending = ByteBuffer()
            var frames: [ByteBuffer] = []
            var source = stream
            while let chunk = source.readSlice(length: min(chunkSize, source.readableBytes)), chunk.readableBytes > 0 {
                pending.writeImmutableBuffer(chunk)
                while let next = try decoder.nextFrame(from: &pending) { frames.append(next) }
            }
            #expect(frames == bodies.map { ByteBuffer(bytes: $0) }, "chunk size \(chunkSize)")
            #expect(pending.readableBytes == 0)
        }
    }

    @Test("negative and oversized lengths are typed errors before the body arrives")
    func badLengths() {
        let decoder = KafkaFrameDecoder(maximumFrameLength: 100)
        var negative = ByteBuffer(bytes: [0xFF, 0xFF, 0xFF, 0xFE])
        #expect(throws: KafkaFrameError.negativeLength(-2)) { _ = try decoder.nextFrame(from: &negative) }
        var huge = ByteBuffer(bytes: [0x7F, 0xFF, 0xFF, 0xFF])
        #expect(throws: KafkaFrameError.frameTooLarge(length: 0x7FFF_FFFF, maximum: 100)) {
            _ = try decoder.nextFrame(from: &huge)
        }
        var justOver = ByteBuffer(bytes: [0, 0, 0, 101])
        #expect(throws: KafkaFrameError.frameTooLarge(length: 101, maximum: 100)) {
            _ = try decoder.nextFrame(from: &justOver)
        }
        #expect(KafkaFrameDecoder().maximumFrameLength == 104_857_600)
    }

    @Test("the channel handler reports a bad length as an error")
    func channelError() throws {
        let channel = EmbeddedChannel(handler: ByteToMessageHandler(KafkaFrameDecoder(maximumFrameLength: 10)))
        #expect(throws: KafkaFrameError.frameTooLarge(length: 11, maximum: 10)) {
            try channel.writeInbound(ByteBuffer(bytes: [0, 0, 0, 11]))
        }
        _ = try? channel.finish()
    }
}
