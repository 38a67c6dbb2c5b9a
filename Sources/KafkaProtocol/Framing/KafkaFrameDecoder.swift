public import NIOCore

/// Why the byte stream cannot be split into Kafka frames. The connection must close.
public enum KafkaFrameError: Error, Hashable, Sendable, CustomStringConvertible {
    /// The int32 length prefix is negative.
    case negativeLength(Int32)
    /// The length prefix exceeds the configured maximum (`socket.request.max.bytes`).
    case frameTooLarge(length: Int32, maximum: Int)

    public var description: String {
        switch self {
        case .negativeLength(let length):
            return "frame length \(length) is negative"
        case .frameTooLarge(let length, let maximum):
            return "frame length \(length) exceeds socket.request.max.bytes (\(maximum))"
        }
    }
}

/// Splits a TCP byte stream into Kafka frames: an int32 big-endian length, then that
/// many bytes. Emits each frame's bytes without the prefix, as a slice (no copy).
/// A negative or oversized length is an error before any of the body is buffered.
public struct KafkaFrameDecoder: ByteToMessageDecoder {
    public typealias InboundOut = ByteBuffer

    /// Kafka's default `socket.request.max.bytes`.
    public static let defaultMaximumFrameLength = 104_857_600

    public let maximumFrameLength: Int

    public init(maximumFrameLength: Int = KafkaFrameDecoder.defaultMaximumFrameLength) {
        self.maximumFrameLength = maximumFrameLength
    }

    /// Takes one frame off the front of `buffer`, or returns nil when more bytes are needed.
    public func nextFrame(from buffer: inout ByteBuffer) throws(KafkaFrameError) -> ByteBuffer? {
        guard let length = buffer.getInteger(at: buffer.readerIndex, endianness: .big, as: Int32.self) else {
            return nil
        }
        guard length >= 0 else { throw .negativeLength(length) }
        guard Int(length) <= maximumFrameLength else { throw .frameTooLarge(length: length, maximum: maximumFrameLength) }
        guard buffer.readableBytes >= 4 + Int(length) else { return nil }
        buffer.moveReaderIndex(forwardBy: 4)
        return buffer.readSlice(length: Int(length))
    }

    public mutating func decode(context: ChannelHandlerContext, buffer: inout ByteBuffer) throws -> DecodingState {
        guard let frame = try nextFrame(from: &buffer) else { return .needMoreData }
        context.fireChannelRead(Self.wrapInboundOut(frame))
        return .continue
    }

    public mutating func decodeLast(
        context: ChannelHandlerContext, buffer: inout ByteBuffer, seenEOF: Bool
    ) throws -> DecodingState {
        try decode(context: context, buffer: &buffer)
    }
}
