import KafkaProtocol
import NIOCore
import Testing

typealias RandomMessage = KafkaMessage & RandomInstance
typealias RandomRequest = KafkaRequestMessage & RandomInstance

@Suite("Generated codecs round-trip")
struct RoundTripTests {
    static let instancesPerVersion = 40

    @Test("every message type is generated and can build random values")
    func everySchemaIsCovered() {
        #expect(KafkaMessageCatalog.all.count == 186)
        for type in KafkaMessageCatalog.all {
            #expect(type is any RandomInstance.Type, "\(type.messageName) has no random builder")
        }
    }

    @Test("random values encode, decode to an equal value, and re-encode to identical bytes",
          arguments: KafkaMessageCatalog.all.map { $0.messageName })
    func roundTrip(messageName: String) throws {
        let type = try #require(KafkaMessageCatalog.all.first { $0.messageName == messageName })
        let cast = type as? any RandomMessage.Type
        let randomType = try #require(cast)
        try roundTrip(randomType)
    }

    private func roundTrip<T: KafkaMessage & RandomInstance>(_ type: T.Type) throws {
        var rng = TestRandom(seed: T.messageName.utf8.reduce(0xC0FFEE) { $0 &* 31 &+ UInt64($1) })
        for version in T.validVersions {
            for _ in 0..<Self.instancesPerVersion {
                let value = T.random(version: version, using: &rng, depth: 0)
                var encoded = ByteBuffer()
                value.write(to: &encoded, version: version)
                var reading = encoded
                let decoded = try T(from: &reading, version: version)
                #expect(reading.readableBytes == 0, "\(T.messageName) v\(version) left \(reading.readableBytes) bytes")
                guard decoded == value else {
                    Issue.record("\(T.messageName) v\(version): decoded value differs\n  \(value)\n  \(decoded)")
                    return
                }
                var reencoded = ByteBuffer()
                decoded.write(to: &reencoded, version: version)
                #expect(reencoded == encoded, "\(T.messageName) v\(version): re-encoding differs")
            }
        }
    }
}
