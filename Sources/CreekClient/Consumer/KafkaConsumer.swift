import KafkaCompression
import KafkaProtocol
public import Logging
import NIOConcurrencyHelpers
import NIOCore

/// A consumer of assigned partitions: `assign`, `seek`, then iterate `batches()` — each
/// element is every record one round of Fetch requests returned (one request per leader,
/// in parallel), not one await per record. At most two rounds are fetched ahead of the
/// loop, so a slow loop pauses fetching (back-pressure) and memory stays bounded by three
/// rounds; positions (and commits) count only records the loop received. Compressed
/// batches, batches thinned by compaction and read_committed (aborted transactions
/// dropped) are handled. Thread-safe.
public final class KafkaConsumer: Sendable {
    public let config: ConsumerConfig
    let cluster: KafkaCluster
    let logger: Logger
    /// Each assigned partition's next offset (nil until resolved from `autoOffsetReset`).
    let positions = NIOLockedValueBox<[TopicPartition: Int64?]>([:])
    let paused = NIOLockedValueBox<Set<TopicPartition>>([])
    /// The end each partition's last Fetch reported (high watermark, or the last stable
    /// offset with read_committed).
    let endOffsets = NIOLockedValueBox<[TopicPartition: Int64]>([:])
    /// Rounds fetched ahead while the caller processes the last one (oldest first).
    let prefetch = NIOLockedValueBox<[PrefetchedRound]>([])
    /// Seeks by time or to an end, resolved on the next fetch round.
    let pendingSeeks = NIOLockedValueBox<[TopicPartition: SeekTarget]>([:])

    public init(config: ConsumerConfig, logger: Logger = Logger(label: "creek.consumer")) {
        self.config = config
        self.logger = logger
        cluster = KafkaCluster(config: config.client)
    }

    /// Reads exactly these partitions from now on (replacing any earlier assignment).
    public func assign(_ partitions: [TopicPartition]) {
        positions.withLockedValue { positions in
            let kept = positions
            positions = [:]
            // `updateValue`, not subscript assignment: assigning nil would remove the key.
            for partition in partitions { positions.updateValue(kept[partition] ?? nil, forKey: partition) }
        }
    }

    public var assignment: [TopicPartition] { positions.withLockedValue { Array($0.keys) } }

    public func seek(_ partition: TopicPartition, to target: SeekTarget) {
        if case .offset(let offset) = target {
            positions.withLockedValue { $0[partition] = offset }
            pendingSeeks.withLockedValue { $0[partition] = nil }
        } else {
            pendingSeeks.withLockedValue { $0[partition] = target }
        }
    }

    /// The next offset to read, once known.
    public func position(_ partition: TopicPartition) -> Int64? {
        positions.withLockedValue { $0[partition] ?? nil }
    }

    /// Records between the position and the end the last Fetch reported (nil before both
    /// are known) — what Kafka calls the consumer's lag.
    public func lag(_ partition: TopicPartition) -> Int64? {
        guard let position = position(partition), let end = endOffsets.withLockedValue({ $0[partition] }) else { return nil }
        return max(0, end - position)
    }

    public func pause(_ partitions: [TopicPartition]) { paused.withLockedValue { $0.formUnion(partitions) } }
    public func resume(_ partitions: [TopicPartition]) { paused.withLockedValue { $0.subtract(partitions) } }

    /// Batches of records as they are fetched. Ends when the task is cancelled; throws on
    /// an error that retries cannot fix (e.g. an offset out of range with reset `none`).
    public func batches() -> RecordBatches { RecordBatches(poll: poll) }

    /// One fetch round: the records it returned, possibly none (after `fetchMaxWait`).
    public func poll() async throws -> [ConsumerRecord] {
        try await fetchRound()
    }

    /// Stops fetching (waiting for a prefetch in flight, at most `fetchMaxWait`) and
    /// closes the connections.
    public func close() async {
        let pending = prefetch.withLockedValue { queue in
            defer { queue.removeAll() }
            return queue
        }
        for round in pending {
            round.answered.cancel()
            round.decoded.cancel()
        }
        for round in pending { _ = await round.decoded.result }
        await cluster.close()
    }

    // MARK: - Offsets

    /// ListOffsets for `partitions` at `timestamp` (-1 latest, -2 earliest, else a time).
    public func offsets(_ partitions: [TopicPartition], at timestamp: Int64) async throws -> [TopicPartition: Int64] {
        try await cluster.listOffsets(partitions, at: timestamp, isolationLevel: config.isolationLevel.rawValue)
    }

    /// Positions still unknown or pending a seek by time/end are looked up (ListOffsets).
    func resolvePositions() async throws {
        let seeks = pendingSeeks.withLockedValue { seeks in
            defer { seeks.removeAll() }
            return seeks
        }
        let unknown = positions.withLockedValue { $0.filter { $0.value == nil }.map(\.key) }
        var wanted: [Int64: [TopicPartition]] = [:]
        for (partition, target) in seeks {
            switch target {
            case .beginning: wanted[-2, default: []].append(partition)
            case .end: wanted[-1, default: []].append(partition)
            case .timestamp(let time): wanted[time, default: []].append(partition)
            case .offset(let offset): positions.withLockedValue { $0[partition] = offset }
            }
        }
        for partition in unknown where seeks[partition] == nil {
            switch config.autoOffsetReset {
            case .earliest: wanted[-2, default: []].append(partition)
            case .latest: wanted[-1, default: []].append(partition)
            case .none: throw KafkaClientError.invalidArgument("no position for \(partition) and autoOffsetReset is none")
            }
        }
        for (timestamp, partitions) in wanted {
            var found = try await offsets(partitions, at: timestamp)
            if timestamp >= 0 {
                // No record at or after the time: the end (as the Java client's offsetsForTimes + seek).
                let missing = partitions.filter { (found[$0] ?? -1) < 0 }
                if !missing.isEmpty { found.merge(try await offsets(missing, at: -1)) { $1 } }
            }
            positions.withLockedValue { positions in
                for (partition, offset) in found where positions.keys.contains(partition) { positions[partition] = offset }
            }
        }
    }
}

/// The records of a consumer or group member as an `AsyncSequence` of batches: each
/// element is one non-empty round of `poll`; the sequence ends when the task is cancelled.
public struct RecordBatches: AsyncSequence, Sendable {
    public typealias Element = [ConsumerRecord]
    let poll: @Sendable () async throws -> [ConsumerRecord]

    public struct AsyncIterator: AsyncIteratorProtocol {
        let poll: @Sendable () async throws -> [ConsumerRecord]

        public mutating func next() async throws -> [ConsumerRecord]? {
            while !Task.isCancelled {
                let records = try await poll()
                if !records.isEmpty { return records }
            }
            return nil
        }
    }

    public func makeAsyncIterator() -> AsyncIterator { AsyncIterator(poll: poll) }
}

extension KafkaConsumer {
    /// How many partitions `topic` has (from fresh metadata).
    public func partitionCount(of topic: String) async throws -> Int {
        let metadata = try await cluster.retrying("metadata of \(topic)") { () async throws -> ClusterMetadata in
            let known = try await cluster.metadata(for: [topic], force: true)
            if let error = known.topics[topic]?.error { throw KafkaClientError.broker(error, message: nil, context: "metadata of \(topic)") }
            return known
        }
        return metadata.topics[topic]?.partitionCount ?? 0
    }
}
