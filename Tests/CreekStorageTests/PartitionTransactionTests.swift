@testable import CreekStorage
import Foundation
import KafkaProtocol
import NIOCore
import Testing

/// Transactions as one partition sees them: open transactions pin the last stable offset,
/// markers end them, aborts are indexed and survive restarts (clean and crash recovery).
@Suite("Partition transactions")
struct PartitionTransactionTests {
    let directory = temporaryDirectory()

    func open(_ config: LogConfig = LogConfig(), recover: Bool = false) throws -> PartitionLog {
        try PartitionLog(topic: "t", partition: 0, dataDirectory: directory, config: config, recover: recover, nowMs: 0)
    }

    func transactional(_ values: [String], producer: Int64, epoch: Int16 = 0, sequence: Int32) -> RecordBatch {
        var builder = RecordBatchBuilder()
        builder.producerId = producer
        builder.producerEpoch = epoch
        builder.baseSequence = sequence
        builder.isTransactional = true
        for value in values { builder.append(.init(timestamp: 1_000, key: nil, value: ByteBuffer(string: value))) }
        return builder.build()
    }

    func marker(_ log: PartitionLog, producer: Int64, epoch: Int16 = 0, commit: Bool) async throws -> Int64 {
        let outcome = try await log.appendMarker(
            producerId: producer, epoch: epoch, marker: TransactionMarker(commit: commit, coordinatorEpoch: 0), nowMs: 2_000
        )
        guard case .written(let offset) = outcome else { throw StorageError.closed }
        return offset
    }

    /// Records a read_committed reader gets from `offset`, with aborted ranges removed, as a
    /// client does with the aborted list.
    func committedValues(_ log: PartitionLog, from offset: Int64 = 0) async throws -> [String] {
        let read = try await log.read(from: offset, maxBytes: 1 << 20, minOneBatch: true, committedOnly: true)
        let aborted = read.abortedTransactions.map { ReadCommittedFilter.Aborted(producerId: $0.producerId, firstOffset: $0.firstOffset) }
        return try ReadCommittedFilter.committed(try RecordBatch.all(in: read.records), aborted: aborted)
            .flatMap { try $0.records() }.map { String(buffer: $0.value ?? ByteBuffer()) }
    }

    @Test("an open transaction holds the last stable offset; commit and abort markers move it")
    func lastStableOffset() async throws {
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let log = try open()
        _ = try await log.append([batch(["plain"])], nowMs: 0, sync: false)
        _ = try await log.append([transactional(["a1", "a2"], producer: 7, sequence: 0)], nowMs: 0, sync: false)
        _ = try await log.append([transactional(["b1"], producer: 8, sequence: 0)], nowMs: 0, sync: false)
        _ = try await log.append([batch(["plain2"])], nowMs: 0, sync: false)
        #expect(await log.lastStableOffset == 1)
        #expect(await log.highWatermark == 5)
        #expect(try await committedValues(log) == ["plain"], "nothing at or past the LSO")

        let abortAt = try await marker(log, producer: 7, commit: false)
        #expect(abortAt == 5)
        #expect(await log.lastStableOffset == 3, "producer 8's transaction is still open")
        let commitAt = try await marker(log, producer: 8, commit: true)
        #expect(await log.lastStableOffset == 7 && commitAt == 6)
        #expect(try await committedValues(log) == ["plain", "b1", "plain2"])
        let read = try await log.read(from: 0, maxBytes: 1 << 20, minOneBatch: true, committedOnly: true)
        #expect(read.abortedTransactions == [AbortedTransaction(producerId: 7, firstOffset: 1, lastOffset: 5, lastStableOffset: 3)])
        // A read starting after the aborted range is not told about it.
        #expect(try await log.read(from: 6, maxBytes: 1 << 20, minOneBatch: true, committedOnly: true).abortedTransactions.isEmpty)
        // A marker from an older epoch than the producer's is refused.
        _ = try await log.append([transactional(["c"], producer: 7, epoch: 3, sequence: 0)], nowMs: 0, sync: false)
        let stale = try await log.appendMarker(producerId: 7, epoch: 2, marker: TransactionMarker(commit: true, coordinatorEpoch: 0), nowMs: 0)
        #expect(stale == .staleEpoch)
    }

