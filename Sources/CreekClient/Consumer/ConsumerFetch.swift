import KafkaCompression
import KafkaProtocol
import NIOCore

/// What one partition's Fetch answer brought: its batches (then, once decoded, the
/// records from `requested` on), the next offset to read after them, or that its position
/// must be reset (out of range).
struct PartitionFetch: Sendable {
    var partition: TopicPartition
    var requested: Int64
    var next: Int64
    var records: [ConsumerRecord] = []
    var resetPosition = false
    var batches: [RecordBatch] = []
}

/// A round fetched ahead: the answer (batches only) and its decoding. The next round
/// waits only for the answer, so its Fetch is on the wire while this one is decoded.
struct PrefetchedRound: Sendable {
    let answered: Task<[PartitionFetch], any Error>
    let decoded: Task<[PartitionFetch], any Error>
}

extension KafkaConsumer {
    /// Rounds fetched ahead of the caller: the second starts as soon as the first's answer
    /// arrives (from where it ended), so a Fetch is on the wire while the first is decoded.
    static let prefetchDepth = 2

    /// One round, delivered: the records fetched for the assigned, unpaused partitions
    /// (by the oldest round prefetched, or now); then rounds are queued again up to
    /// `prefetchDepth`. Positions move only here, at delivery, and only for partitions
    /// nobody moved, paused or unassigned meanwhile — so `position` and commits never count
    /// a record the caller has not received. When a round finds a partition moved, the
    /// rounds queued after it (fetched from stale positions) are dropped.
    func fetchRound() async throws -> [ConsumerRecord] {
        try await resolvePositions()
        let pending = prefetch.withLockedValue { queue in queue.isEmpty ? nil : queue.removeFirst() }
        let fetched: [PartitionFetch]
        if let pending {
            fetched = try await pending.decoded.value
        } else {
            fetched = try decode(try await fetch(from: wanted()))
        }
        let (records, stale) = deliver(fetched)
        if stale {
            let dropped = prefetch.withLockedValue { queue in
                defer { queue.removeAll() }
                return queue
            }
            for round in dropped {
                round.answered.cancel()
                round.decoded.cancel()
            }
        }
        refillPrefetch()
        return records
    }

    /// Queues rounds up to `prefetchDepth`, each continuing from where the one before it
    /// ended (or from the positions, when none is queued).
    private func refillPrefetch() {
        let start = wanted()
        guard !start.isEmpty else { return }
        prefetch.withLockedValue { queue in
            while queue.count < Self.prefetchDepth {
                let answered: Task<[PartitionFetch], any Error>
                if let previous = queue.last?.answered {
                    answered = Task {
                        let before = try await previous.value
                        var continued = Dictionary(start, uniquingKeysWith: { first, _ in first })
                        for part in before where !part.resetPosition { continued[part.partition] = part.next }
                        return try await self.fetch(from: continued.map { ($0.key, $0.value) })
                    }
                } else {
                    answered = Task { try await self.fetch(from: start) }
                }
                queue.append(PrefetchedRound(answered: answered, decoded: Task { try self.decode(try await answered.value) }))
            }
        }
    }

    /// Assigned, unpaused partitions with a known position.
    private func wanted() -> [(TopicPartition, Int64)] {
        let paused = self.paused.withLockedValue { $0 }
        return positions.withLockedValue { $0.compactMap { partition, offset in offset.map { (partition, $0) } } }
            .filter { !paused.contains($0.0) }
    }

    /// The records of partitions still at the position the round fetched from (advancing
    /// them); `stale` when some partition had moved, was paused or is no longer assigned.
    private func deliver(_ fetched: [PartitionFetch]) -> (records: [ConsumerRecord], stale: Bool) {
        let paused = self.paused.withLockedValue { $0 }
        return positions.withLockedValue { positions in
            var records: [ConsumerRecord] = []
            var stale = false
            for part in fetched {
                guard positions[part.partition] == .some(part.requested) && !paused.contains(part.partition) else {
                    stale = true
                    continue
                }
                if part.resetPosition {
                    positions[part.partition] = .some(nil)
                    stale = true
                    continue
                }
                if records.isEmpty { records = part.records } else { records += part.records }
                positions[part.partition] = part.next
            }
            return (records, stale)
        }
    }

    /// A Fetch to each leader of `partitions`, in parallel.
    func fetch(from partitions: [(TopicPartition, Int64)]) async throws -> [PartitionFetch] {
        if partitions.isEmpty {
            try await Task.sleep(for: .milliseconds(50))
            return []
        }
        var byLeader: [Int32: [(TopicPartition, Int64)]] = [:]
        for (partition, offset) in partitions {
            do {
                byLeader[try await cluster.leader(of: partition.topic, partition: partition.partition), default: []].append((partition, offset))
            } catch let error as KafkaClientError where error.isRetriable {
                logger.debug("no leader yet", metadata: ["partition": "\(partition)", "error": "\(error)"])
            }
        }
        return try await withThrowingTaskGroup(of: [PartitionFetch].self) { group in
            for (leader, partitions) in byLeader {
                group.addTask { try await self.fetch(partitions, from: leader) }
            }
            var all: [PartitionFetch] = []
            for try await fetched in group { all += fetched }
            return all
        }
    }

