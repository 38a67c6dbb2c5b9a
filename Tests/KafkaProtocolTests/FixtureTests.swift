import Foundation
import KafkaProtocol
import NIOCore
import Testing

/// Request frames captured from real clients by scripts/capture-fixtures.sh (see
/// Fixtures/CLIENTS.txt for the versions). Each must decode exactly, and re-encode to
/// the very bytes the client sent.
@Suite("Real-client fixtures")
struct FixtureTests {
    static let directory = Bundle.module.resourceURL!.appendingPathComponent("Fixtures")

    static var fixtureNames: [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? [])
            .filter { $0.hasSuffix(".hex") }
            .sorted()
    }

    static func load(_ name: String) throws -> FramedRequest {
        let text = try String(contentsOf: directory.appendingPathComponent(name), encoding: .utf8)
        let frame = try #require(ByteBuffer(hex: text), "\(name) is not hex")
        return try FramedRequest(frame: frame)
    }

    @Test("there are fixtures for all four clients")
    func present() {
        for client in ["kcat", "confluent", "kafka-python", "aiokafka"] {
            let names = Self.fixtureNames.filter { $0.hasPrefix(client + "-") }
            #expect(names.contains { $0.contains("ApiVersions") }, "\(client) ApiVersions")
            #expect(names.contains { $0.contains("Metadata") }, "\(client) Metadata")
            #expect(names.contains { $0.contains("Produce") }, "\(client) Produce")
        }
    }

    @Test("every captured frame decodes fully and re-encodes to the same bytes", arguments: fixtureNames)
    func decodesExactly(name: String) throws {
        let request = try Self.load(name)
        #expect(name.contains("\(request.apiKey.name)-v\(request.apiVersion)"))
        var body = request.body
        let original = body
        let decoded = try request.apiKey.requestType.init(from: &body, version: request.apiVersion)
        #expect(body.readableBytes == 0, "\(name): \(body.readableBytes) bytes left")
        var reencoded = ByteBuffer()
        decoded.write(to: &reencoded, version: request.apiVersion)
        #expect(reencoded == original, "\(name): re-encoding differs")
    }

    @Test("client ids and versions", arguments: [
        ("kcat-01-ApiVersions-v3.hex", "fixture-kcat", ApiKey.apiVersions, Int16(3)),
        ("kcat-02-Metadata-v4.hex", "fixture-kcat", .metadata, 4),
        ("kcat-03-Produce-v7.hex", "fixture-kcat", .produce, 7),
        ("confluent-01-ApiVersions-v3.hex", "fixture-confluent", .apiVersions, 3),
        ("confluent-02-Metadata-v12.hex", "fixture-confluent", .metadata, 12),
        ("confluent-04-Produce-v10.hex", "fixture-confluent", .produce, 10),
        ("kafka-python-01-ApiVersions-v4.hex", "fixture-kafka-python", .apiVersions, 4),
        ("kafka-python-02-Metadata-v12.hex", "fixture-kafka-python", .metadata, 12),
        ("kafka-python-04-Produce-v9.hex", "fixture-kafka-python", .produce, 9),
        ("aiokafka-01-ApiVersions-v0.hex", "fixture-aiokafka", .apiVersions, 0),
        ("aiokafka-02-Metadata-v5.hex", "fixture-aiokafka", .metadata, 5),
        ("aiokafka-04-Produce-v7.hex", "fixture-aiokafka", .produce, 7),
    ])
    func headers(name: String, clientId: String, apiKey: ApiKey, version: Int16) throws {
        let request = try Self.load(name)
        #expect(request.header.clientId == clientId)
        #expect(request.apiKey == apiKey)
        #expect(request.apiVersion == version)
    }

    @Test("flexible ApiVersions requests name the client software", arguments: [
        ("kcat-01-ApiVersions-v3.hex", "librdkafka", "2.0.2"),
        ("confluent-01-ApiVersions-v3.hex", "confluent-kafka-python", "2.16.1"),
        ("kafka-python-01-ApiVersions-v4.hex", "kafka-python", "3.0.12"),
    ])
    func apiVersionsSoftware(name: String, software: String, version: String) throws {
        let request = try Self.load(name)
        var body = request.body
        let decoded = try ApiVersionsRequest(from: &body, version: request.apiVersion)
        #expect(decoded.clientSoftwareName == software)
        #expect(decoded.clientSoftwareVersion.hasPrefix(version))
    }

    /// librdkafka asks for the topic it produces to; the Python clients first ask for
    /// an empty topic list (brokers only) while bootstrapping.
    @Test("Metadata requests name the topic, or none while bootstrapping", arguments: [
        ("kcat-02-Metadata-v4.hex", ["fixtures"]), ("confluent-02-Metadata-v12.hex", ["fixtures"]),
        ("kafka-python-02-Metadata-v12.hex", []), ("aiokafka-02-Metadata-v5.hex", []),
    ])
    func metadataTopics(name: String, topics: [String]) throws {
        let request = try Self.load(name)
        var body = request.body
        let decoded = try MetadataRequest(from: &body, version: request.apiVersion)
        #expect(decoded.topics?.map(\.name) == topics)
    }

    /// A record as the test expects it: key, value, headers (key, value) and timestamp.
    struct Expected {
        var key: String?
        var value: String?
        var headers: [(String, [UInt8]?)]
        var timestamp: Int64?
    }

    static let pythonRecords = [
        Expected(key: "key-1", value: "value-1", headers: [("h1", Array("v1".utf8)), ("h2", [])], timestamp: 1_700_000_000_001),
        Expected(key: nil, value: "value-2", headers: [], timestamp: 1_700_000_000_002),
        Expected(key: "", value: "", headers: [("trace", [0, 1])], timestamp: 1_700_000_000_003),
    ]

    static let kcatRecords = [
        Expected(key: "key-1", value: "value-1", headers: [("h1", Array("v1".utf8)), ("h2", [])], timestamp: nil),
        Expected(key: "key-2", value: "value-2", headers: [("h1", Array("v1".utf8)), ("h2", [])], timestamp: nil),
        Expected(key: "", value: "value-3", headers: [("h1", Array("v1".utf8)), ("h2", [])], timestamp: nil),
    ]

    @Test("Produce carries every record's key, value, headers and timestamp with a valid CRC", arguments: [
        ("kcat-03-Produce-v7.hex", -1 as Int16, kcatRecords),
        ("confluent-04-Produce-v10.hex", -1, pythonRecords),
        ("kafka-python-04-Produce-v9.hex", -1, pythonRecords),
        ("aiokafka-04-Produce-v7.hex", -1, pythonRecords),
    ])
    func produceRecords(name: String, acks: Int16, expected: [Expected]) throws {
        let request = try Self.load(name)
        var body = request.body
        let produce = try ProduceRequest(from: &body, version: request.apiVersion)
        #expect(produce.acks == acks)
        #expect(produce.transactionalId == nil)
        #expect(produce.topicData.map(\.name) == ["fixtures"])
        let partition = try #require(produce.topicData.first?.partitionData.first)
        #expect(partition.index == 0)
        let records = try #require(partition.records?.buffer)
        let batches = try RecordBatch.all(in: records)
        #expect(!batches.isEmpty)
        var decoded: [Record] = []
        for batch in batches {
            #expect(batch.magic == 2)
            #expect(batch.computeCRC() == batch.crc)
            #expect(batch.baseOffset == 0)
            #expect(batch.producerId == -1)
            decoded += try batch.records()
        }
        #expect(decoded.count == expected.count)
        for (record, want) in zip(decoded, expected) {
            #expect(record.key.map { String(buffer: $0) } == want.key)
            #expect(record.value.map { String(buffer: $0) } == want.value)
            #expect(record.headers.map(\.key) == want.headers.map(\.0))
            #expect(record.headers.map { $0.value.map { Array($0.readableBytesView) } } == want.headers.map(\.1))
            if let timestamp = want.timestamp {
                #expect(record.timestamp == timestamp)
            } else {
                // kcat stamps the send time; the capture happened after 2026-01-01.
                #expect(record.timestamp > 1_767_225_600_000)
            }
        }
    }
}