    @Test("a marker from a replaced coordinator (older coordinator epoch) is refused, also after a reopen")
    func coordinatorFencing() async throws {
        defer { try? FileManager.default.removeItem(atPath: directory) }
        func end(_ log: PartitionLog, commit: Bool, coordinatorEpoch: Int32) async throws -> PartitionLog.MarkerOutcome {
            try await log.appendMarker(
                producerId: 7, epoch: 0, marker: TransactionMarker(commit: commit, coordinatorEpoch: coordinatorEpoch), nowMs: 2_000
            )
        }
        var log = try open()
        // Transaction 1 is committed by the coordinator at epoch 5 (one that took over).
        _ = try await log.append([transactional(["t1"], producer: 7, sequence: 0)], nowMs: 0, sync: false)
        guard case .written = try await end(log, commit: true, coordinatorEpoch: 5) else { throw StorageError.closed }
        // Transaction 2 is open when the replaced coordinator's (epoch 4) late marker arrives:
        // refused, nothing written, the transaction stays open.
        _ = try await log.append([transactional(["t2"], producer: 7, sequence: 1)], nowMs: 0, sync: false)
        let end2 = await log.highWatermark
        #expect(try await end(log, commit: true, coordinatorEpoch: 4) == .coordinatorFenced)
        #expect(await log.highWatermark == end2)
        #expect(await log.lastStableOffset == 2, "transaction 2 is still open")
        #expect(try await committedValues(log) == ["t1"])
        // The epoch is remembered across a reopen (from the marker's control record).
        try await log.close()
        log = try open()
        #expect(try await end(log, commit: false, coordinatorEpoch: 4) == .coordinatorFenced)
        // The current coordinator's marker (same or newer epoch) ends it.
        guard case .written = try await end(log, commit: false, coordinatorEpoch: 5) else { throw StorageError.closed }
        #expect(try await committedValues(log) == ["t1"])
        let (stable, high) = (await log.lastStableOffset, await log.highWatermark)
        #expect(stable == high)
    }

    @Test("aborts and open transactions survive a clean reopen, a crash recovery and segment rolls")
    func durability() async throws {
        defer { try? FileManager.default.removeItem(atPath: directory) }
        var config = LogConfig()
        config.segmentBytes = 400
        do {
            let log = try open(config)
            for round in 0..<6 {
                _ = try await log.append([transactional(["r\(round)-x", "r\(round)-y"], producer: 7, sequence: Int32(round * 2))], nowMs: 0, sync: false)
                _ = try await log.append([batch(["plain-\(round)"])], nowMs: 0, sync: false)
                _ = try await marker(log, producer: 7, commit: round % 2 == 0)
            }
            #expect(await log.segmentCount > 2)
            // The rest stays in the newest segment: an abort there, then an open transaction.
            config.segmentBytes = 1 << 20
            await log.update(config: config)
            _ = try await log.append([transactional(["late"], producer: 11, sequence: 0)], nowMs: 0, sync: false)
            _ = try await marker(log, producer: 11, commit: false)
            _ = try await log.append([transactional(["open"], producer: 9, sequence: 0)], nowMs: 0, sync: false)
            try await log.close()
        }
        let expected = (0..<6).flatMap { round in round % 2 == 0 ? ["r\(round)-x", "r\(round)-y", "plain-\(round)"] : ["plain-\(round)"] }
        let reopened = try open(config)
        #expect(try await committedValues(reopened) == expected)
        let stable = await reopened.lastStableOffset
        #expect(stable == (await reopened.logEndOffset) - 1, "the open transaction still pins the LSO")
        try await reopened.close()

        // Crash recovery: the newest segment's transaction index is rebuilt from its log.
        let newest = try FileManager.default.contentsOfDirectory(atPath: directory + "/t-0").filter { $0.hasSuffix(".log") }.sorted().last ?? ""
        let txnindex = directory + "/t-0/" + newest.replacingOccurrences(of: ".log", with: ".txnindex")
        #expect(FileManager.default.fileExists(atPath: txnindex), "the newest segment holds an abort")
        try FileManager.default.removeItem(atPath: txnindex)
        let recovered = try open(config, recover: true)
        #expect(try await committedValues(recovered) == expected)
        #expect(await recovered.lastStableOffset == stable)
        #expect(FileManager.default.fileExists(atPath: txnindex), "rebuilt by recovery")
        try await recovered.close()
    }
}
