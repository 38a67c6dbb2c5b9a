import KafkaProtocol
public import Logging
import NIOConcurrencyHelpers
import NIOCore

/// A Kafka producer in Swift: records are gathered per partition into batches (sent when
/// `batchSize` is reached or `linger` has passed), batches to the same broker share a
/// Produce request, `send` suspends while `bufferMemory` is full, and with idempotence (the
/// default) every batch carries the producer id and sequence numbers, so retries after lost
/// responses or reconnects never store a record twice. Thread-safe; every call may come
/// from any task. The sender runs in `run()`: start it in a task (or use `start`).
public final class KafkaProducer: Sendable {
    public let config: ProducerConfig
    let cluster: KafkaCluster
    let state = NIOLockedValueBox(ProducerState())
    let logger: Logger
    let wake = WakeSignal()
    private let reports: AsyncStream<[Result<RecordMetadata, KafkaClientError>]>.Continuation
    /// Outcomes of records sent with `sendAsync`, one element per batch the broker answered
    /// (in send order within a partition) — one await per batch, not per record.
    public let deliveryReports: AsyncStream<[Result<RecordMetadata, KafkaClientError>]>

    public init(config: ProducerConfig, logger: Logger = Logger(label: "creek.producer")) {
        self.config = config
        self.logger = logger
        cluster = KafkaCluster(config: config.client)
        (deliveryReports, reports) = AsyncStream.makeStream(bufferingPolicy: .unbounded)
    }

    /// A producer whose sender runs in a task of its own until `close()`.
    public static func start(config: ProducerConfig, logger: Logger = Logger(label: "creek.producer")) async throws -> KafkaProducer {
        let producer = KafkaProducer(config: config, logger: logger)
        try await producer.initialise()
        Task { await producer.run() }
        return producer
    }

    /// Gets a producer id when idempotence is on (InitProducerId); `run()` calls it too.
    func initialise() async throws {
        if config.transactionalId != nil {
            if state.withLockedValue({ $0.transaction.phase == .uninitialised }) { try await initTransactions() }
            return
        }
        guard config.enableIdempotence, state.withLockedValue({ $0.producerId }) < 0 else { return }
        let response = try await requestProducerId(bumping: nil)
        state.withLockedValue {
            $0.producerId = response.producerId
            $0.epoch = response.producerEpoch
        }
    }

    /// InitProducerId for an idempotent (not transactional) producer: a new id, or with
    /// `bumping` (v3+, KIP-360) the next epoch of that id; retried while retriable.
    func requestProducerId(bumping current: (producerId: Int64, epoch: Int16)?) async throws -> InitProducerIdResponse {
        try await cluster.retrying("InitProducerId") {
            let connection = try await cluster.anyConnection()
            let version = try connection.version(of: .initProducerId, supported: 0...5)
            var request = InitProducerIdRequest()
            request.transactionalId = nil
            request.transactionTimeoutMs = 60_000
            if let current, version >= 3 {
                request.producerId = current.producerId
                request.producerEpoch = current.epoch
            }
            let answer = try await connection.send(request, version: version, timeout: config.client.requestTimeout)
            try KafkaClientError.check(answer.errorCode, "InitProducerId")
            return answer
        }
    }

    /// Sends `record` and returns where it was stored, once the broker acknowledged it
    /// (at once with acks=0, offset -1).
    public func send(_ record: ProducerRecord) async throws -> RecordMetadata {
        let (partition, timestamp) = try await prepare(record)
        return try await withCheckedThrowingContinuation { continuation in
            append(record, to: partition, timestamp: timestamp, waiter: Waiter(continuation))
        }
    }

    /// Queues `record` and returns at once; its outcome arrives on `deliveryReports`.
    /// Suspends only while the buffer is full.
    @inlinable
    public func sendAsync(_ record: ProducerRecord) async throws {
        // Inlined into the caller: the common case (partition known, room in the buffer)
        // costs no async call of its own.
        if try appendIfReady(record) { return }
        try await sendAsyncSlowly(record)
    }

    @usableFromInline
    func sendAsyncSlowly(_ record: ProducerRecord) async throws {
        let (partition, timestamp) = try await prepare(record)
        append(record, to: partition, timestamp: timestamp, waiter: nil)
    }

