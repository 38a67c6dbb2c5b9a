@testable import CreekBroker
import CreekSimulation
import CreekStorage
import KafkaProtocol
import Logging
import NIOConcurrencyHelpers
import NIOCore
#if canImport(Glibc)
import Glibc
#endif

/// Drives a broker on a `SimulatedFileSystem` with a seeded random workload — produce
/// (plain, idempotent and transactional, every acks level), commits and aborts of
/// transactions, idempotent retries, fetch, segment rolls,
/// retention, DeleteRecords, topic create/delete, offset commits, failed fsyncs, a full
/// disk — cuts the power at random file operations, reopens, and checks the storage
/// promises after every recovery (see `verify`). Returns the failures found.
final class CrashRunner {
    let seed: UInt64
    var random: SeededRandom
    let files = SimulatedFileSystem()
    var model = CrashModel()
    let policy: BrokerConfig.FlushPolicy
    let segmentBytes: Int
    var broker: Broker?
    /// The broker's clock: the runner moves it; the broker reads it.
    let clockValue = NIOLockedValueBox<Int64>(1_700_000_000_000)
    var now: Int64 {
        get { clockValue.withLockedValue { $0 } }
        set { clockValue.withLockedValue { $0 = newValue } }
    }
    var counter = 0
    var failures: [String] = []
    var trace: [String] = []
    static let topicNames = ["t0", "t1", "t2"]

    init(seed: UInt64) {
        self.seed = seed
        random = SeededRandom(seed: seed)
        policy = BrokerConfig.FlushPolicy.allCases.randomElement(using: &random) ?? .acksAll
        segmentBytes = Int.random(in: 250...2_000, using: &random)
    }

    var config: BrokerConfig {
        var config = BrokerConfig()
        config.dataDirectory = "/data"
        config.flush = policy
        config.logSegmentBytes = segmentBytes
        config.logIndexIntervalBytes = 100
        // Retention runs with clocks days ahead; producer state must not expire meanwhile.
        config.producerIdExpirationMs = 365 * 86_400_000
        return config
    }

    /// Every acknowledgement under `policy` that must survive a power loss.
    func isDurable(acks: Int16) -> Bool { policy == .always || (policy == .acksAll && acks == -1) }

    func note(_ line: String) {
        trace.append(line)
        if trace.count > 600 { trace.removeFirst(trace.count - 600) }
    }

    func fail(_ message: String) {
        failures.append("seed \(seed) (policy \(policy.rawValue), segment.bytes \(segmentBytes)): \(message)\n  last steps:\n    " + trace.suffix(getenv("CREEK_CRASH_TRACE").flatMap { Int(String(cString: $0)) } ?? 25).joined(separator: "\n    "))
    }

    func open() throws {
        // Injected faults make the broker log loudly by design; the runner checks outcomes.
        let logger = Logger(label: "crash-sim", factory: { _ in SwiftLogNoOpLogHandler() })
        broker = try Broker.open(config: config, files: files, logger: logger, clock: { [clockValue] in clockValue.withLockedValue { $0 } })
    }

    /// Runs `cycles` crash points. Returns how many crashes were checked.
    func run(cycles: Int) async -> Int {
        do {
            try open()
        } catch {
            fail("first open failed: \(error)")
            return 0
        }
        for cycle in 0..<cycles {
            note("-- cycle \(cycle)")
            let steps = Int.random(in: 1...16, using: &random)
            if random.chance(0.7) {
                let cut = files.operationCount + Int.random(in: 1...(steps * 12), using: &random)
                note("power cut after file operation \(cut)")
                files.setFaults { _, _, sequence in sequence > cut ? EIO : nil }
            }
            for _ in 0..<steps { await step() }
            if random.chance(0.5) {
                files.crash(tearing: &random)
                note("crash (torn)")
            } else {
                files.crash()
                note("crash")
            }
            broker = nil
            files.setCapacity(nil)
            do {
                try open()
            } catch {
                fail("reopen after crash failed: \(error)")
                return cycle
            }
            await verify()
            if !failures.isEmpty { return cycle + 1 }
        }
        return cycles
    }

    // MARK: - Steps

