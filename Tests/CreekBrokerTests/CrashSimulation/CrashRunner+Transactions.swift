@testable import CreekBroker
import CreekStorage
import KafkaProtocol
import NIOCore

/// Transactions in the crash simulation: a few transactional ids open transactions, write
/// transactional batches to random partitions through the real Produce handler, and commit
/// or abort them through the real coordinator, while the power is cut at random file
/// operations. After each recovery every transaction that is no longer open must be all or
/// nothing: visible to read_committed on every partition that holds its records, or on
/// none; an acknowledged commit visible, an acknowledged abort never; and only a
/// transaction the coordinator still has open may hold a partition's last stable offset.
extension CrashRunner {
    static let transactionalIds = ["tx-a", "tx-b"]
    static let transactionTimeoutMs: Int32 = 60_000

    /// One step: open a transaction, add a batch to the open one, or end it.
    func transactionStep() async {
        guard let broker, let id = Self.transactionalIds.randomElement(using: &random) else { return }
        guard var open = model.openTransactions[id] else {
            let (code, producerId, epoch) = await broker.transactions.initProducerId(
                transactionalId: id, timeoutMs: Self.transactionTimeoutMs, caller: nil
            )
            note("init \(id) -> \(code) pid \(producerId) epoch \(epoch)")
            guard code == .none else { return }
            counter += 1
            model.openTransactions[id] = .init(tag: counter, producerId: producerId, epoch: epoch)
            return
        }
        let caller = TransactionCoordinator.Caller(producerId: open.producerId, producerEpoch: open.epoch, fenced: .producerFenced)
        if open.batches == 0 || random.chance(0.5) {
            guard let (topic, partition) = pickPartition() else { return }
            let added = await broker.transactions.add(
                transactionalId: id, caller: caller, partitions: [.init(topic: topic, partition: partition)]
            )
            guard added == .added else {
                note("add \(id)#\(open.tag) \(topic)-\(partition) -> \(added)")
                if case .failed(let code) = added, code == .producerFenced || code == .invalidProducerIdMapping {
                    model.openTransactions[id] = nil
                }
                return
            }
            let key = "\(topic)/\(partition)"
            let sequence = open.nextSequence[key] ?? 0
            var builder = RecordBatchBuilder()
            builder.producerId = open.producerId
            builder.producerEpoch = open.epoch
            builder.baseSequence = sequence
            builder.isTransactional = true
            let count = Int.random(in: 1...3, using: &random)
            for index in 0..<count {
                counter += 1
                builder.append(.init(timestamp: now + Int64(index), key: nil, value: ByteBuffer(string: "txn\(open.tag)-\(counter)")))
            }
            let code = await send(builder.build(), topic: topic, partition: partition, acks: -1)
            note("txn \(id)#\(open.tag) batch to \(key) -> \(code)")
            if code == 0 {
                open.nextSequence[key] = sequence + Int32(count)
                open.batches += 1
            } else {
                // A client aborts after a failed send.
                open.failedSend = true
            }
            model.openTransactions[id] = open
            return
        }
        let commit = !open.failedSend && random.chance(0.6)
        let code = await broker.transactions.end(transactionalId: id, caller: caller, commit: commit)
        note("end \(id)#\(open.tag) commit=\(commit) -> \(code)")
        if code == .none {
            model.transactionOutcomes[open.tag] = commit
        }
        model.openTransactions[id] = nil
    }

