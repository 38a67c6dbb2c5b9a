@testable import CreekStorage
import CreekSimulation
import Foundation
import KafkaCompression
import KafkaProtocol
import NIOCore
import Testing

/// Log compaction on one partition: the latest record per key survives with its offset,
/// tombstones go after `delete.retention.ms`, aborted transactional data never comes back,
/// and a crash at any step of a pass leaves a log that reads the same.
@Suite("Log compaction")
struct CompactionTests {
    static let codecs: [RecordBatch.Compression] = [.none, .gzip, .snappy, .lz4, .zstd]

    static func config() -> LogConfig {
        var config = LogConfig()
        config.cleanupPolicy = .compact
        config.segmentBytes = 6_000
        config.indexIntervalBytes = 512
        config.deleteRetentionMs = 60_000
        return config
    }

    /// One batch of keyed records (`nil` value: a tombstone) in `codec`.
    static func keyed(_ pairs: [(String, String?)], codec: RecordBatch.Compression, timestamp: Int64 = 1_000) throws -> RecordBatch {
        var builder = RecordBatchBuilder()
        for (key, value) in pairs {
            builder.append(.init(timestamp: timestamp, key: ByteBuffer(string: key), value: value.map { ByteBuffer(string: $0) }))
        }
        return try RecordBatch.compressed(builder.build(), with: codec)
    }

    /// Every record of the log in offset order: (offset, key, value).
    static func contents(_ log: PartitionLog) async throws -> [(offset: Int64, key: String, value: String?)] {
        var result: [(Int64, String, String?)] = []
        var offset = await log.logStartOffset
        let end = await log.highWatermark
        while offset < end {
            let read = try await log.read(from: offset, maxBytes: 1 << 20, minOneBatch: true)
            // Not `RecordBatch.all`: that validates as for produce, and a thinned batch holds
            // fewer records than its offset span.
            var remaining = read.records
            var batches: [RecordBatch] = []
            while let batch = try RecordBatch.next(from: &remaining) { batches.append(batch) }
            guard let last = batches.last else { break }
            for batch in batches where !batch.isControl {
                for record in try batch.decodedRecords() {
                    result.append((record.offset, record.key.map { String(buffer: $0) } ?? "", record.value.map { String(buffer: $0) }))
                }
            }
            offset = last.lastOffset + 1
        }
        return result
    }

    /// 300 keys updated in 6 rounds (batches rotating through every codec), every 10th key
    /// deleted in the last round, then filler records so all of it lies in closed segments.
    /// Returns the latest value of each key (nil: deleted).
    static func fill(_ log: PartitionLog) async throws -> [String: String?] {
        var latest: [String: String?] = [:]
        var batchNumber = 0
        for round in 0..<6 {
            for start in stride(from: 0, to: 300, by: 25) {
                var pairs: [(String, String?)] = []
                for key in start..<start + 25 {
                    let value: String? = round == 5 && key % 10 == 0 ? nil : "v\(round)-\(key)"
                    pairs.append(("key-\(key)", value))
                    latest["key-\(key)"] = value
                }
                _ = try await log.append([keyed(pairs, codec: codecs[batchNumber % codecs.count])], nowMs: 1_000, sync: false)
                batchNumber += 1
            }
        }
        for filler in 0..<40 {
            _ = try await log.append([keyed([("filler-\(filler)", String(repeating: "f", count: 200))], codec: .none)], nowMs: 1_000, sync: false)
        }
        return latest
    }

    @Test("keyed updates and tombstones in every codec: one record per live key, latest value, offsets kept")
    func latestPerKey() async throws {
        let directory = temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let log = try PartitionLog(topic: "t", partition: 0, dataDirectory: directory, config: Self.config(), recover: false, nowMs: 0)
        let latest = try await Self.fill(log)
        let before = try await Self.contents(log)
        let highWatermark = await log.highWatermark
        #expect(await log.segmentCount > 5)

        let result = try #require(try log.clean(nowMs: 2_000))
        #expect(result.unreadableBatches.isEmpty)
        #expect(result.recordsRemoved == 1_500, "5 of the 6 versions of 300 keys")
        let after = try await Self.contents(log)
        #expect(await log.highWatermark == highWatermark)
        #expect(after.map(\.offset) == after.map(\.offset).sorted())
        let main = after.filter { $0.key.hasPrefix("key-") }
        #expect(main.count == 300, "tombstones stay until delete.retention.ms")
        for record in main {
            #expect(latest[record.key] == record.value, "\(record.key)")
            let original = try #require(before.first { $0.offset == record.offset })
            #expect(original.key == record.key && original.value == record.value, "offset \(record.offset) kept its record")
        }
        #expect(Set(main.map(\.key)).count == 300)

        // After a restart the compacted log reads the same, gaps included.
        let reopened = try PartitionLog(topic: "t", partition: 0, dataDirectory: directory, config: Self.config(), recover: true, nowMs: 3_000)
        let again = try await Self.contents(reopened)
        #expect(again.map(\.offset) == after.map(\.offset))

        // Past delete.retention.ms the tombstones go too.
        _ = try #require(try reopened.clean(nowMs: 1_000 + 60_001, force: true))
        let final = try await Self.contents(reopened).filter { $0.key.hasPrefix("key-") }
        #expect(final.count == 270)
        #expect(final.allSatisfy { $0.value != nil && latest[$0.key] == $0.value })
        // A fetch from an offset inside a removed range starts at the next record kept.
        let gap = try #require(before.first { record in !final.contains { $0.offset == record.offset } })
        let read = try await reopened.read(from: gap.offset, maxBytes: 1 << 20, minOneBatch: true)
        var records = read.records
        let first = try #require(try RecordBatch.next(from: &records))
        #expect(first.lastOffset >= gap.offset)
    }

