import KafkaCompression
import KafkaProtocol
import NIOCore

/// What one partition's Fetch answer brought: the records from `requested` on, the next
/// offset to read after them, or that its position must be reset (out of range).
struct PartitionFetch: Sendable {
    var partition: TopicPartition
    var requested: Int64
    var next: Int64
    var records: [ConsumerRecord]
    var resetPosition = false
}

extension KafkaConsumer {
    /// Rounds fetched ahead of the caller: the second starts as soon as the first's answer
    /// is decoded (from where it ended), so a Fetch is always on the wire.
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
            fetched = try await pending.value
        } else {
            fetched = try await fetch(from: wanted())
        }
        let (records, stale) = deliver(fetched)
        if stale {
            let dropped = prefetch.withLockedValue { queue in
                defer { queue.removeAll() }
                return queue
            }
            for task in dropped { task.cancel() }
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
                if let previous = queue.last {
                    queue.append(Task {
                        let before = try await previous.value
                        var continued = Dictionary(start, uniquingKeysWith: { first, _ in first })
                        for part in before where !part.resetPosition { continued[part.partition] = part.next }
                        return try await self.fetch(from: continued.map { ($0.key, $0.value) })
                    })
                } else {
                    queue.append(Task { try await self.fetch(from: start) })
                }
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
                records += part.records
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
                let (records, next) = try decode(data, partition: partition, from: requested)
                fetched.append(PartitionFetch(partition: partition, requested: requested, next: next, records: records))
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

    /// The records of one partition's answer at or after `offset`, and the next position.
    private func decode(_ data: FetchResponse.PartitionData, partition: TopicPartition, from offset: Int64) throws -> ([ConsumerRecord], Int64) {
        guard var bytes = data.records?.buffer else { return ([], offset) }
        var batches: [RecordBatch] = []
        // A partial last batch (cut by the size limit) ends the list.
        while let batch = try? RecordBatch.next(from: &bytes) { batches.append(batch) }
        var next = offset
        var kept = batches
        if config.isolationLevel == .readCommitted {
            let aborted = (data.abortedTransactions ?? []).map { ReadCommittedFilter.Aborted(producerId: $0.producerId, firstOffset: $0.firstOffset) }
            kept = ReadCommittedFilter.committed(batches, aborted: aborted)
        }
        if let last = batches.last { next = max(next, last.lastOffset + 1) }
        var records: [ConsumerRecord] = []
        for batch in kept where !batch.isControl && batch.lastOffset >= offset {
            let decoded: [Record]
            do {
                decoded = try batch.decodedRecords()
            } catch {
                throw KafkaClientError.compression("\(partition) at \(batch.baseOffset): \(error)")
            }
            for record in decoded where record.offset >= offset {
                records.append(ConsumerRecord(
                    topic: partition.topic, partition: partition.partition, offset: record.offset,
                    timestamp: batch.timestampType == .logAppendTime ? batch.maxTimestamp : record.timestamp,
                    keyBuffer: record.key, valueBuffer: record.value,
                    headers: record.headers.map { RecordHeaderValue($0.key, $0.value.map { Array($0.readableBytesView) }) }
                ))
            }
        }
        return (records, next)
    }
}
