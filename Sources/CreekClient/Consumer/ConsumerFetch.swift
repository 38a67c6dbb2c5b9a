import KafkaCompression
import KafkaProtocol
import NIOCore

extension KafkaConsumer {
    /// One round: a Fetch to each leader of the assigned, unpaused partitions, in parallel;
    /// returns their records in order per partition and advances the positions.
    func fetchRound() async throws -> [ConsumerRecord] {
        try await resolvePositions()
        let paused = self.paused.withLockedValue { $0 }
        let wanted = positions.withLockedValue { $0.compactMap { partition, offset in offset.map { (partition, $0) } } }
            .filter { !paused.contains($0.0) }
        if wanted.isEmpty {
            try await Task.sleep(for: .milliseconds(50))
            return []
        }
        var byLeader: [Int32: [(TopicPartition, Int64)]] = [:]
        for (partition, offset) in wanted {
            do {
                byLeader[try await cluster.leader(of: partition.topic, partition: partition.partition), default: []].append((partition, offset))
            } catch let error as KafkaClientError where error.isRetriable {
                logger.debug("no leader yet", metadata: ["partition": "\(partition)", "error": "\(error)"])
            }
        }
        return try await withThrowingTaskGroup(of: [ConsumerRecord].self) { group in
            for (leader, partitions) in byLeader {
                group.addTask { try await self.fetch(partitions, from: leader) }
            }
            var all: [ConsumerRecord] = []
            for try await records in group { all += records }
            return all
        }
    }

    private func fetch(_ partitions: [(TopicPartition, Int64)], from leader: Int32) async throws -> [ConsumerRecord] {
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
        var records: [ConsumerRecord] = []
        for topic in response.responses {
            for data in topic.partitions {
                let partition = TopicPartition(topic.topic, data.partitionIndex)
                guard let requested = partitions.first(where: { $0.0 == partition })?.1 else { continue }
                if data.errorCode != 0 {
                    try await handle(KafkaErrorCode(rawValue: data.errorCode) ?? .unknownServerError, for: partition)
                    continue
                }
                let end = config.isolationLevel == .readCommitted && data.lastStableOffset >= 0 ? data.lastStableOffset : data.highWatermark
                endOffsets.withLockedValue { $0[partition] = end }
                let (found, next) = try decode(data, partition: partition, from: requested)
                records += found
                if next > requested {
                    positions.withLockedValue { positions in
                        // Only when nobody moved the position meanwhile (a seek wins).
                        if positions[partition] == .some(requested) { positions[partition] = next }
                    }
                }
            }
        }
        return records
    }

    private func handle(_ code: KafkaErrorCode, for partition: TopicPartition) async throws {
        switch code {
        case .offsetOutOfRange:
            guard config.autoOffsetReset != .none else {
                throw KafkaClientError.broker(code, message: nil, context: "fetch \(partition)")
            }
            positions.withLockedValue { if $0.keys.contains(partition) { $0[partition] = .some(nil) } }
        case _ where code.isRetriable:
            try? await cluster.refreshMetadata()
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
                    key: record.key.map { Array($0.readableBytesView) }, value: record.value.map { Array($0.readableBytesView) },
                    headers: record.headers.map { RecordHeaderValue($0.key, $0.value.map { Array($0.readableBytesView) }) }
                ))
            }
        }
        return (records, next)
    }
}
