// fixture-recorder PORT OUTPUT_DIR LABEL
//
// A tiny loopback Kafka listener for capturing what real clients send. It writes every
// request frame it receives to OUTPUT_DIR as `LABEL-NN-Api-vV.hex` and answers just
// enough (ApiVersions, Metadata, Produce, InitProducerId) for a producer to get as far
// as sending its first Produce. It stores nothing. Used by scripts/capture-fixtures.sh.

import Foundation
import KafkaProtocol
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix

/// What the recorder was told on its command line.
struct RecorderSettings: Sendable {
    var port: Int
    var outputDirectory: URL
    var label: String
    let sequence = NIOLockedValueBox(0)
}

extension RecorderSettings {
    func record(_ frame: ByteBuffer, request: FramedRequest?) {
        let number = sequence.withLockedValue { value -> Int in
            value += 1
            return value
        }
        let name = request.map { "\($0.apiKey.name)-v\($0.apiVersion)" } ?? "unparsed"
        let hex = frame.readableBytesView.map { byte in
            let digits = String(byte, radix: 16)
            return digits.count == 1 ? "0" + digits : digits
        }
        var lines = ["# \(label): request frame \(number) (\(name)), without its 4-byte length prefix."]
        lines.append("# Captured by scripts/capture-fixtures.sh with fixture-recorder on loopback.")
        for start in stride(from: 0, to: hex.count, by: 32) {
            lines.append(hex[start..<min(start + 32, hex.count)].joined())
        }
        let file = outputDirectory.appendingPathComponent(String(format: "%@-%02d-%@.hex", label, number, name))
        try? (lines.joined(separator: "\n") + "\n").write(to: file, atomically: true, encoding: .utf8)
    }

    func answer(_ request: FramedRequest) -> KafkaWriter? {
        var body = request.body
        let version = request.apiVersion
        let correlationId = request.correlationId
        switch request.apiKey {
        case .apiVersions:
            guard ApiKey.apiVersions.validVersions.contains(version) else {
                return ApiVersionsResponse.unsupportedVersionFrame(correlationId: correlationId, supported: ApiKey.apiVersions.validVersions)
            }
            let keys = ApiKey.allCases.filter { $0.listeners.contains("broker") }.map {
                ApiVersionsResponse.ApiVersion(apiKey: $0.rawValue, minVersion: $0.validVersions.lowerBound, maxVersion: $0.validVersions.upperBound)
            }
            return .encodeResponse(ApiVersionsResponse(apiKeys: keys), version: version, correlationId: correlationId)
        case .metadata:
            let decoded = try? MetadataRequest(from: &body, version: version)
            let names = decoded?.topics?.compactMap(\.name) ?? []
            let topics = (names.isEmpty ? ["fixtures"] : names).map { name in
                MetadataResponse.MetadataResponseTopic(
                    name: name,
                    topicId: KafkaUUID(high: 0x0123_4567_89AB_CDEF, low: 0x0FED_CBA9_8765_4321),
                    partitions: [.init(partitionIndex: 0, leaderId: 0, leaderEpoch: 0, replicaNodes: [0], isrNodes: [0])]
                )
            }
            let response = MetadataResponse(
                brokers: [.init(nodeId: 0, host: "127.0.0.1", port: Int32(port))],
                clusterId: "fixture-cluster",
                controllerId: 0,
                topics: topics
            )
            return .encodeResponse(response, version: version, correlationId: correlationId)
        case .produce:
            guard let decoded = try? ProduceRequest(from: &body, version: version) else { return nil }
            if decoded.acks == 0 { return nil }
            let responses = decoded.topicData.map { topic in
                ProduceResponse.TopicProduceResponse(
                    name: topic.name,
                    partitionResponses: topic.partitionData.map { .init(index: $0.index, errorCode: 0, baseOffset: 0) }
                )
            }
            return .encodeResponse(ProduceResponse(responses: responses), version: version, correlationId: correlationId)
        case .initProducerId:
            return .encodeResponse(InitProducerIdResponse(producerId: 1000, producerEpoch: 0), version: version, correlationId: correlationId)
        default:
            return nil
        }
    }
}

final class RecorderHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer
    let settings: RecorderSettings

    init(settings: RecorderSettings) {
        self.settings = settings
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let frame = unwrapInboundIn(data)
        let request = try? FramedRequest(frame: frame)
        settings.record(frame, request: request)
        guard let request, let response = settings.answer(request) else { return }
        context.writeAndFlush(wrapOutboundOut(response.buffer), promise: nil)
    }
}

let arguments = CommandLine.arguments
guard arguments.count == 4, let port = Int(arguments[1]) else {
    FileHandle.standardError.write(Data("usage: fixture-recorder PORT OUTPUT_DIR LABEL\n".utf8))
    exit(2)
}
let settings = RecorderSettings(port: port, outputDirectory: URL(fileURLWithPath: arguments[2]), label: arguments[3])
let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
let bootstrap = ServerBootstrap(group: group)
    .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
    .childChannelInitializer { channel in
        channel.eventLoop.makeCompletedFuture {
            try channel.pipeline.syncOperations.addHandler(ByteToMessageHandler(KafkaFrameDecoder()))
            try channel.pipeline.syncOperations.addHandler(RecorderHandler(settings: settings))
        }
    }
let channel = try bootstrap.bind(host: "127.0.0.1", port: port).wait()
FileHandle.standardOutput.write(Data("fixture-recorder listening on 127.0.0.1:\(port)\n".utf8))
try channel.closeFuture.wait()
