@testable import CreekBroker
import CreekSimulation
import CreekStorage
import Foundation
import KafkaProtocol
import Logging
import NIOCore
import NIOHTTP1
import Testing

/// The admin HTTP routes against a broker on the simulated file system: readiness through
/// startup, a failed fsync and shutdown; metrics values after known requests; the message
/// browser's queries.
@Suite("Admin HTTP: health, metrics, console API")
struct AdminHTTPTests {
    let files = SimulatedFileSystem()
    let broker: Broker
    let routes: AdminRoutes

    init() throws {
        var config = BrokerConfig()
        config.dataDirectory = "/data"
        config.flush = .always
        let logger = Logger(label: "admin-http", factory: { _ in SwiftLogNoOpLogHandler() })
        broker = try Broker.open(config: config, files: files, logger: logger, metrics: BrokerMetrics(), clock: { 1_700_000_000_000 })
        routes = AdminRoutes(broker: broker)
    }

    func get(_ path: String, query: [String: String] = [:]) async -> (status: HTTPResponseStatus, body: String) {
        let reply = await routes.respond(to: AdminRequest(method: .GET, path: path, query: query))
        return (reply.status, String(buffer: reply.body))
    }

    func produce(_ topic: String, partition: Int32, _ records: [(key: String?, value: String)]) async -> Int16? {
        var builder = RecordBatchBuilder()
        for (index, record) in records.enumerated() {
            builder.append(.init(timestamp: 1_700_000_000_000 + Int64(index), key: record.key.map { ByteBuffer(string: $0) }, value: ByteBuffer(string: record.value)))
        }
        let request = ProduceRequest(acks: -1, timeoutMs: 5_000, topicData: [
            .init(name: topic, partitionData: [.init(index: partition, records: .bytes(builder.build().buffer))]),
        ])
        let context = RequestContext(apiKey: .produce, apiVersion: 9, correlationId: 1, clientId: "t", peer: "t")
        let response = await ProduceHandler(broker: broker).handle(request, context: context)
        if let response { broker.metrics.countErrors(in: response) }
        return response?.responses.first?.partitionResponses.first?.errorCode
    }

    @Test("ready only once listening, not with a partition offline, not while shutting down")
    func readiness() async throws {
        #expect(await get("/health/live").status == .ok)
        var ready = await get("/health/ready")
        #expect(ready.status == .serviceUnavailable && ready.body.contains("recovery"))
        broker.listening(on: ["PLAINTEXT": 9092])
        #expect(await get("/health/ready").status == .ok)

        try await broker.topics.create(name: "fragile", partitions: 2)
        #expect(await produce("fragile", partition: 1, [(nil, "a")]) == 0)
        files.setFaults { operation, path, _ in operation == .sync && path.contains("fragile-1") ? EIO : nil }
        #expect(await produce("fragile", partition: 1, [(nil, "b")]) == KafkaErrorCode.kafkaStorageError.rawValue)
        files.setFaults(nil)
        ready = await get("/health/ready")
        #expect(ready.status == .serviceUnavailable)
        #expect(ready.body.contains("fragile-1") && !ready.body.contains("fragile-0"))
        let metrics = await get("/metrics").body
        #expect(metrics.contains("creek_partitions_offline 1.0"))
        #expect(metrics.contains("creek_fsync_failures_total 1"))
        #expect(metrics.contains(#"creek_request_errors_total{code="KAFKA_STORAGE_ERROR"} 1"#))

        await broker.beginShutdown()
        #expect(await get("/health/ready").body.contains("shutting down"))
    }

