import CreekStorage
import Foundation
import KafkaCompression
import KafkaProtocol
import NIOCore

/// The console's message browser: records of a topic read straight from its partition logs
/// (control batches skipped, aborted transactional records included, as read_uncommitted).
/// By default the latest `limit` records; from an offset or a timestamp forward; optionally
/// only records whose key is `key`. Each query reads at most `scanBudget` records per
/// partition, so a filter on a large topic answers quickly with what it found.
struct MessageBrowser: Sendable {
    struct Query: Sendable {
        var partition: Int32?
        var offset: Int64?
        var timestampMs: Int64?
        var limit = 50
        var key: String?

        static let maxLimit = 500

        init(_ parameters: [String: String]) throws(QueryError) {
            func number(_ name: String) throws(QueryError) -> Int64? {
                guard let text = parameters[name], !text.isEmpty else { return nil }
                guard let value = Int64(text) else { throw QueryError("\(name) must be a number (got \(text))") }
                return value
            }
            partition = try number("partition").map { Int32(clamping: $0) }
            offset = try number("offset")
            timestampMs = try number("timestamp")
            if let limit = try number("limit") {
                guard (1...Int64(Self.maxLimit)).contains(limit) else { throw QueryError("limit must be 1…\(Self.maxLimit)") }
                self.limit = Int(limit)
            }
            key = parameters["key"].flatMap { $0.isEmpty ? nil : $0 }
        }
    }

    struct QueryError: Error {
        let message: String
        init(_ message: String) { self.message = message }
    }

    struct Message: Encodable {
        struct Header: Encodable {
            var key: String
            var value: String?
        }

        var partition: Int32
        var offset: Int64
        var timestamp: Int64
        /// Base64 of the key and value bytes (null when absent).
        var key: String?
        var value: String?
        var headers: [Header]
    }

    static let scanBudget = 10_000
    let topic: Topic

    func read(_ query: Query) async throws(StorageError) -> [Message] {
        let indexes = query.partition.map { [$0] } ?? (0..<Int32(topic.partitions.count)).map { $0 }
        var found: [Message] = []
        for index in indexes {
            guard let log = topic.partition(index) else { continue }
            found += try await read(log, partition: index, query)
        }
        if query.offset == nil && query.timestampMs == nil {
            // The latest across partitions: newest last.
            found.sort { ($0.timestamp, $0.partition, $0.offset) < ($1.timestamp, $1.partition, $1.offset) }
            return Array(found.suffix(query.limit))
        }
        return Array(found.prefix(query.limit))
    }

    private func read(_ log: any PartitionStorage, partition: Int32, _ query: Query) async throws(StorageError) -> [Message] {
        let start = await log.logStartOffset
        let end = await log.highWatermark
        var position: Int64
        if let offset = query.offset {
            position = min(max(offset, start), end)
        } else if let time = query.timestampMs {
            guard let hit = try await log.offset(forTimestamp: time) else { return [] }
            position = hit.offset
        } else {
            let back = Int64(query.key == nil ? query.limit : Self.scanBudget)
            position = max(start, end - back)
        }
        let newestOnly = query.offset == nil && query.timestampMs == nil
        var messages: [Message] = []
        var scanned = 0
        while position < end, scanned < Self.scanBudget, newestOnly || messages.count < query.limit {
            var records = try await log.read(from: position, maxBytes: 1 << 20, minOneBatch: true).records
            guard records.readableBytes > 0 else { break }
            var advanced = false
            while let batch = try? RecordBatch.next(from: &records) {
                let next = batch.baseOffset + Int64(batch.lastOffsetDelta) + 1
                defer { if next > position { position = next; advanced = true } }
                if batch.isControl { continue }
                guard let decoded = try? batch.decodedRecords() else { continue }
                for record in decoded where record.offset >= position && record.offset < end {
                    scanned += 1
                    if let key = query.key, record.key.map({ String(buffer: $0) }) != key { continue }
                    messages.append(Self.message(record, partition: partition))
                }
            }
            if !advanced { break }
        }
        return newestOnly ? Array(messages.suffix(query.limit)) : messages
    }

    static func message(_ record: Record, partition: Int32) -> Message {
        let base64 = { (buffer: ByteBuffer?) in buffer.map { Data($0.readableBytesView).base64EncodedString() } }
        return Message(
            partition: partition, offset: record.offset, timestamp: record.timestamp, key: base64(record.key), value: base64(record.value),
            headers: record.headers.map { Message.Header(key: $0.key, value: base64($0.value)) }
        )
    }
}

extension ConsoleAPI {
    func messages(topic name: String, query parameters: [String: String]) async -> HTTPReply {
        guard let topic = broker.topics.topic(named: name) else { return unknownTopic(name) }
        do {
            let query = try MessageBrowser.Query(parameters)
            return .json(try await MessageBrowser(topic: topic).read(query))
        } catch let error as MessageBrowser.QueryError {
            return .error(.badRequest, error.message)
        } catch {
            return .error(.internalServerError, "reading \(name) failed: \(error)")
        }
    }
}
