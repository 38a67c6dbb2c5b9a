import KafkaProtocol
import NIOCore
import Testing

@Suite("Hostile input never traps")
struct HostileInputTests {
    @Test("every truncation of a valid request throws", arguments: ApiKey.allCases)
    func truncations(apiKey: ApiKey) throws {
        let cast = apiKey.requestType as? any RandomRequest.Type
        let type = try #require(cast)
        try checkTruncations(type)
    }

    private func checkTruncations<T: KafkaRequestMessage & RandomInstance>(_ type: T.Type) throws {
        var rng = TestRandom(seed: 0x7EA5_0000 &+ UInt64(T.apiKey.rawValue))
        for version in T.validVersions {
            for _ in 0..<3 {
                let value = T.random(version: version, using: &rng, depth: 1)
                var encoded = ByteBuffer()
                value.write(to: &encoded, version: version)
                for cut in 0..<encoded.readableBytes {
                    var truncated = try #require(encoded.getSlice(at: encoded.readerIndex, length: cut))
                    #expect(throws: KafkaDecodingError.self, "\(T.messageName) v\(version) cut at \(cut)") {
                        _ = try T(from: &truncated, version: version)
                    }
                }
            }
        }
    }

    @Test("random bytes either decode or throw, for every request and version", arguments: ApiKey.allCases)
    func randomBytes(apiKey: ApiKey) {
        var rng = TestRandom(seed: 0xBAD_0000 &+ UInt64(apiKey.rawValue))
        var thrown = 0
        var total = 0
        for version in apiKey.validVersions {
            for _ in 0..<200 {
                var buffer = ByteBuffer()
                let length = Int(rng.next() % 96)
                for _ in 0..<length {
                    buffer.writeInteger(UInt8(truncatingIfNeeded: rng.next()))
                }
                total += 1
                do {
                    _ = try apiKey.requestType.init(from: &buffer, version: version)
                } catch {
                    thrown += 1
                }
            }
        }
        // Some bodies (ApiVersions v0 is empty) accept anything; the point is that
        // nothing trapped or hung. Across all versions some inputs must be rejected.
        #expect(thrown > 0, "\(apiKey.name): none of \(total) random inputs was rejected")
    }

    @Test("a length claiming gigabytes fails at once")
    func hugeLengths() {
        // MetadataRequest v1: topics array count 0x7fffffff followed by nothing.
        var array = ByteBuffer(bytes: [0x7F, 0xFF, 0xFF, 0xFF])
        #expect(throws: KafkaDecodingError(.invalidLength(0x7FFF_FFFF))) {
            _ = try MetadataRequest(from: &array, version: 1)
        }
        // CreateTopicsRequest v5 (flexible): compact array count of 2^32-2.
        var compact = ByteBuffer(bytes: [0xFF, 0xFF, 0xFF, 0xFF, 0x0F])
        #expect(throws: KafkaDecodingError.self) {
            _ = try CreateTopicsRequest(from: &compact, version: 5)
        }
        // SaslAuthenticate v0: bytes of length 2^31-1.
        var bytes = ByteBuffer(bytes: [0x7F, 0xFF, 0xFF, 0xFF, 0x01])
        #expect(throws: KafkaDecodingError(.invalidLength(0x7FFF_FFFF))) {
            _ = try SaslAuthenticateRequest(from: &bytes, version: 0)
        }
        // A string of negative length other than -1.
        var negative = ByteBuffer(bytes: [0x00, 0x00, 0x00, 0x01, 0xFF, 0xFE])
        #expect(throws: KafkaDecodingError.self) {
            _ = try MetadataRequest(from: &negative, version: 1)
        }
        // A varint tag-section size larger than the buffer.
        var tagged = ByteBuffer(bytes: [0x01, 0x00, 0xFF, 0xFF, 0xFF, 0xFF, 0x07])
        #expect(throws: KafkaDecodingError.self) {
            _ = try ApiVersionsRequest(from: &tagged, version: 3)
        }
    }

    @Test("an overlong varint is rejected")
    func overlongVarint() {
        var buffer = ByteBuffer(bytes: [0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x01])
        #expect(throws: KafkaDecodingError(.malformedVarint)) {
            _ = try buffer.readUnsignedVarint()
        }
    }
}
