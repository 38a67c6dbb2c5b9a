@testable import CreekBroker
import CreekStorage
import KafkaProtocol
import NIOCore

extension CrashRunner {
    /// The promises checked after every recovery:
    /// - every topic whose creation was acknowledged exists (with at least its partitions),
    ///   every topic whose deletion was acknowledged is gone, and a re-created topic holds
    ///   only what was sent to it since;
    /// - each partition's batches have contiguous offsets from the log start; each is a
    ///   batch that was sent to that partition (never invented, never stored twice), and
    ///   a batch whose offset was acknowledged holds exactly those bytes;
    /// - every batch acknowledged under a durable policy is present at its offset, and the
    ///   log end is past it (offsets are never reused); the log start did not move back
    ///   before an acknowledged DeleteRecords;
    /// - the offset index finds every batch by its first and last offset;
    /// - a durable idempotent batch sent again is answered with its original offset and
    ///   not stored twice;
    /// - each committed offset is the last durable commit or one written after it.
    func verify() async {
        guard let broker else { return }
        for name in model.deleted where model.topics[name] == nil && broker.topics.topic(named: name) != nil {
            fail("topic \(name) came back after its deletion was acknowledged")
        }
        for topic in broker.topics.allTopics() where model.topics[topic.name] == nil {
            // Created without an acknowledgement (cut mid-create): it is empty.
            model.topics[topic.name] = .init(partitions: Array(repeating: .init(), count: topic.partitions.count))
            model.deleted.remove(topic.name)
        }
        for name in model.topics.keys.sorted() {
            guard let live = broker.topics.topic(named: name), var topic = model.topics[name] else {
                if !model.maybeDeleted.contains(name) { fail("topic \(name) was acknowledged but is gone after recovery") }
                model.topics[name] = nil
                continue
            }
            if live.partitions.count < topic.partitions.count {
                fail("topic \(name) has \(live.partitions.count) partitions, \(topic.partitions.count) were acknowledged")
                continue
            }
            while topic.partitions.count < live.partitions.count { topic.partitions.append(.init()) }
            for index in topic.partitions.indices {
                topic.partitions[index] = await verify(live.partitions[index], topic.partitions[index])
            }
            model.topics[name] = topic
        }
        model.maybeDeleted.removeAll()
        await verifyIdempotentRetries()
        verifyCommits()
        await verifyTransactions()
    }

    private func verify(_ log: any PartitionStorage, _ expected: CrashModel.Partition) async -> CrashModel.Partition {
        let label = "\(log.topic)-\(log.partition)"
        let start = await log.logStartOffset
        let end = await log.logEndOffset
        if start < expected.acknowledgedLogStart {
            fail("\(label): log start \(start) is before the acknowledged DeleteRecords offset \(expected.acknowledgedLogStart)")
        }
        var stored: [(base: Int64, last: Int64, body: [UInt8], isControl: Bool)] = []
        do {
            let read = try await log.read(from: start, maxBytes: Int.max, minOneBatch: true)
            var buffer = read.records
            while let batch = try RecordBatch.next(from: &buffer) {
                try batch.validate()
                if batch.isControl && TransactionMarker(controlBatch: batch) == nil {
                    fail("\(label): control batch at \(batch.baseOffset) is not a transaction marker")
                }
                stored.append((batch.baseOffset, batch.lastOffset, CrashModel.body(of: batch), batch.isControl))
            }
        } catch {
            fail("\(label): reading [\(start), \(end)) after recovery failed: \(error)")
            return expected
        }
        var next: Int64? = nil
        var seen = Set<[UInt8]>()
        var after = CrashModel.Partition(acknowledgedLogStart: expected.acknowledgedLogStart, sent: expected.sent)
        for batch in stored {
            if let next, batch.base != next { fail("\(label): batch at \(batch.base) follows one ending at \(next - 1)") }
            next = batch.last + 1
            if !batch.isControl && !seen.insert(batch.body).inserted { fail("\(label): a batch is stored twice (again at \(batch.base))") }
            if batch.isControl {
                // A marker the coordinator wrote: not sent by the runner, kept as written.
                after.sent.insert(batch.body)
            }
            if let written = expected.written[batch.base], written.body != batch.body {
                fail("\(label): offset \(batch.base) holds other bytes than were acknowledged there")
            } else if !batch.isControl && !expected.sent.contains(batch.body) {
                fail("\(label): offset \(batch.base) holds a batch that was never sent to this partition")
            }
            let sent = expected.written[batch.base] ?? .init(body: batch.body, producerId: -1, baseSequence: -1)
            after.written[batch.base] = sent
            if let durable = expected.durable[batch.base], durable.body == batch.body { after.durable[batch.base] = durable }
            for probe in [batch.base, batch.last] where probe >= start {
                let first = try? await log.read(from: probe, maxBytes: 1, minOneBatch: true)
                var bytes = first?.records ?? ByteBuffer()
                if (try? RecordBatch.next(from: &bytes))??.baseOffset != batch.base {
                    fail("\(label): reading from offset \(probe) does not start with its batch at \(batch.base)")
                }
            }
        }
        if let first = stored.first, first.base > start {
            fail("\(label): first batch at \(first.base) but the log starts at \(start)")
        }
        for (base, durable) in expected.durable.sorted(by: { $0.key < $1.key }) {
            let last = base + Int64(durable.lastOffsetDelta)
            guard last >= start else { continue }
            if after.durable[base] == nil {
                fail("\(label): acknowledged durable batch at \(base) is missing after recovery (log [\(start), \(end)))")
            }
        }
        if let maxDurable = expected.durable.filter({ $0.key >= start }).map({ $0.key + Int64($0.value.lastOffsetDelta) }).max(), end <= maxDurable {
            fail("\(label): log end \(end) is not past acknowledged offset \(maxDurable)")
        }
        return after
    }

