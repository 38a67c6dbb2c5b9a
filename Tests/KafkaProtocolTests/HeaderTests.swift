import KafkaProtocol
import NIOCore
import Testing

@Suite("Request and response headers")
struct HeaderTests {
    @Test("header versions follow flexibility, with the ApiVersions exception")
    func headerVersions() {
        #expect(ApiKey.produce.requestHeaderVersion(apiVersion: 8) == 1)
        #expect(ApiKey.produce.requestHeaderVersion(apiVersion: 9) == 2)
        #expect(ApiKey.produce.responseHeaderVersion(apiVersion: 9) == 1)
        #expect(ApiKey.apiVersions.requestHeaderVersion(apiVersion: 3) == 2)
        #expect(ApiKey.apiVersions.responseHeaderVersion(apiVersion: 3) == 0)
        #expect(ApiKey.apiVersions.requestHeaderVersion(apiVersion: 99) == 2)
        #expect(ApiKey.controlledShutdown.requestHeaderVersion(apiVersion: 0) == 0)
        #expect(ApiKey.fetch.firstFlexibleVersion == 12)
        #expect(ApiKey.fetch.validVersions == 0...17)
        #expect(ApiKey.produce.name == "Produce")
    }

    @Test("a framed request decodes its header and leaves the body")
    func framedRequest() throws {
        let request = MetadataRequest(topics: [.init(name: "orders")], allowAutoTopicCreation: true)
        for version in MetadataRequest.validVersions {
            var writer = KafkaWriter.encodeRequest(request, version: version, correlationId: 77, clientId: "client-1")
            let read = writer.buffer.readInteger(endianness: .big, as: Int32.self)
            let length = try #require(read)
            #expect(Int(length) == writer.buffer.readableBytes)
            let framed = try FramedRequest(frame: writer.buffer)
            #expect(framed.apiKey == .metadata)
            #expect(framed.apiVersion == version)
            #expect(framed.correlationId == 77)
            #expect(framed.header.clientId == "client-1")
            var body = framed.body
            let decoded = try MetadataRequest(from: &body, version: version)
            #expect(decoded.topics?.first?.name == "orders")
        }
    }

    @Test("unknown API keys and truncated headers are typed errors")
    func badHeaders() {
        #expect(throws: RequestHeaderError.unknownApiKey(999)) {
            _ = try FramedRequest(frame: ByteBuffer(bytes: [0x03, 0xE7, 0, 0, 0, 0, 0, 1]))
        }
        #expect(throws: RequestHeaderError.self) { _ = try FramedRequest(frame: ByteBuffer(bytes: [0, 3])) }
        #expect(throws: RequestHeaderError.self) {
            _ = try FramedRequest(frame: ByteBuffer(bytes: [0, 3, 0, 1, 0, 0, 0, 1, 0, 9, 0x41]))
        }
    }

    @Test("ApiVersions with an unknown version gets a v0 error body with the supported range")
    func unsupportedApiVersions() throws {
        var writer = ApiVersionsResponse.unsupportedVersionFrame(correlationId: 5, supported: 0...4)
        let read = writer.buffer.readInteger(endianness: .big, as: Int32.self)
            let length = try #require(read)
        #expect(Int(length) == writer.buffer.readableBytes)
        let header = try ResponseHeader(from: &writer.buffer, version: 0)
        #expect(header.correlationId == 5)
        let body = try ApiVersionsResponse(from: &writer.buffer, version: 0)
        #expect(body.errorCode == KafkaErrorCode.unsupportedVersion.rawValue)
        #expect(body.apiKeys == [.init(apiKey: 18, minVersion: 0, maxVersion: 4)])
        #expect(writer.buffer.readableBytes == 0)
    }

    @Test("ApiVersions v3 response keeps header v0 with a flexible body")
    func apiVersionsHeader() throws {
        let response = ApiVersionsResponse(apiKeys: [.init(apiKey: 0, minVersion: 0, maxVersion: 11)])
        var writer = KafkaWriter.encodeResponse(response, version: 3, correlationId: 9)
        _ = writer.buffer.readInteger(endianness: .big, as: Int32.self)
        #expect(writer.buffer.readInteger(endianness: .big, as: Int32.self) == 9)
        // Next comes the body (no tagged-field byte of a v1 header): error code 0.
        #expect(writer.buffer.readInteger(endianness: .big, as: Int16.self) == 0)
    }

    @Test("external records are spliced, counted in the frame length, and not copied")
    func externalRecords() throws {
        let partition = FetchResponse.PartitionData(partitionIndex: 0, records: .external(ExternalRecords(token: 3, length: 1000)))
        let response = FetchResponse(responses: [.init(topic: "t", partitions: [partition])])
        var writer = KafkaWriter.encodeResponse(response, version: 11, correlationId: 1)
        #expect(writer.splices.count == 1)
        #expect(writer.splices[0].records == ExternalRecords(token: 3, length: 1000))
        #expect(writer.splices[0].position == writer.buffer.writerIndex - 0 || writer.splices[0].position < writer.buffer.writerIndex)
        let read = writer.buffer.readInteger(endianness: .big, as: Int32.self)
            let length = try #require(read)
        #expect(Int(length) == writer.buffer.readableBytes + 1000)
        let prefix = try #require(writer.buffer.getInteger(at: writer.splices[0].position - 4, endianness: .big, as: Int32.self))
        #expect(prefix == 1000)
    }

    @Test("error codes carry names and retriability")
    func errorCodes() {
        #expect(KafkaErrorCode(rawValue: 3) == .unknownTopicOrPartition)
        #expect(KafkaErrorCode.unknownTopicOrPartition.name == "UNKNOWN_TOPIC_OR_PARTITION")
        #expect(KafkaErrorCode.notLeaderOrFollower.isRetriable)
        #expect(!KafkaErrorCode.messageTooLarge.isRetriable)
        #expect(KafkaErrorCode.allCases.count == 135)
        #expect(Set(KafkaErrorCode.allCases.map(\.name)).count == 135)
    }
}
