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

@Suite("Frame assembler")
struct FrameAssemblerTests {
    private func stream(_ bodies: [[UInt8]]) -> ByteBuffer {
        var buffer = ByteBuffer()
        for body in bodies {
            buffer.writeInteger(Int32(body.count))
            buffer.writeBytes(body)
        }
        return buffer
    }

    private func assemble(_ input: ByteBuffer, chunks: [Int], maximum: Int = 1 << 20) throws -> ([ByteBuffer], Int) {
        var assembly = KafkaFrameAssembly(maximumFrameLength: maximum)
        var frames: [ByteBuffer] = []
        var source = input
        var sizes = chunks.makeIterator()
        while source.readableBytes > 0 {
            let size = min(max(sizes.next() ?? source.readableBytes, 1), source.readableBytes)
            guard let chunk = source.readSlice(length: size) else { break }
            try assembly.feed(chunk, allocator: ByteBufferAllocator()) { frames.append($0) }
        }
        return (frames, assembly.bufferedBytes)
    }

    @Test("same frames for every chunking, including frames larger than the upfront reservation")
    func chunkings() throws {
        var rng = TestRandom(seed: 7)
        let big = (0..<(KafkaFrameAssembly.largestUpfrontReservation + 3001)).map { UInt8(truncatingIfNeeded: $0 &* 31) }
        for round in 0..<30 {
            var bodies: [[UInt8]] = (0..<Int(rng.next() % 6)).map { _ in
                (0..<Int(rng.next() % 400)).map { _ in UInt8(truncatingIfNeeded: rng.next()) }
            }
            bodies.append([])
            if round % 10 == 0 { bodies.append(big) }
            let input = stream(bodies)
            let chunkSizes = (0..<2000).map { _ in 1 + Int(rng.next() % UInt64(round % 3 == 0 ? 5 : 70_000)) }
            let (frames, left) = try assemble(input, chunks: chunkSizes, maximum: 16 << 20)
            #expect(frames == bodies.map { ByteBuffer(bytes: $0) }, "round \(round)")
            #expect(left == 0)
        }
        let bodies: [[UInt8]] = [[1, 2, 3], [], [9]]
        let byteByByte = try assemble(stream(bodies), chunks: Array(repeating: 1, count: 100))
        #expect(byteByByte.0 == bodies.map { ByteBuffer(bytes: $0) })
        var assembly = KafkaFrameAssembly()
        var early: [ByteBuffer] = []
        try assembly.feed(stream(bodies).getSlice(at: 0, length: 6) ?? ByteBuffer(), allocator: ByteBufferAllocator()) { early.append($0) }
        #expect(early.isEmpty && assembly.bufferedBytes == 6, "a partial frame is held, not emitted")
    }

    @Test("a frame that arrives whole in one read is passed on without a copy")
    func zeroCopy() throws {
        let input = stream([Array(repeating: 5, count: 1000), Array(repeating: 6, count: 10)])
        var assembly = KafkaFrameAssembly()
        var frames: [ByteBuffer] = []
        try assembly.feed(input, allocator: ByteBufferAllocator()) { frames.append($0) }
        #expect(frames.count == 2)
        let base = input.withUnsafeReadableBytes { UInt(bitPattern: $0.baseAddress) }
        let first = frames[0].withUnsafeReadableBytes { UInt(bitPattern: $0.baseAddress) }
        let second = frames[1].withUnsafeReadableBytes { UInt(bitPattern: $0.baseAddress) }
        #expect(first == base + 4)
        #expect(second == base + 4 + 1000 + 4)
    }

    @Test("negative and oversized lengths are typed errors, also when the prefix is split")
    func badLengths() {
        #expect(throws: KafkaFrameError.negativeLength(-2)) {
            _ = try assemble(ByteBuffer(bytes: [0xFF, 0xFF, 0xFF, 0xFE]), chunks: [1, 1, 1, 1])
        }
        #expect(throws: KafkaFrameError.frameTooLarge(length: 101, maximum: 100)) {
            _ = try assemble(ByteBuffer(bytes: [0, 0, 0, 101]), chunks: [3, 1], maximum: 100)
        }
        let exact = try? assemble(stream([Array(repeating: 1, count: 100)]), chunks: [], maximum: 100)
        #expect(exact?.0.count == 1)
    }

    @Test("the channel handler passes frames on and reports a bad length once")
    func channel() throws {
        let channel = EmbeddedChannel(handler: KafkaFrameAssembler(maximumFrameLength: 10))
        try channel.writeInbound(ByteBuffer(bytes: [0, 0, 0, 2, 7]))
        #expect(try channel.readInbound(as: ByteBuffer.self) == nil)
        try channel.writeInbound(ByteBuffer(bytes: [8, 0, 0]))
        #expect(try channel.readInbound(as: ByteBuffer.self) == ByteBuffer(bytes: [7, 8]))
        #expect(throws: KafkaFrameError.frameTooLarge(length: 11, maximum: 10)) {
            try channel.writeInbound(ByteBuffer(bytes: [0, 11]))
        }
        try channel.writeInbound(ByteBuffer(bytes: [0, 0, 0, 1, 1]))
        #expect(try channel.readInbound(as: ByteBuffer.self) == nil, "nothing is read after a bad length")
        _ = try? channel.finish()
    }
}
