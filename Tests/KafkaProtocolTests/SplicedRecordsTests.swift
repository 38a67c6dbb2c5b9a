import KafkaProtocol
import NIOCore
import Testing

/// A response whose large records are spliced (sent from their own buffers) is, byte for
/// byte, the same frame as the one with every record copied in.
@Suite("Spliced records")
struct SplicedRecordsTests {
    func fetchResponse(_ sizes: [Int]) -> FetchResponse {
        let partitions = sizes.enumerated().map { index, size in
            FetchResponse.PartitionData(
                partitionIndex: Int32(index), errorCode: 0, highWatermark: Int64(size), lastStableOffset: Int64(size), logStartOffset: 0,
                abortedTransactions: nil, preferredReadReplica: -1,
                records: .bytes(ByteBuffer(bytes: (0..<size).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ index) }))
            )
        }
        return FetchResponse(throttleTimeMs: 0, errorCode: 0, sessionId: 7, responses: [.init(topic: "t", partitions: partitions)])
    }

    @Test(arguments: [Int16(4), 11, 12, 16])
    func splicedFramesEqualCopiedFrames(version: Int16) {
        let response = fetchResponse([0, 100, 20_000, 70_000, 16 << 10, (16 << 10) - 1])
        let copied = KafkaWriter.encodeResponse(response, version: version, correlationId: 9)
        let spliced = KafkaWriter.encodeResponse(response, version: version, correlationId: 9, inlineRecordsThreshold: 16 << 10)
        #expect(copied.splices.isEmpty && spliced.attachments.count == 3)
        var joined = ByteBuffer()
        for part in spliced.parts { joined.writeImmutableBuffer(part) }
        #expect(joined == copied.buffer)
        #expect(spliced.buffer.readableBytes < copied.buffer.readableBytes - 100_000, "the large records are not copied")
    }
}