    func step() async {
        let roll = Int.random(in: 0..<100, using: &random)
        switch roll {
        case 0..<26: await produce()
        case 26..<38: await transactionStep()
        case 38..<45: await retryPending()
        case 45..<52: await fetchCheck()
        case 52..<56: await retention()
        case 56..<60: await deleteRecords()
        case 60..<66: await createTopic()
        case 66..<69: await deleteTopic()
        case 69..<80: await commitOffset()
        case 80..<85:
            now += Int64.random(in: 1...600_000, using: &random)
        case 85..<89:
            let failAt = files.operationCount + Int.random(in: 1...6, using: &random)
            note("fsync after operation \(failAt) fails with EIO")
            files.setFaults { operation, _, sequence in operation == .sync && sequence > failAt ? EIO : nil }
        case 89..<93:
            let room = Int.random(in: 0...400, using: &random)
            note("disk full: \(room) bytes left")
            files.setCapacity(files.usedBytes + room)
        case 93..<96:
            note("disk space freed")
            files.setCapacity(nil)
        default:
            await produce()
        }
    }

    func pickPartition() -> (String, Int32)? {
        guard let name = model.topics.keys.sorted().randomElement(using: &random), let topic = model.topics[name] else { return nil }
        return (name, Int32.random(in: 0..<Int32(topic.partitions.count), using: &random))
    }

    func newBatch(producerId: Int64 = -1, sequence: Int32 = -1) -> RecordBatch {
        var builder = RecordBatchBuilder()
        builder.producerId = producerId
        builder.producerEpoch = producerId >= 0 ? 0 : -1
        builder.baseSequence = sequence
        let count = Int.random(in: 1...4, using: &random)
        for index in 0..<count {
            counter += 1
            let value = String(repeating: "v", count: Int.random(in: 0...60, using: &random)) + "-\(seed)-\(counter)"
            builder.append(.init(timestamp: now + Int64(index), key: random.chance(0.5) ? ByteBuffer(string: "k\(counter % 7)") : nil,
                                 value: ByteBuffer(string: value)))
        }
        return builder.build()
    }

    func produce() async {
        guard let (topic, partition) = pickPartition() else { return await createTopic() }
        if random.chance(0.5) {
            if model.producers.isEmpty || random.chance(0.1) {
                guard let id = try? await broker?.producerIds.nextId() else { return }
                model.producers.append(.init(id: id))
            }
            let index = Int.random(in: 0..<model.producers.count, using: &random)
            if model.producers[index].pending != nil { return await retry(producer: index) }
            let key = "\(topic)/\(partition)"
            let sequence = model.producers[index].nextSequence[key] ?? 0
            let batch = newBatch(producerId: model.producers[index].id, sequence: sequence)
            let last = sequence + batch.lastOffsetDelta
            model.producers[index].nextSequence[key] = last + 1
            model.producers[index].pending = .init(topic: topic, partition: partition, batch: batch, lastSequence: last)
            await retry(producer: index)
        } else {
            let acks: Int16 = [-1, 0, 1].randomElement(using: &random) ?? -1
            _ = await send(newBatch(), topic: topic, partition: partition, acks: acks)
        }
    }

    func retryPending() async {
        guard let index = model.producers.indices.filter({ model.producers[$0].pending != nil }).randomElement(using: &random) else {
            return await produce()
        }
        await retry(producer: index)
    }

    func retry(producer index: Int) async {
        guard let pending = model.producers[index].pending else { return }
        guard model.topics[pending.topic] != nil else {
            model.producers[index].pending = nil
            return
        }
        let code = await send(pending.batch, topic: pending.topic, partition: pending.partition, acks: -1)
        if code == 0 {
            model.producers[index].pending = nil
        } else if code != KafkaErrorCode.kafkaStorageError.rawValue {
            // Not retriable here (e.g. the topic was re-created): this producer is done.
            note("producer \(model.producers[index].id) abandoned after error \(code)")
            model.producers[index].pending = nil
            if let id = try? await broker?.producerIds.nextId() {
                model.producers[index] = .init(id: id)
            } else {
                model.producers.remove(at: index)
            }
        }
    }

    /// Sends one batch through the real Produce handler; records what the answer promises.
    @discardableResult
    func send(_ batch: RecordBatch, topic: String, partition: Int32, acks: Int16) async -> Int16 {
        guard let broker, let count = model.topics[topic]?.partitions.count, Int(partition) < count else { return -1 }
        let body = CrashModel.body(of: batch)
        model.topics[topic]?.partitions[Int(partition)].sent.insert(body)
        let request = ProduceRequest(acks: acks, timeoutMs: 30_000, topicData: [
            .init(name: topic, partitionData: [.init(index: partition, records: .bytes(batch.buffer))]),
        ])
        let context = RequestContext(apiKey: .produce, apiVersion: 9, correlationId: 1, clientId: "crash", peer: "sim")
        let response = await ProduceHandler(broker: broker).handle(request, context: context)
        guard let answer = response?.responses.first?.partitionResponses.first else {
            note("produce \(topic)-\(partition) acks=0")
            return acks == 0 ? 0 : -1
        }
        note("produce \(topic)-\(partition) acks=\(acks) pid=\(batch.producerId) seq=\(batch.baseSequence) -> error \(answer.errorCode) base \(answer.baseOffset)")
        guard answer.errorCode == 0 else { return answer.errorCode }
        let sent = CrashModel.Sent(body: body, producerId: batch.producerId, baseSequence: batch.baseSequence)
        if let earlier = model.topics[topic]?.partitions[Int(partition)].written[answer.baseOffset], earlier != sent {
            fail("\(topic)-\(partition): acknowledged at offset \(answer.baseOffset), which holds another batch")
        }
        model.topics[topic]?.partitions[Int(partition)].written[answer.baseOffset] = sent
        if isDurable(acks: acks) {
            model.topics[topic]?.partitions[Int(partition)].durable[answer.baseOffset] = sent
        }
        return 0
    }