    /// After a recovery: completes decided transactions (as startup does) and, in some
    /// cycles, lets open ones time out; then checks that every transaction the coordinator
    /// no longer has open is all or nothing, and that only open ones hold partitions back.
    func verifyTransactions() async {
        guard let broker else { return }
        await broker.transactions.recover()
        if random.chance(0.3) {
            // Let every open transaction time out: the coordinator aborts them.
            now += Int64(Self.transactionTimeoutMs) + 1
            await broker.transactions.tick()
            model.openTransactions.removeAll()
        }
        // A transaction the coordinator still has open may hold partitions back; its
        // records are not judged yet.
        let ongoing = broker.transactions.transactions.values.filter { $0.state == .ongoing }
        let openTags = Set(model.openTransactions.values.filter { open in ongoing.contains { $0.producerId == open.producerId } }.map(\.tag))
        model.openTransactions = model.openTransactions.filter { openTags.contains($0.value.tag) }
        var committedOn: [Int: Set<String>] = [:]
        var presentOn: [Int: Set<String>] = [:]
        var layouts: [String: String] = [:]
        for topic in broker.topics.allTopics() {
            for log in topic.partitions {
                let label = "\(log.topic)-\(log.partition)"
                let stable = await log.lastStableOffset
                let end = await log.highWatermark
                let pinnedByOngoing = await log.openTransactions.keys.allSatisfy { producerId in
                    ongoing.contains { $0.producerId == producerId && $0.partitions.contains(.init(topic: log.topic, partition: log.partition)) }
                }
                if stable != end && !pinnedByOngoing {
                    let open = await log.openTransactions
                    let states = broker.transactions.transactions.values.map { "\($0.transactionalId): pid \($0.producerId) epoch \($0.producerEpoch) \($0.state.kafkaName) \($0.partitions.map { "\($0.topic)-\($0.partition)" }.sorted())" }
                    let listing = (((log as? PartitionLog).flatMap { try? files.list($0.directory) }) ?? []).sorted()
                    fail("\(label): a transaction is still open after recovery and its timeout (LSO \(stable), HW \(end)); open here: \(open); coordinator: \(states.sorted()); files: \(listing)")
                }
                // Held back by a transaction still open: its other records are not judged yet.
                guard stable == end else { continue }
                let start = await log.logStartOffset
                guard let raw = try? await log.read(from: start, maxBytes: Int.max, minOneBatch: true),
                      let committed = try? await log.read(from: start, maxBytes: Int.max, minOneBatch: true, committedOnly: true)
                else {
                    fail("\(label): reading after recovery failed")
                    continue
                }
                for tag in Self.tags(in: raw.records, aborted: nil) { presentOn[tag, default: []].insert(label) }
                let batches = (try? RecordBatch.all(in: raw.records)) ?? []
                layouts[label] = batches.map { "\($0.baseOffset)\($0.isControl ? "C" : $0.isTransactional ? "T" : "")p\($0.producerId)" }.joined(separator: " ")
                    + " aborted: \(committed.abortedTransactions.map { "\($0.producerId)@\($0.firstOffset)-\($0.lastOffset)" }) LSO \(stable) start \(start)" 
                for tag in Self.tags(in: committed.records, aborted: committed.abortedTransactions) { committedOn[tag, default: []].insert(label) }
            }
        }
        for (tag, partitions) in presentOn where !openTags.contains(tag) {
            let visible = committedOn[tag] ?? []
            if !visible.isEmpty && visible != partitions {
                fail("transaction \(tag) is committed on \(visible.sorted()) but not on \(partitions.subtracting(visible).sorted()); "
                     + partitions.sorted().map { "\($0): \(layouts[$0] ?? "")" }.joined(separator: "; "))
            }
            // Under `--flush os` the batches (acks=-1) may have been lost in an earlier crash
            // before the commit; under the other policies they were durable when acknowledged.
            if model.transactionOutcomes[tag] == true && visible.isEmpty && policy != .os {
                fail("transaction \(tag): commit acknowledged, but read_committed sees none of it")
            }
            if model.transactionOutcomes[tag] == false && !visible.isEmpty {
                fail("transaction \(tag): abort acknowledged, but read_committed sees it on \(visible.sorted())")
            }
        }
    }

    /// The transaction tags of the records a read_committed reader keeps (`aborted` given)
    /// or of all transactional records (`aborted` nil), as a client filters them.
    static func tags(in records: ByteBuffer, aborted: [AbortedTransaction]?) -> Set<Int> {
        guard let all = try? RecordBatch.all(in: records) else { return [] }
        let batches = aborted.map { list in
            ReadCommittedFilter.committed(all, aborted: list.map { .init(producerId: $0.producerId, firstOffset: $0.firstOffset) })
        } ?? all.filter { !$0.isControl }
        var tags: Set<Int> = []
        for batch in batches where batch.isTransactional {
            for record in (try? batch.records()) ?? [] {
                let value = String(buffer: record.value ?? ByteBuffer())
                guard value.hasPrefix("txn"), let dash = value.firstIndex(of: "-"),
                      let tag = Int(value[value.index(value.startIndex, offsetBy: 3)..<dash]) else { continue }
                tags.insert(tag)
            }
        }
        return tags
    }
}
