import CreekStorage
import Foundation
import KafkaProtocol
import NIOCore
import Testing

@Suite("Idempotent producer sequence rules")
struct ProducerStateTests {
    /// A table holding six batches of producer 7, epoch 0: sequences 0-9, 10-19, ... 50-59.
    func sixBatches() -> ProducerStateTable {
        var table = ProducerStateTable()
        for index in 0..<6 {
            let first = Int32(index * 10)
            table.record(producerId: 7, epoch: 0, firstSequence: first, lastSequence: first + 9,
                         firstOffset: Int64(index * 10), lastOffset: Int64(index * 10 + 9), timestampMs: 0)
        }
        return table
    }

    @Test("a retry of each of the last five batches is a duplicate with its original offsets")
    func duplicates() {
        let table = sixBatches()
        for index in 1..<6 {
            let first = Int32(index * 10)
            #expect(table.check(producerId: 7, epoch: 0, firstSequence: first, lastSequence: first + 9)
                    == .duplicate(firstOffset: Int64(index * 10), lastOffset: Int64(index * 10 + 9)))
        }
        // The sixth-newest batch is no longer cached: its retry is out of order.
        #expect(table.check(producerId: 7, epoch: 0, firstSequence: 0, lastSequence: 9) == .reject(.outOfOrderSequenceNumber))
    }

    @Test("the next batch is accepted, a gap is refused")
    func continuation() {
        let table = sixBatches()
        #expect(table.check(producerId: 7, epoch: 0, firstSequence: 60, lastSequence: 64) == .accept)
        #expect(table.check(producerId: 7, epoch: 0, firstSequence: 61, lastSequence: 64) == .reject(.outOfOrderSequenceNumber))
        #expect(table.check(producerId: 7, epoch: 0, firstSequence: 70, lastSequence: 79) == .reject(.outOfOrderSequenceNumber))
    }

    @Test("an epoch bump must restart at sequence 0; an old epoch is fenced")
    func epochs() {
        var table = sixBatches()
        #expect(table.check(producerId: 7, epoch: 1, firstSequence: 0, lastSequence: 4) == .accept)
        #expect(table.check(producerId: 7, epoch: 1, firstSequence: 60, lastSequence: 64) == .reject(.outOfOrderSequenceNumber))
        table.record(producerId: 7, epoch: 1, firstSequence: 0, lastSequence: 4, firstOffset: 60, lastOffset: 64, timestampMs: 0)
        #expect(table.check(producerId: 7, epoch: 0, firstSequence: 60, lastSequence: 64) == .reject(.invalidProducerEpoch))
        #expect(table.check(producerId: 7, epoch: 1, firstSequence: 5, lastSequence: 5) == .accept)
    }

    @Test("a producer id the partition has never seen is accepted at any sequence; sequences wrap")
    func unknownAndWrap() {
        var table = ProducerStateTable()
        #expect(table.check(producerId: 99, epoch: 3, firstSequence: 12_345, lastSequence: 12_350) == .accept)
        table.record(producerId: 99, epoch: 0, firstSequence: Int32.max - 1, lastSequence: Int32.max, firstOffset: 0, lastOffset: 1, timestampMs: 0)
        #expect(table.check(producerId: 99, epoch: 0, firstSequence: 0, lastSequence: 3) == .accept)
        #expect(table.expire(idleBefore: 1) == 1)
        #expect(table.producers.isEmpty)
    }

    func producerBatch(id: Int64, epoch: Int16, sequence: Int32, values: [String]) -> RecordBatch {
        var builder = RecordBatchBuilder()
        builder.producerId = id
        builder.producerEpoch = epoch
        builder.baseSequence = sequence
        for value in values { builder.append(.init(timestamp: 1, key: nil, value: ByteBuffer(string: value))) }
        return builder.build()
    }

    @Test("the partition log suppresses duplicates, also after a restart and across a segment roll")
    func partitionLog() async throws {
        let directory = temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        var config = LogConfig()
        config.segmentBytes = 400
        let log = try PartitionLog(topic: "t", partition: 0, dataDirectory: directory, config: config, recover: false, nowMs: 0)
        var sequence: Int32 = 0
        for index in 0..<8 {
            let result = try await log.append([producerBatch(id: 5, epoch: 0, sequence: sequence, values: ["a\(index)", "b\(index)"])], nowMs: 0, sync: false)
            #expect(result.rejection == nil && result.baseOffset == Int64(index * 2))
            sequence += 2
        }
        let retry = try await log.append([producerBatch(id: 5, epoch: 0, sequence: 12, values: ["a6", "b6"])], nowMs: 0, sync: false)
        #expect(retry.baseOffset == 12 && retry.rejection == nil)
        #expect(await log.logEndOffset == 16)
        let gap = try await log.append([producerBatch(id: 5, epoch: 0, sequence: 20, values: ["x"])], nowMs: 0, sync: false)
        #expect(gap.rejection == .outOfOrderSequenceNumber)
        #expect(await log.segmentCount > 1)
        try await log.close()

        for recover in [false, true] {
            let reopened = try PartitionLog(topic: "t", partition: 0, dataDirectory: directory, config: config, recover: recover, nowMs: 0)
            let again = try await reopened.append([producerBatch(id: 5, epoch: 0, sequence: 14, values: ["a7", "b7"])], nowMs: 0, sync: false)
            #expect(again.baseOffset == 14, "duplicate recognised after reopening (recover: \(recover))")
            #expect(await reopened.logEndOffset == 16)
            try await reopened.close()
        }
    }
}