    private func fetch(_ partitions: [(TopicPartition, Int64)], from leader: Int32) async throws -> [PartitionFetch] {
        let response: FetchResponse
        do {
            let connection = try await cluster.connection(to: leader)
            let version = try connection.version(of: .fetch, supported: 4...12)
            var request = FetchRequest()
            request.replicaId = -1
            request.maxWaitMs = Int32(config.fetchMaxWait.components.seconds * 1000 + config.fetchMaxWait.components.attoseconds / 1_000_000_000_000_000)
            request.minBytes = config.fetchMinBytes
            request.maxBytes = config.fetchMaxBytes
            request.isolationLevel = config.isolationLevel.rawValue
            request.sessionEpoch = -1
            let topics = Dictionary(grouping: partitions, by: \.0.topic)
            request.topics = topics.map { topic, parts in
                .init(topic: topic, topicId: .zero, partitions: parts.map {
                    .init(partition: $0.0.partition, currentLeaderEpoch: -1, fetchOffset: $0.1, lastFetchedEpoch: -1, logStartOffset: -1,
                          partitionMaxBytes: config.maxPartitionFetchBytes, replicaDirectoryId: .zero)
                })
            }
            response = try await connection.send(request, version: version, timeout: config.client.requestTimeout + config.fetchMaxWait)
        } catch let error as KafkaClientError where error.isRetriable {
            logger.debug("fetch failed; retrying", metadata: ["leader": "\(leader)", "error": "\(error)"])
            try await Task.sleep(for: config.client.retryBackoff)
            try? await cluster.refreshMetadata()
            return []
        }
        var fetched: [PartitionFetch] = []
        for topic in response.responses {
            for data in topic.partitions {
                let partition = TopicPartition(topic.topic, data.partitionIndex)
                guard let requested = partitions.first(where: { $0.0 == partition })?.1 else { continue }
                if data.errorCode != 0 {
                    let reset = try await handle(KafkaErrorCode(rawValue: data.errorCode) ?? .unknownServerError, for: partition)
                    if reset { fetched.append(PartitionFetch(partition: partition, requested: requested, next: requested, records: [], resetPosition: true)) }
                    continue
                }
                let end = config.isolationLevel == .readCommitted && data.lastStableOffset >= 0 ? data.lastStableOffset : data.highWatermark
                endOffsets.withLockedValue { $0[partition] = end }
                fetched.append(scan(data, partition: partition, from: requested))
            }
        }
        return fetched
    }

    /// A partition's error: true when its position must be reset (out of range with a
    /// reset policy); retriable ones refresh metadata; others throw.
    private func handle(_ code: KafkaErrorCode, for partition: TopicPartition) async throws -> Bool {
        switch code {
        case .offsetOutOfRange:
            guard config.autoOffsetReset != .none else {
                throw KafkaClientError.broker(code, message: nil, context: "fetch \(partition)")
            }
            return true
        case _ where code.isRetriable:
            try? await cluster.refreshMetadata()
            return false
        default:
            throw KafkaClientError.broker(code, message: nil, context: "fetch \(partition)")
        }
    }

    /// One partition's answer, walked batch header by batch header (cheap): its batches
    /// (read_committed: without aborted data) and the next offset to read.
    private func scan(_ data: FetchResponse.PartitionData, partition: TopicPartition, from offset: Int64) -> PartitionFetch {
        var part = PartitionFetch(partition: partition, requested: offset, next: offset)
        guard var bytes = data.records?.buffer else { return part }
        // A partial last batch (cut by the size limit) ends the list.
        while let batch = try? RecordBatch.next(from: &bytes) { part.batches.append(batch) }
        if let last = part.batches.last { part.next = max(offset, last.lastOffset + 1) }
        if config.isolationLevel == .readCommitted {
            let aborted = (data.abortedTransactions ?? []).map { ReadCommittedFilter.Aborted(producerId: $0.producerId, firstOffset: $0.firstOffset) }
            part.batches = ReadCommittedFilter.committed(part.batches, aborted: aborted)
        }
        return part
    }

    /// The records of each partition's batches at or after the offset it asked for.
    func decode(_ round: [PartitionFetch]) throws -> [PartitionFetch] {
        try round.map { part in
            var part = part
            let (topic, index, requested) = (part.partition.topic, part.partition.partition, part.requested)
            for batch in part.batches where !batch.isControl && batch.lastOffset >= requested {
                let appendTime = batch.timestampType == .logAppendTime ? batch.maxTimestamp : nil
                do {
                    try batch.forEachDecodedRecord { record in
                        guard record.offset >= requested else { return }
                        part.records.append(ConsumerRecord(
                            topic: topic, partition: index, offset: record.offset, timestamp: appendTime ?? record.timestamp,
                            keyBuffer: record.key, valueBuffer: record.value,
                            headers: record.headers.isEmpty ? [] : record.headers.map { RecordHeaderValue($0.key, $0.value.map { Array($0.readableBytesView) }) }
                        ))
                    }
                } catch {
                    throw KafkaClientError.compression("\(part.partition) at \(batch.baseOffset): \(error)")
                }
            }
            part.batches = []
            return part
        }
    }
}
