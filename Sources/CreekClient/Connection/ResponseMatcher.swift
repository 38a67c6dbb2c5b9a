import KafkaProtocol
import NIOCore

/// One request on the wire, waiting for its response frame.
struct PendingRequest {
    let correlationId: Int32
    let promise: EventLoopPromise<ByteBuffer>
}

/// The client side of a pipelined Kafka connection: outbound request frames are written in
/// order and, when they expect an answer, queued; Kafka answers a connection's requests in
/// order, so each inbound frame completes the oldest queued request (its correlation id is
/// checked). When the connection fails or closes, every queued request fails with it.
/// Event-loop bound, like every NIO handler.
final class ResponseMatcher: ChannelDuplexHandler {
    typealias InboundIn = ByteBuffer
    /// A request frame, possibly in parts (record batches sent as they are), written in order.
    typealias OutboundIn = (frames: [ByteBuffer], pending: PendingRequest?)
    typealias OutboundOut = ByteBuffer

    private var queue: CircularBuffer<PendingRequest> = []
    private var failure: KafkaClientError?

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        let (frames, pending) = unwrapOutboundIn(data)
        if let failure {
            pending?.promise.fail(failure)
            promise?.fail(failure)
            return
        }
        if let pending { queue.append(pending) }
        for (index, frame) in frames.enumerated() {
            context.write(wrapOutboundOut(frame), promise: index == frames.count - 1 ? promise : nil)
        }
        if frames.isEmpty { promise?.succeed(()) }
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var frame = unwrapInboundIn(data)
        guard let correlationId = frame.readInteger(endianness: .big, as: Int32.self), let head = queue.popFirst() else {
            fail(context: context, .malformedResponse("a response nobody asked for"))
            return
        }
        guard head.correlationId == correlationId else {
            head.promise.fail(KafkaClientError.malformedResponse("correlation id \(correlationId), expected \(head.correlationId)"))
            fail(context: context, .malformedResponse("responses out of order"))
            return
        }
        head.promise.succeed(frame)
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        fail(context: context, .connection("\(error)"))
    }

    func channelInactive(context: ChannelHandlerContext) {
        failAll(.connection("closed by the broker"))
        context.fireChannelInactive()
    }

    private func fail(context: ChannelHandlerContext, _ error: KafkaClientError) {
        failAll(error)
        context.close(promise: nil)
    }

    private func failAll(_ error: KafkaClientError) {
        if failure == nil { failure = error }
        while let pending = queue.popFirst() { pending.promise.fail(error) }
    }
}
