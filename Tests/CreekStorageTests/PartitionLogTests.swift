import CreekStorage
import Foundation
import KafkaProtocol
import NIOCore
import Testing

/// A fresh directory under the system temp folder, removed by the caller.
func temporaryDirectory() -> String {
    let path = NSTemporaryDirectory() + "creek-test-" + UUID().uuidString
    try? FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    return path
}

func batch(_ values: [String], timestamps: [Int64]? = nil) -> RecordBatch {
    var builder = RecordBatchBuilder()
    for (index, value) in values.enumerated() {
        builder.append(.init(timestamp: timestamps?[index] ?? 1_000 + Int64(index), key: nil, value: ByteBuffer(string: value)))
    }
    return builder.build()
}

func values(_ records: ByteBuffer) throws -> [String] {
    try RecordBatch.all(in: records).flatMap { try $0.records() }.map { $0.value.map { String(buffer: $0) } ?? "" }
}

@Suite("PartitionLog")
struct PartitionLogTests {
    let directory = temporaryDirectory()

    func open(_ config: LogConfig = LogConfig(), recover: Bool = false) throws -> PartitionLog {
        try PartitionLog(topic: "t", partition: 0, dataDirectory: directory, config: config, recover: recover, nowMs: 0)
    }

    @Test("append assigns contiguous offsets and read returns the stored batches")
    func appendAndRead() async throws {
        let log = try open()
        let first = try await log.append([batch(["a", "b", "c"])], nowMs: 0, sync: false)
        let second = try await log.append([batch(["d"]), batch(["e", "f"])], nowMs: 0, sync: true)
        #expect(first.baseOffset == 0 && first.lastOffset == 2)
        #expect(second.baseOffset == 3 && second.lastOffset == 5)
        #expect(await log.logEndOffset == 6)
        let all = try await log.read(from: 0, maxBytes: 1 << 20, minOneBatch: true)
        #expect(try values(all.records) == ["a", "b", "c", "d", "e", "f"])
        #expect(all.highWatermark == 6)
        let batches = try RecordBatch.all(in: all.records)
        #expect(batches.map(\.baseOffset) == [0, 3, 4])
        #expect(batches.allSatisfy { $0.partitionLeaderEpoch == 0 })
        // Reading from the middle of a batch starts at that batch.
        let middle = try await log.read(from: 4, maxBytes: 1 << 20, minOneBatch: true)
        #expect(try RecordBatch.all(in: middle.records).map(\.baseOffset) == [4])
        // The log end yields nothing; beyond it is out of range.
        #expect(try await log.read(from: 6, maxBytes: 100, minOneBatch: true).records.readableBytes == 0)
        await #expect(throws: StorageError.self) { try await log.read(from: 7, maxBytes: 100, minOneBatch: true) }
        try? FileManager.default.removeItem(atPath: directory)
    }

    @Test("maxBytes bounds a read, but the first batch comes whole")
    func maxBytes() async throws {
        let log = try open()
        for index in 0..<5 {
            _ = try await log.append([batch([String(repeating: "x", count: 100) + "\(index)"])], nowMs: 0, sync: false)
        }
        let oneBatch = try RecordBatch.all(in: try await log.read(from: 0, maxBytes: 1 << 20, minOneBatch: true).records)[0].sizeInBytes
        let tiny = try await log.read(from: 0, maxBytes: 10, minOneBatch: true)
        #expect(try RecordBatch.all(in: tiny.records).count == 1)
        let none = try await log.read(from: 0, maxBytes: 10, minOneBatch: false)
        #expect(none.records.readableBytes == 0)
        let two = try await log.read(from: 0, maxBytes: oneBatch * 2 + 1, minOneBatch: true)
        #expect(try RecordBatch.all(in: two.records).count == 2)
        try? FileManager.default.removeItem(atPath: directory)
    }

    @Test("segments roll by size; reads cross segments; a clean reopen keeps everything")
    func rollingAndReopen() async throws {
        var config = LogConfig()
        config.segmentBytes = 300
        config.indexIntervalBytes = 100
        let log = try open(config)
        for index in 0..<40 {
            _ = try await log.append([batch(["value-\(index)", "second-\(index)"])], nowMs: 0, sync: false)
        }
        #expect(await log.segmentCount > 5)
        let all = try await log.read(from: 0, maxBytes: 1 << 20, minOneBatch: true)
        #expect(try values(all.records).count == 80)
        let late = try await log.read(from: 61, maxBytes: 1 << 20, minOneBatch: true)
        #expect(try values(late.records).first == "value-30")
        try await log.close()
        let reopened = try open(config)
        #expect(await reopened.logEndOffset == 80)
        #expect(await reopened.segmentCount == (await log.segmentCount))
        #expect(try values(try await reopened.read(from: 0, maxBytes: 1 << 20, minOneBatch: true).records).count == 80)
        let next = try await reopened.append([batch(["after"])], nowMs: 0, sync: false)
        #expect(next.baseOffset == 80)
        try? FileManager.default.removeItem(atPath: directory)
    }