    /// Sends the last durable batch of each idempotent producer again: it must be
    /// recognised (same offset, nothing appended).
    private func verifyIdempotentRetries() async {
        guard let broker else { return }
        for (name, topic) in model.topics {
            for (index, partition) in topic.partitions.enumerated() {
                var newest: [Int64: (Int64, CrashModel.Sent)] = [:]
                // Transactional producers are left out: their epochs move with every
                // InitProducerId, which fences a resend of an older transaction's batch.
                for (base, sent) in partition.durable where sent.producerId >= 0 && !sent.isTransactional {
                    if let current = newest[sent.producerId], current.0 > base { continue }
                    newest[sent.producerId] = (base, sent)
                }
                for (producerId, (base, sent)) in newest where partition.written.keys.allSatisfy({ $0 <= base || partition.written[$0]?.producerId != producerId }) {
                    guard model.producers.first(where: { $0.id == producerId })?.pending?.partition != Int32(index) else { continue }
                    guard let log = broker.topics.topic(named: name)?.partition(Int32(index)) else { continue }
                    let endBefore = await log.logEndOffset
                    var bytes = ByteBuffer(bytes: [UInt8](repeating: 0, count: 16))
                    bytes.writeBytes(sent.body)
                    bytes.setInteger(Int32(bytes.readableBytes - 12), at: 8, endianness: .big)
                    guard let batch = try? RecordBatch(bytes: bytes) else { continue }
                    let code = await send(batch, topic: name, partition: Int32(index), acks: -1)
                    let endAfter = await log.logEndOffset
                    if code != 0 || endAfter != endBefore {
                        fail("\(name)-\(index): retry of durable idempotent batch at \(base) (producer \(producerId)) got error \(code), log end \(endBefore) -> \(endAfter)")
                    }
                }
            }
        }
    }

    private func verifyCommits() {
        guard let broker else { return }
        for (group, partitions) in model.commits {
            let stored = broker.groups.offsets.offsets(group: group)["offsets-topic"] ?? [:]
            for (partition, expected) in partitions {
                let value = stored[partition]?.offset
                let allowed = Set(expected.later + (expected.durable.map { [$0] } ?? []))
                if let value, !allowed.contains(value) {
                    fail("committed offset \(group)/\(partition) is \(value), expected one of \(allowed.sorted())")
                } else if value == nil, expected.durable != nil {
                    fail("committed offset \(group)/\(partition) = \(expected.durable ?? -1) was durable and is gone")
                }
                // What survived is now the durable value.
                model.commits[group]?[partition] = (durable: value, later: [])
            }
        }
    }
}

extension CrashModel.Sent {
    /// The batch's transactional attribute (bit 4 of the attributes, body bytes 5..6).
    var isTransactional: Bool { body.count >= 7 && body[6] & 0x10 != 0 }

    /// The batch's lastOffsetDelta (bytes 23..26 of the batch, 7..10 of the body).
    var lastOffsetDelta: Int32 {
        guard body.count >= 11 else { return 0 }
        return body[7..<11].reduce(Int32(0)) { ($0 << 8) | Int32($1) }
    }
}