    func fetchCheck() async {
        guard let (topic, partition) = pickPartition(), let log = broker?.topics.topic(named: topic)?.partition(partition) else { return }
        let start = await log.logStartOffset
        let end = await log.highWatermark
        guard end > start else { return }
        let offset = Int64.random(in: start..<end, using: &random)
        guard let read = try? await log.read(from: offset, maxBytes: Int.random(in: 1...4_000, using: &random), minOneBatch: true) else { return }
        var buffer = read.records
        while let batch = try? RecordBatch.next(from: &buffer) {
            if let written = model.topics[topic]?.partitions[Int(partition)].written[batch.baseOffset],
               written.body != CrashModel.body(of: batch) {
                fail("\(topic)-\(partition): fetch at \(batch.baseOffset) returned bytes that were not written there")
            }
        }
    }

    func retention() async {
        guard let (topic, partition) = pickPartition(), let log = broker?.topics.topic(named: topic)?.partition(partition) else { return }
        let later = random.chance(0.5) ? now + 8 * 86_400_000 : now
        let deleted = try? await log.applyRetention(nowMs: later)
        note("retention \(topic)-\(partition) -> \(deleted.map(String.init) ?? "failed")")
    }

    func deleteRecords() async {
        guard let (topic, partition) = pickPartition(), let log = broker?.topics.topic(named: topic)?.partition(partition) else { return }
        let start = await log.logStartOffset
        let end = await log.highWatermark
        guard end >= start else { return fail("\(topic)-\(partition): high watermark \(end) below log start \(start)") }
        let target = Int64.random(in: start...end, using: &random)
        if let low = try? await log.deleteRecords(before: target) {
            note("delete records \(topic)-\(partition) before \(target) -> \(low)")
            let previous = model.topics[topic]?.partitions[Int(partition)].acknowledgedLogStart ?? 0
            model.topics[topic]?.partitions[Int(partition)].acknowledgedLogStart = max(previous, low)
        }
    }

    func createTopic() async {
        guard let broker, let name = Self.topicNames.randomElement(using: &random), model.topics[name] == nil else { return }
        let count = Int32.random(in: 1...3, using: &random)
        do {
            try await broker.topics.create(name: name, partitions: count)
            note("create \(name) with \(count) partitions")
            model.topics[name] = .init(partitions: Array(repeating: .init(), count: Int(count)))
            model.deleted.remove(name)
            model.maybeDeleted.remove(name)
        } catch {
            note("create \(name) failed: \(error)")
        }
    }

    func deleteTopic() async {
        guard let broker, let name = model.topics.keys.sorted().randomElement(using: &random) else { return }
        do {
            try await broker.topics.delete(name: name)
            note("delete \(name)")
            model.topics[name] = nil
            model.deleted.insert(name)
        } catch {
            note("delete \(name) failed: \(error)")
            model.maybeDeleted.insert(name)
        }
    }

    func commitOffset() async {
        guard let broker else { return }
        let group = "g\(Int.random(in: 0...2, using: &random))"
        let partition = Int32.random(in: 0...2, using: &random)
        counter += 1
        let offset = Int64(counter)
        let value = CommittedOffset(offset: offset, leaderEpoch: 0, metadata: nil, commitTimestampMs: now)
        let key = "\(group)"
        var entry = model.commits[key]?[partition] ?? (durable: nil, later: [])
        do {
            try broker.groups.offsets.commit(group: group, [(topic: "offsets-topic", partition: partition, value: value)])
            entry.later.append(offset)
            model.commits[key, default: [:]][partition] = entry
            if policy != .os {
                try await broker.groups.offsets.sync()
                model.commits[key, default: [:]][partition] = (durable: offset, later: [])
            }
            note("commit \(group)/\(partition) = \(offset)")
        } catch {
            note("commit \(group)/\(partition) = \(offset) failed: \(error)")
        }
    }
}