    @Test("recovery cuts a torn or corrupt tail and rebuilds the indexes")
    func recovery() async throws {
        var config = LogConfig()
        config.indexIntervalBytes = 50
        let log = try open(config)
        for index in 0..<10 {
            _ = try await log.append([batch(["v\(index)"])], nowMs: 0, sync: false)
        }
        try await log.close()
        let segment = directory + "/t-0/00000000000000000000.log"
        let handle = try #require(FileHandle(forUpdatingAtPath: segment))
        let size = try handle.seekToEnd()
        try handle.truncate(atOffset: size - 5)
        try handle.close()
        let recovered = try open(config, recover: true)
        #expect(await recovered.logEndOffset == 9)
        #expect(try values(try await recovered.read(from: 0, maxBytes: 1 << 20, minOneBatch: true).records).count == 9)
        // Garbage in the middle of the last batch's records: CRC fails, the batch goes.
        try await recovered.close()
        let again = try #require(FileHandle(forUpdatingAtPath: segment))
        let end = try again.seekToEnd()
        try again.seek(toOffset: end - 3)
        again.write(Data([0xDE, 0xAD, 0xBE]))
        try again.close()
        let second = try open(config, recover: true)
        #expect(await second.logEndOffset == 8)
        _ = try await second.append([batch(["new"])], nowMs: 0, sync: false)
        #expect(try values(try await second.read(from: 8, maxBytes: 1 << 20, minOneBatch: true).records) == ["new"])
        try? FileManager.default.removeItem(atPath: directory)
    }

    @Test("retention deletes whole old segments by time and by size, never the active one")
    func retention() async throws {
        var config = LogConfig()
        config.segmentBytes = 200
        config.retentionMs = 1000
        let log = try open(config)
        for index in 0..<10 {
            _ = try await log.append([batch(["v\(index)"], timestamps: [Int64(index) * 100])], nowMs: 0, sync: false)
        }
        let segments = await log.segmentCount
        #expect(segments > 2)
        // At time 1400 records older than 400 have expired.
        let deleted = try await log.applyRetention(nowMs: 1400)
        #expect(deleted > 0)
        let start = await log.logStartOffset
        #expect(start > 0 && start <= 5)
        await #expect(throws: StorageError.self) { try await log.read(from: 0, maxBytes: 100, minOneBatch: true) }
        // Far in the future everything but the active segment goes.
        try await log.applyRetention(nowMs: 1_000_000)
        #expect(await log.segmentCount == 1)
        #expect(await log.logEndOffset == 10)
        var bySize = LogConfig()
        bySize.segmentBytes = 200
        bySize.retentionMs = -1
        bySize.retentionBytes = 300
        await log.update(config: bySize)
        for index in 10..<20 {
            _ = try await log.append([batch(["v\(index)"])], nowMs: 0, sync: false)
        }
        try await log.applyRetention(nowMs: 0)
        #expect(await log.sizeInBytes <= 300 + 200)
        try? FileManager.default.removeItem(atPath: directory)
    }

    @Test("offsets by timestamp and the max-timestamp record")
    func timestamps() async throws {
        var config = LogConfig()
        config.indexIntervalBytes = 1
        let log = try open(config)
        _ = try await log.append([batch(["a", "b"], timestamps: [100, 200])], nowMs: 0, sync: false)
        _ = try await log.append([batch(["c", "d"], timestamps: [500, 300])], nowMs: 0, sync: false)
        _ = try await log.append([batch(["e"], timestamps: [400])], nowMs: 0, sync: false)
        #expect(try await log.offset(forTimestamp: 200)?.offset == 1)
        #expect(try await log.offset(forTimestamp: 150)?.offset == 1)
        #expect(try await log.offset(forTimestamp: 0)?.offset == 0)
        #expect(try await log.offset(forTimestamp: 450)?.offset == 2)
        #expect(try await log.offset(forTimestamp: 501) == nil)
        let max = try await log.maxTimestampOffset()
        #expect(max?.offset == 2 && max?.timestamp == 500)
        try? FileManager.default.removeItem(atPath: directory)
    }

    @Test("DeleteRecords advances the log start durably")
    func deleteRecords() async throws {
        let log = try open()
        for index in 0..<5 { _ = try await log.append([batch(["v\(index)"])], nowMs: 0, sync: false) }
        #expect(try await log.deleteRecords(before: 3) == 3)
        #expect(try values(try await log.read(from: 3, maxBytes: 1 << 20, minOneBatch: true).records) == ["v3", "v4"])
        await #expect(throws: StorageError.self) { try await log.deleteRecords(before: 9) }
        try await log.close()
        #expect(await (try open()).logStartOffset == 3)
        try? FileManager.default.removeItem(atPath: directory)
    }

    @Test("LogAppendTime topics stamp the append time")
    func logAppendTime() async throws {
        var config = LogConfig()
        config.timestampType = .logAppendTime
        let log = try open(config)
        let result = try await log.append([batch(["a"])], nowMs: 77_000, sync: false)
        #expect(result.logAppendTime == 77_000)
        let stored = try RecordBatch.all(in: try await log.read(from: 0, maxBytes: 1 << 20, minOneBatch: true).records)[0]
        #expect(stored.timestampType == .logAppendTime)
        #expect(stored.maxTimestamp == 77_000)
        try stored.validate()
        try? FileManager.default.removeItem(atPath: directory)
    }
}