    @Test("metrics count records, batches and errors exactly; a deleted topic's series go")
    func metricsAfterAKnownWorkload() async throws {
        try await broker.topics.create(name: "counted", partitions: 2)
        #expect(await produce("counted", partition: 0, (0..<7).map { (nil, "v\($0)") }) == 0)
        #expect(await produce("counted", partition: 1, (0..<5).map { (nil, "w\($0)") }) == 0)
        #expect(await produce("missing", partition: 0, [(nil, "x")]) == KafkaErrorCode.unknownTopicOrPartition.rawValue)
        broker.metrics.requestCompleted(.produce, version: 9, nanoseconds: 1_500_000)
        let text = await get("/metrics").body
        for line in [
            #"creek_topic_records_in_total{topic="counted"} 12"#,
            #"creek_request_errors_total{code="UNKNOWN_TOPIC_OR_PARTITION"} 1"#,
            #"creek_partition_high_watermark{topic="counted",partition="0"} 7.0"#,
            #"creek_partition_high_watermark{topic="counted",partition="1"} 5.0"#,
            #"creek_partition_segments{topic="counted",partition="1"} 1.0"#,
            #"creek_requests_total{api="Produce",version="9"} 1"#,
            #"creek_request_duration_seconds_bucket{api="Produce",le="0.002"} 1"#,
            #"creek_request_duration_seconds_bucket{api="Produce",le="0.001"} 0"#,
            "creek_produce_batch_bytes_count 2",
        ] {
            #expect(text.contains(line), "missing \(line)")
        }
        // acks=-1 under flush=always: each append was fsynced at least once.
        let fsyncs = text.split(separator: "\n").first { $0.hasPrefix("creek_fsync_duration_seconds_count ") }
        #expect(fsyncs.flatMap { Int($0.split(separator: " ")[1]) }.map { $0 >= 2 } == true)
        // Every unlabelled metric is exported (the data directory's volume only on a real disk).
        for metric in MetricName.all where metric.kind != .histogram && metric.labels.isEmpty {
            guard !metric.name.hasPrefix("creek_data_dir") else { continue }
            #expect(text.contains("\n\(metric.name) ") || text.hasPrefix("\(metric.name) "), "\(metric.name) not exported")
        }

        try await broker.topics.delete(name: "counted")
        broker.metrics.forget(topic: "counted")
        let after = await get("/metrics").body
        #expect(!after.contains(#"topic="counted""#))
    }

    @Test("message browser: latest N, from an offset, by key; bad parameters are 400")
    func messageBrowser() async throws {
        try await broker.topics.create(name: "browse", partitions: 2)
        #expect(await produce("browse", partition: 0, (0..<30).map { ("k\($0 % 3)", "value \($0)") }) == 0)
        #expect(await produce("browse", partition: 1, [("solo", #"{"a":1}"#)]) == 0)
        struct Message: Decodable { var partition: Int32; var offset: Int64; var key: String?; var value: String? }
        func messages(_ query: [String: String]) async throws -> [Message] {
            let reply = await get("/api/topics/browse/messages", query: query)
            #expect(reply.status == .ok, "\(reply.body)")
            return try JSONDecoder().decode([Message].self, from: Data(reply.body.utf8))
        }
        let decode = { (base64: String?) in base64.flatMap { Data(base64Encoded: $0) }.map { String(decoding: $0, as: UTF8.self) } }

        let latest = try await messages(["partition": "0", "limit": "5"])
        #expect(latest.map(\.offset) == [25, 26, 27, 28, 29])
        let fromOffset = try await messages(["partition": "0", "offset": "10", "limit": "3"])
        #expect(fromOffset.map(\.offset) == [10, 11, 12] && decode(fromOffset[0].value) == "value 10")
        let byKey = try await messages(["key": "k1", "limit": "4"])
        #expect(byKey.map(\.offset) == [19, 22, 25, 28] && byKey.allSatisfy { decode($0.key) == "k1" })
        let keyFromStart = try await messages(["key": "k1", "offset": "0", "limit": "2"])
        #expect(keyFromStart.map(\.offset) == [1, 4])
        // The latest across partitions, by timestamp: partition 1's one record is the oldest.
        #expect(try await messages(["limit": "2"]).map(\.offset) == [28, 29])
        let all = try await messages(["limit": "31"])
        #expect(all.count == 31 && decode(all.first { $0.partition == 1 }?.value) == #"{"a":1}"#)
        #expect(await get("/api/topics/browse/messages", query: ["offset": "ten"]).status == .badRequest)
        #expect(await get("/api/topics/nope/messages").status == .notFound)
        let refused = await routes.respond(to: AdminRequest(method: .DELETE, path: "/api/topics/browse"))
        #expect(refused.status == .forbidden)
    }

    @Test("docs/operations.md documents every metric")
    func everyMetricIsDocumented() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let doc = try String(contentsOf: root.appendingPathComponent("docs/operations.md"), encoding: .utf8)
        for metric in MetricName.all {
            #expect(doc.contains("`\(metric.name)`"), "\(metric.name) is not in docs/operations.md")
        }
    }
}
