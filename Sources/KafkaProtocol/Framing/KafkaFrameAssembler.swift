public import NIOCore

/// Splits a TCP byte stream into Kafka frames with at most one copy of each byte: a frame
/// that arrives whole inside one socket read is passed on as a slice of that read (no copy);
/// a frame spread over several reads is copied once into a buffer sized from its length
/// prefix. (NIO's `ByteToMessageHandler` appends every read to a cumulation buffer that
/// grows by reallocation, which for ~1 MiB Produce frames copies each byte about twice.)
///
/// Invariant: `prefix` holds fewer than 4 bytes and is empty while `partial` is set;
/// `partial`, when set, has fewer than `expected` readable bytes.
public struct KafkaFrameAssembly: Sendable {
    /// Up to this many bytes are reserved when a frame's length prefix arrives; larger frames
    /// grow as their bytes arrive, so a client cannot make the broker reserve
    /// `socket.request.max.bytes` by announcing a length it never sends.
    public static let largestUpfrontReservation = 8 << 20

    public let maximumFrameLength: Int
    private var prefix: [UInt8] = []
    private var partial: ByteBuffer?
    private var expected = 0

    public init(maximumFrameLength: Int = KafkaFrameDecoder.defaultMaximumFrameLength) {
        self.maximumFrameLength = maximumFrameLength
    }

    /// Bytes received for frames not yet complete (prefix included).
    public var bufferedBytes: Int { prefix.count + (partial.map { 4 + $0.readableBytes } ?? 0) }

    /// Consumes all of `bytes`, calling `emit` with each completed frame (without its prefix)
    /// in order. Throws at the first negative or oversized length; the stream is then unusable.
    public mutating func feed(
        _ bytes: ByteBuffer, allocator: ByteBufferAllocator, emit: (ByteBuffer) -> Void
    ) throws(KafkaFrameError) {
        var bytes = bytes
        while bytes.readableBytes > 0 {
            if var frame = partial {
                partial = nil
                let take = min(expected - frame.readableBytes, bytes.readableBytes)
                if let chunk = bytes.readSlice(length: take) { frame.writeImmutableBuffer(chunk) }
                if frame.readableBytes == expected {
                    emit(frame)
                } else {
                    partial = frame
                }
                continue
            }
            let length: Int32
            if prefix.isEmpty, let whole = bytes.readInteger(endianness: .big, as: Int32.self) {
                length = whole
            } else {
                while prefix.count < 4, let byte = bytes.readInteger(as: UInt8.self) { prefix.append(byte) }
                guard prefix.count == 4 else { return }
                length = prefix.withUnsafeBytes { Int32(bigEndian: $0.loadUnaligned(as: Int32.self)) }
                prefix.removeAll(keepingCapacity: true)
            }
            guard length >= 0 else { throw .negativeLength(length) }
            guard Int(length) <= maximumFrameLength else { throw .frameTooLarge(length: length, maximum: maximumFrameLength) }
            let size = Int(length)
            if let whole = bytes.readSlice(length: size) {
                emit(whole)
                continue
            }
            var frame = allocator.buffer(capacity: min(size, Self.largestUpfrontReservation))
            frame.writeImmutableBuffer(bytes)
            bytes.moveReaderIndex(forwardBy: bytes.readableBytes)
            expected = size
            partial = frame
        }
    }
}

/// The channel handler around `KafkaFrameAssembly`: reads `ByteBuffer`s from the socket and
/// passes each complete frame on. A bad length is reported through `errorCaught` and
/// nothing more is read from the connection.
public final class KafkaFrameAssembler: ChannelInboundHandler {
    public typealias InboundIn = ByteBuffer
    public typealias InboundOut = ByteBuffer

    private var assembly: KafkaFrameAssembly
    private var failed = false

    public init(maximumFrameLength: Int = KafkaFrameDecoder.defaultMaximumFrameLength) {
        self.assembly = KafkaFrameAssembly(maximumFrameLength: maximumFrameLength)
    }

    public func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard !failed else { return }
        do {
            try assembly.feed(unwrapInboundIn(data), allocator: context.channel.allocator) { frame in
                context.fireChannelRead(wrapInboundOut(frame))
            }
        } catch {
            failed = true
            context.fireErrorCaught(error)
        }
    }
}

@available(*, unavailable)
extension KafkaFrameAssembler: Sendable {}