    @Test("aborted transactional records are removed and never reappear; committed ones compact normally")
    func abortedTransactions() async throws {
        let directory = temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let log = try PartitionLog(topic: "t", partition: 0, dataDirectory: directory, config: Self.config(), recover: false, nowMs: 0)
        var sequence: Int32 = 0
        for round in 0..<4 {
            var builder = RecordBatchBuilder()
            builder.producerId = 9
            builder.producerEpoch = 0
            builder.baseSequence = sequence
            builder.isTransactional = true
            for key in 0..<20 {
                builder.append(.init(timestamp: 1_000, key: ByteBuffer(string: "k\(key)"), value: ByteBuffer(string: round % 2 == 0 ? "committed-\(round)" : "aborted-\(round)")))
            }
            sequence += 20
            _ = try await log.append([try RecordBatch.compressed(builder.build(), with: .zstd)], nowMs: 1_000, sync: false)
            _ = try await log.appendMarker(producerId: 9, epoch: 0, marker: TransactionMarker(commit: round % 2 == 0, coordinatorEpoch: 0), nowMs: 1_000)
        }
        for filler in 0..<40 {
            _ = try await log.append([Self.keyed([("filler-\(filler)", String(repeating: "f", count: 200))], codec: .none)], nowMs: 1_000, sync: false)
        }
        _ = try #require(try log.clean(nowMs: 2_000))
        let values = try await Self.contents(log).filter { $0.key.hasPrefix("k") }.map(\.value)
        #expect(values.count == 20)
        #expect(values.allSatisfy { $0 == "committed-2" }, "the latest committed value wins over a later aborted one")
    }

    @Test("a crash at any step of a cleaning pass leaves a log with the same latest value per key")
    func crashDuringCleaning() async throws {
        // Count the pass's file operations once, then crash at a spread of points inside it.
        func prepared() async throws -> (SimulatedFileSystem, [String: String?], Int64) {
            let files = SimulatedFileSystem()
            try files.makeDirectory("/data")
            try files.syncDirectory("/")
            let log = try PartitionLog(topic: "t", partition: 0, dataDirectory: "/data", config: Self.config(), recover: false, nowMs: 0, files: files)
            let latest = try await Self.fill(log)
            try await log.close()
            return (files, latest, await log.highWatermark)
        }
        let (probe, _, _) = try await prepared()
        let start = probe.operationCount
        let probeLog = try PartitionLog(topic: "t", partition: 0, dataDirectory: "/data", config: Self.config(), recover: false, nowMs: 0, files: probe)
        _ = try #require(try probeLog.clean(nowMs: 2_000))
        let total = probe.operationCount - start
        #expect(total > 50)
        for point in stride(from: 0, to: total, by: max(1, total / 30)) {
            let (files, latest, highWatermark) = try await prepared()
            let log = try PartitionLog(topic: "t", partition: 0, dataDirectory: "/data", config: Self.config(), recover: false, nowMs: 0, files: files)
            let crashAt = files.operationCount + point
            files.setFaults { _, _, number in number >= crashAt ? EIO : nil }
            _ = try? log.clean(nowMs: 2_000)
            files.crash()
            let recovered = try PartitionLog(topic: "t", partition: 0, dataDirectory: "/data", config: Self.config(), recover: true, nowMs: 3_000, files: files)
            #expect(await recovered.highWatermark == highWatermark, "crash point \(point)")
            let contents = try await Self.contents(recovered)
            var seen: [String: String?] = [:]
            for record in contents where record.key.hasPrefix("key-") { seen[record.key] = record.value }
            #expect(seen.count == 300 && seen.allSatisfy { latest[$0.key] == $0.value }, "crash point \(point)")
            // And a later pass completes the work.
            _ = try recovered.clean(nowMs: 4_000, force: true)
            #expect(try await Self.contents(recovered).filter { $0.key.hasPrefix("key-") }.count == 300, "crash point \(point)")
        }
    }
}
