import CreekSimulation
import CreekStorage
import Foundation
import KafkaProtocol
import NIOCore
import Testing

/// The fetch read path returns exactly the bytes on disk, whichever way it finds them: the
/// read hint (a consumer continuing), the sparse index plus an in-memory skip (a seek), a
/// window re-read (a batch cut by the window), a batch larger than `maxBytes`, ranges that
/// cross segment boundaries, and budgets that cut before a batch's end.
@Suite("Fetch reads")
struct FetchReadTests {
    let directory = temporaryDirectory()

    /// One stored batch as the reference model sees it: its bytes straight from the
    /// segment file, its offsets.
    struct Stored {
        var bytes: ByteBuffer
        var baseOffset: Int64
        var lastOffset: Int64
    }

    /// Every batch, read directly from the `.log` files in offset order.
    func storedBatches() throws -> [Stored] {
        let partitionDirectory = directory + "/t-0"
        let logs = try FileManager.default.contentsOfDirectory(atPath: partitionDirectory).filter { $0.hasSuffix(".log") }.sorted()
        var result: [Stored] = []
        for name in logs {
            let data = try Data(contentsOf: URL(fileURLWithPath: partitionDirectory + "/" + name))
            let buffer = ByteBuffer(bytes: data)
            for batch in try RecordBatch.all(in: buffer) {
                result.append(Stored(bytes: batch.buffer, baseOffset: batch.baseOffset, lastOffset: batch.lastOffset))
            }
        }
        return result
    }

    /// Kafka's rule on the model: from the batch holding `offset`, whole batches while the
    /// total stays within `maxBytes`; the first one even when larger if `minOneBatch`.
    func expected(_ stored: [Stored], from offset: Int64, maxBytes: Int, minOneBatch: Bool) -> ByteBuffer {
        var out = ByteBuffer()
        guard let start = stored.firstIndex(where: { $0.lastOffset >= offset }) else { return out }
        for (position, batch) in stored[start...].enumerated() {
            let fits = out.readableBytes + batch.bytes.readableBytes <= maxBytes
            guard fits || (position == 0 && minOneBatch) else { break }
            var bytes = batch.bytes
            out.writeBuffer(&bytes)
        }
        return out
    }

    @Test("every read path serves byte-identical data, across segments and budgets")
    func byteIdentical() async throws {
        var config = LogConfig()
        config.segmentBytes = 24_000
        config.indexIntervalBytes = 700
        let log = try PartitionLog(topic: "t", partition: 0, dataDirectory: directory, config: config, recover: false, nowMs: 0)
        var random = SeededRandom(seed: 9)
        for round in 0..<400 {
            let count = 1 + Int(random.next() % 12)
            // Mostly small values; now and then one larger than a window or a segment.
            let length = round % 97 == 0 ? 30_000 : 1 + Int(random.next() % 900)
            let values = (0..<count).map { index in String(repeating: Character(UnicodeScalar(UInt8(97 + (round + index) % 26))), count: length) }
            _ = try log.appendInPlace([batch(values)], nowMs: 0)
        }
        let stored = try storedBatches()
        let end = await log.logEndOffset
        #expect(stored.last?.lastOffset == end - 1)
        #expect(await log.segmentCount > 10)

        // Seeks: random offsets and budgets, through the actor and in place.
        for _ in 0..<600 {
            let offset = Int64(random.next() % UInt64(end))
            let maxBytes = [0, 1, 100, 1_000, 5_000, 40_000, 1 << 20][Int(random.next() % 7)]
            let minOne = random.next() % 4 != 0
            let want = expected(stored, from: offset, maxBytes: maxBytes, minOneBatch: minOne)
            let viaActor = try await log.read(from: offset, maxBytes: maxBytes, minOneBatch: minOne).records
            let inPlace = try log.readInPlace(from: offset, maxBytes: maxBytes, minOneBatch: minOne).records
            #expect(viaActor == want, "offset \(offset) maxBytes \(maxBytes) minOne \(minOne)")
            #expect(inPlace == want, "offset \(offset) maxBytes \(maxBytes) minOne \(minOne)")
        }

        // A consumer reading forward (the read-hint path) gets the whole log, byte for byte.
        for maxBytes in [1, 3_000, 65_536] {
            var offset: Int64 = 0
            var all = ByteBuffer()
            var reads = 0
            while offset < end, reads < 10_000 {
                var read = try log.readInPlace(from: offset, maxBytes: maxBytes, minOneBatch: true).records
                let batches = try RecordBatch.all(in: read)
                guard let last = batches.last else { break }
                offset = last.lastOffset + 1
                all.writeBuffer(&read)
                reads += 1
            }
            #expect(all == expected(stored, from: 0, maxBytes: .max, minOneBatch: true), "maxBytes \(maxBytes)")
        }
        try? FileManager.default.removeItem(atPath: directory)
    }
}
