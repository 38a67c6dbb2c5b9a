@testable import CreekStorage
import CreekSimulation
import Foundation
import KafkaCompression
import KafkaProtocol
import NIOCore
import Testing

/// Seeded crash simulation of compaction: keyed appends (some fsynced, some not, in every
/// codec), cleaning passes and retention interleave; the power is cut at a random file
/// operation (torn writes included) and the log reopened, again and again. After every
/// recovery: each record read was written at that offset, offsets rise, and for every key
/// the newest record visible is at least as new as its newest durable write — compaction
/// and crashes together never lose a key's current value nor resurrect an older one.
/// `CREEK_CRASH_SEEDS` widens the run (default 24 seeds × 8 cycles).
@Suite("Compaction crash simulation")
struct CompactionCrashTests {
    struct Written {
        var key: String
        var value: String
    }

    @Test("cleaning interleaved with appends and power cuts keeps every key's latest durable value")
    func seeds() async throws {
        let seeds = ProcessInfo.processInfo.environment["CREEK_CRASH_SEEDS"].flatMap(Int.init) ?? 24
        let first = ProcessInfo.processInfo.environment["CREEK_CRASH_FIRST_SEED"].flatMap(UInt64.init) ?? 0
        var removed = 0
        for seed in first..<first + UInt64(seeds) {
            removed += try await run(seed: seed)
        }
        #expect(removed > seeds * 10, "the passes really compacted (\(removed) records removed)")
    }

    /// Runs one seed; returns how many records its cleaning passes removed.
    func run(seed: UInt64) async throws -> Int {
        var removed = 0
        var random = SeededRandom(seed: seed)
        let files = SimulatedFileSystem()
        try files.makeDirectory("/data")
        try files.syncDirectory("/")
        var config = LogConfig()
        config.cleanupPolicy = random.chance(0.5) ? .compact : [.compact, .delete]
        config.retentionMs = -1
        config.segmentBytes = Int.random(in: 400...3_000, using: &random)
        config.indexIntervalBytes = 200
        config.minCleanableDirtyRatio = Double.random(in: 0...0.6, using: &random)
        config.deleteRetentionMs = Int64.max / 4
        let codecs: [RecordBatch.Compression] = [.none, .gzip, .snappy, .lz4, .zstd]
        var written: [Int64: Written] = [:]
        var durableLatest: [String: Int64] = [:]
        var counter = 0
        var log = try PartitionLog(topic: "c", partition: 0, dataDirectory: "/data", config: config, recover: false, nowMs: 0, files: files)
        for cycle in 0..<8 {
            let cut = files.operationCount + Int.random(in: 1...400, using: &random)
            if random.chance(0.8) { files.setFaults { _, _, number in number > cut ? EIO : nil } }
            for _ in 0..<Int.random(in: 5...30, using: &random) {
                if random.chance(0.2) {
                    let pass = try? log.clean(nowMs: 10_000, dedupeBufferBytes: Int.random(in: 200...4_000, using: &random), force: random.chance(0.3))
                    removed += pass?.recordsRemoved ?? 0
                    continue
                }
                var builder = RecordBatchBuilder()
                var pairs: [Written] = []
                for _ in 0..<Int.random(in: 1...6, using: &random) {
                    counter += 1
                    let entry = Written(key: "k\(Int.random(in: 0..<12, using: &random))", value: "v\(counter)-" + String(repeating: "x", count: Int.random(in: 0...40, using: &random)))
                    pairs.append(entry)
                    builder.append(.init(timestamp: 1_000, key: ByteBuffer(string: entry.key), value: ByteBuffer(string: entry.value)))
                }
                let codec = codecs.randomElement(using: &random) ?? .none
                guard let batch = try? RecordBatch.compressed(builder.build(), with: codec) else { continue }
                let sync = random.chance(0.5)
                guard let result = try? await log.append([batch], nowMs: 1_000, sync: sync) else { continue }
                for (index, entry) in pairs.enumerated() {
                    let offset = result.baseOffset + Int64(index)
                    written[offset] = entry
                    if sync { durableLatest[entry.key] = max(durableLatest[entry.key] ?? -1, offset) }
                }
            }
            if random.chance(0.5) { files.crash(tearing: &random) } else { files.crash() }
            log = try PartitionLog(topic: "c", partition: 0, dataDirectory: "/data", config: config, recover: true, nowMs: 0, files: files)
            let label = "seed \(seed) cycle \(cycle)"
            let contents = try await CompactionTests.contents(log)
            #expect(contents.map(\.offset) == contents.map(\.offset).sorted(), "\(label): offsets rise")
            var visible: [String: Int64] = [:]
            for record in contents {
                guard let expected = written[record.offset] else {
                    Issue.record("\(label): offset \(record.offset) holds a record never written there")
                    continue
                }
                #expect(expected.key == record.key && expected.value == record.value, "\(label): offset \(record.offset)")
                visible[record.key] = max(visible[record.key] ?? -1, record.offset)
            }
            for (key, offset) in durableLatest {
                #expect((visible[key] ?? -1) >= offset, "\(label): \(key)'s durable write at \(offset) is lost (newest visible \(visible[key] ?? -1))")
            }
            // What is visible now is what survived: unsynced writes past the end are gone.
            let end = await log.highWatermark
            written = written.filter { $0.key < end }
            for (key, offset) in visible { durableLatest[key] = max(durableLatest[key] ?? -1, offset) }
        }
        return removed
    }
}