    /// Sends everything queued now and waits until it is acknowledged.
    public func flush() async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let idle = state.withLockedValue { state -> Bool in
                if state.isIdle { return true }
                state.flushing = true
                state.flushWaiters.append(continuation)
                return false
            }
            if idle { continuation.resume() } else { wake.signal() }
        }
    }

    /// Flushes, stops the sender and closes the connections.
    public func close() async {
        await flush()
        state.withLockedValue { $0.closed = true }
        wake.signal()
        reports.finish()
        await cluster.close()
    }

    // MARK: - Appending

    /// The fast path of `sendAsync`, under one lock: when the partition is known (given,
    /// or the topic's partition count is cached) and the buffer has room, reserves and
    /// appends. False when the slow path (metadata, waiting for room) is needed.
    @usableFromInline
    func appendIfReady(_ record: ProducerRecord) throws -> Bool {
        let size = BatchEncoder.estimate(record)
        let timestamp = record.timestamp ?? Self.nowMs()
        let transactional = config.transactionalId != nil
        let (appended, wakeSender) = try state.withLockedValue { state throws -> (Bool, Bool) in
            if state.closed { throw KafkaClientError.closed }
            if transactional && state.transaction.phase != .open { return (false, false) }
            guard state.reservedBytes + size <= config.bufferMemory else { return (false, false) }
            let partition: TopicPartition
            if let given = record.partition {
                partition = TopicPartition(record.topic, given)
            } else if let key = record.key, let count = state.partitionCounts[record.topic], count > 0 {
                partition = TopicPartition(record.topic, Partitioner.partition(forKey: key, count: count))
            } else if record.key == nil, let sticky = state.sticky[record.topic] {
                partition = TopicPartition(record.topic, sticky)
            } else {
                return (false, false)
            }
            state.reservedBytes += size
            return (true, appendLocked(&state, record, to: partition, timestamp: timestamp, size: size, waiter: nil))
        }
        if wakeSender { wake.signal() }
        return appended
    }

    private func prepare(_ record: ProducerRecord) async throws -> (TopicPartition, Int64) {
        if state.withLockedValue({ $0.closed }) { throw KafkaClientError.closed }
        if config.transactionalId != nil, state.withLockedValue({ $0.transaction.phase != .open }) {
            throw KafkaClientError.invalidArgument("a transactional producer sends only inside a transaction (beginTransaction)")
        }
        let partition = try await choosePartition(record)
        let size = BatchEncoder.estimate(record)
        let fits = state.withLockedValue { state -> Bool in
            if state.reservedBytes + size <= config.bufferMemory || state.reservedBytes == 0 {
                state.reservedBytes += size
                return true
            }
            return false
        }
        if !fits {
            await withCheckedContinuation { continuation in
                let resumeNow = state.withLockedValue { state -> Bool in
                    if state.reservedBytes + size <= config.bufferMemory || state.reservedBytes == 0 {
                        state.reservedBytes += size
                        return true
                    }
                    state.spaceWaiters.append((size, continuation))
                    return false
                }
                if resumeNow { continuation.resume() }
            }
        }
        return (partition, record.timestamp ?? Self.nowMs())
    }

    private func choosePartition(_ record: ProducerRecord) async throws -> TopicPartition {
        if let partition = record.partition { return TopicPartition(record.topic, partition) }
        var count = state.withLockedValue { $0.partitionCounts[record.topic] }
        if count == nil {
            let metadata = try await cluster.retrying("metadata of \(record.topic)") { () async throws -> ClusterMetadata in
                let known = try await cluster.metadata(for: [record.topic], force: true)
                if let error = known.topics[record.topic]?.error { throw KafkaClientError.broker(error, message: nil, context: "metadata of \(record.topic)") }
                return known
            }
            count = metadata.topics[record.topic]?.partitionCount
            state.withLockedValue { $0.partitionCounts[record.topic] = count }
        }
        guard let count, count > 0 else { throw KafkaClientError.broker(.unknownTopicOrPartition, message: nil, context: record.topic) }
        if let key = record.key { return TopicPartition(record.topic, Partitioner.partition(forKey: key, count: count)) }
        return state.withLockedValue { state in
            let chosen = state.sticky[record.topic] ?? Int32.random(in: 0..<Int32(count))
            state.sticky[record.topic] = chosen
            return TopicPartition(record.topic, chosen)
        }
    }

    private func append(_ record: ProducerRecord, to partition: TopicPartition, timestamp: Int64, waiter: Waiter?) {
        let size = BatchEncoder.estimate(record)
        let wakeSender = state.withLockedValue { appendLocked(&$0, record, to: partition, timestamp: timestamp, size: size, waiter: waiter) }
        if wakeSender { wake.signal() }
    }

    /// Appends to the partition's open batch (sealing it first when the record would not
    /// fit, and after when it is full). True when the sender should wake: a batch was
    /// sealed, or a new one opened (its linger deadline is new).
    private func appendLocked(
        _ state: inout ProducerState, _ record: ProducerRecord, to partition: TopicPartition, timestamp: Int64, size: Int, waiter: Waiter?
    ) -> Bool {
        // Appended in place (the dictionary's modify accessor: one lookup, the buffer is
        // never copied).
        let added = state.open[partition, default: OpenBatch(encoder: BatchEncoder(capacity: min(config.batchSize, 64 << 10)), createdAt: .now)]
            .add(record, timestamp: timestamp, waiter: waiter, reserved: size, batchSize: config.batchSize)
        if let displaced = added.displaced { seal(&state, partition, displaced) }
        if added.full, let sealed = state.open.removeValue(forKey: partition) { seal(&state, partition, sealed) }
        return added.opened || added.full || added.displaced != nil
    }

    /// Moves an open batch to its partition's queue, assigning its sequence numbers. A
    /// sticky partition moves on once its batch is sealed (KIP-480).
    func seal(_ state: inout ProducerState, _ partition: TopicPartition, _ batch: consuming OpenBatch) {
        var batch = batch
        let sequence = state.sequences[partition] ?? 0
        let idempotent = state.producerId >= 0
        do {
            let bytes = try batch.encoder.seal(
                compression: config.compression, producerId: state.producerId, epoch: idempotent ? state.epoch : -1,
                baseSequence: idempotent ? sequence : -1, transactional: config.transactionalId != nil
            )
            if idempotent { state.sequences[partition] = sequence &+ batch.encoder.count }
            state.queued[partition, default: []].append(SealedBatch(
                partition: partition, bytes: bytes, completions: batch.completions, reserved: batch.reserved, firstAttempt: .now
            ))
        } catch {
            fail(batch.completions, error)
            state.reservedBytes -= batch.reserved
            if state.transaction.failure == nil { state.transaction.failure = error }
        }
        if state.sticky[partition.topic] == partition.partition, let count = state.partitionCounts[partition.topic], count > 1 {
            state.sticky[partition.topic] = Int32.random(in: 0..<Int32(count))
        }
    }

    func fail(_ completions: BatchCompletions, _ error: KafkaClientError) {
        for (_, waiter) in completions.waiting { waiter.continuation.resume(throwing: error) }
        let reported = completions.count - completions.waiting.count
        if reported > 0 { reports.yield(Array(repeating: .failure(error), count: reported)) }
    }

    func succeed(_ completions: BatchCompletions, partition: TopicPartition, baseOffset: Int64, appendTime: Int64) {
        func metadata(_ index: Int) -> RecordMetadata {
            RecordMetadata(
                topic: partition.topic, partition: partition.partition, offset: baseOffset < 0 ? -1 : baseOffset + Int64(index),
                timestamp: appendTime >= 0 ? appendTime : completions.timestamps[index]
            )
        }
        var reported: [Result<RecordMetadata, KafkaClientError>] = []
        reported.reserveCapacity(completions.count - completions.waiting.count)
        var next = 0
        for (index, waiter) in completions.waiting {
            while next < index {
                reported.append(.success(metadata(next)))
                next += 1
            }
            waiter.continuation.resume(returning: metadata(index))
            next = index + 1
        }
        while next < completions.count {
            reported.append(.success(metadata(next)))
            next += 1
        }
        if !reported.isEmpty { reports.yield(reported) }
    }

    func wakeSender() { wake.signal() }

    static func nowMs() -> Int64 { WallClock.nowMs() }
}
