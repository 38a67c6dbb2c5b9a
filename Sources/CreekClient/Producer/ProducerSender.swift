import KafkaProtocol
import Logging
import NIOCore

extension KafkaProducer {
    /// The sender: seals batches whose linger passed, sends every partition's next batch
    /// (one Produce request per broker, at most `maxInFlight` per broker), and handles the
    /// answers. Runs until `close()`; requests run as child tasks, so cancelling it cancels
    /// them.
    public func run() async {
        do {
            try await initialise()
        } catch {
            logger.error("producer could not get a producer id", metadata: ["error": "\(error)"])
        }
        await withDiscardingTaskGroup { group in
            while !Task.isCancelled {
                let (ready, nextDeadline, closed, bump) = collect()
                if bump {
                    await bumpEpoch()
                    continue
                }
                if closed && ready.isEmpty { break }
                if !ready.isEmpty {
                    group.addTask {
                        await self.dispatch(ready)
                        self.state.withLockedValue { $0.roundsInFlight -= 1 }
                        self.wakeSender()
                    }
                }
                if !ready.isEmpty { continue }
                // Nothing to send: wait for a wake-up or the next linger deadline.
                let wait = nextDeadline.map { $0 - MonotonicInstant.now } ?? .seconds(1)
                await wake.wait(timeout: wait)
            }
        }
    }

    /// Sealed batches ready to go (one round), the next linger deadline, whether the
    /// producer is closed.
    private func collect() -> ([SealedBatch], MonotonicInstant?, Bool, bump: Bool) {
        let now = MonotonicInstant.now
        let linger = config.linger
        let idempotent = config.enableIdempotence || config.transactionalId != nil
        let (candidates, deadline, closed, bump) = state.withLockedValue { state -> ([SealedBatch], MonotonicInstant?, Bool, Bool) in
            var deadline: MonotonicInstant?
            var lingered: [TopicPartition] = []
            for (partition, batch) in state.open {
                if state.flushing || state.closed || now - batch.createdAt >= linger {
                    lingered.append(partition)
                } else {
                    let due = batch.createdAt + linger
                    deadline = deadline.map { min($0, due) } ?? due
                }
            }
            // Out of the dictionary first, so sealing in place does not copy the buffer.
            for partition in lingered {
                if let batch = state.open.removeValue(forKey: partition) { seal(&state, partition, batch) }
            }
            var taken: [SealedBatch] = []
            if state.epochBumpNeeded {
                // Bump once nothing is in flight; send nothing until then.
                return (taken, deadline, state.closed, state.inFlight.values.allSatisfy { $0 == 0 })
            }
            if state.roundsInFlight >= config.maxInFlight { return (taken, deadline, state.closed, false) }
            for (partition, queue) in state.queued where !queue.isEmpty {
                let busy = state.inFlight[partition] ?? 0
                if idempotent && busy > 0 { continue }
                var queue = queue
                taken.append(queue.removeFirst())
                state.queued[partition] = queue
                state.inFlight[partition] = busy + 1
            }
            if !taken.isEmpty { state.roundsInFlight += 1 }
            return (taken, deadline, state.closed, false)
        }
        return (candidates, deadline, closed, bump)
    }

    /// Sends one round: `batches` grouped by their partition's leader (looked up in the
    /// cached metadata), added to the open transaction first; handles each answer.
    private func dispatch(_ batches: [SealedBatch]) async {
        var byLeader: [Int32: [SealedBatch]] = [:]
        do {
            try await addToTransaction(Set(batches.map(\.partition)))
        } catch {
            for batch in batches { await retryOrFail(batch, error as? KafkaClientError ?? .connection("\(error)")) }
            return
        }
        for batch in batches {
            do {
                let leader = try await cluster.leader(of: batch.partition.topic, partition: batch.partition.partition)
                byLeader[leader, default: []].append(batch)
            } catch let error as KafkaClientError {
                await retryOrFail(batch, error)
            } catch {
                await retryOrFail(batch, .connection("\(error)"))
            }
        }
        await withDiscardingTaskGroup { group in
            for (leader, batches) in byLeader {
                group.addTask { await self.produce(batches, leader: leader) }
            }
        }
    }

    private func produce(_ batches: [SealedBatch], leader: Int32) async {
        var request = ProduceRequest()
        request.acks = config.acks.rawValue
        request.timeoutMs = Int32(config.client.requestTimeout.components.seconds * 1000)
        // Each batch goes out as an attachment: gathered by the socket write, not copied.
        var topics: [String: [ProduceRequest.PartitionProduceData]] = [:]
        for (token, batch) in batches.enumerated() {
            topics[batch.partition.topic, default: []].append(.init(
                index: batch.partition.partition, records: .external(ExternalRecords(token: token, length: batch.bytes.readableBytes))
            ))
        }
        let attachments = batches.map(\.bytes)
        request.topicData = topics.map { ProduceRequest.TopicProduceData(name: $0.key, partitionData: $0.value) }
        let response: ProduceResponse
        do {
            let connection = try await cluster.connection(to: leader)
            let version = try connection.version(of: .produce, supported: 3...9)
            if config.acks == .none {
                connection.sendWithoutResponse(request, version: version, attachments: attachments)
                for batch in batches { complete(batch, baseOffset: -1, appendTime: -1) }
                return
            }
            response = try await connection.send(request, version: version, timeout: config.client.requestTimeout + .seconds(5), attachments: attachments)
        } catch {
            let failure = error as? KafkaClientError ?? .connection("\(error)")
            for batch in batches { await retryOrFail(batch, failure) }
            return
        }
        var answers: [TopicPartition: ProduceResponse.PartitionProduceResponse] = [:]
        for topic in response.responses {
            for partition in topic.partitionResponses { answers[TopicPartition(topic.name, partition.index)] = partition }
        }
        for batch in batches {
            guard let answer = answers[batch.partition] else {
                await retryOrFail(batch, .malformedResponse("no answer for \(batch.partition)"))
                continue
            }
            let code = KafkaErrorCode(rawValue: answer.errorCode) ?? .unknownServerError
            if answer.errorCode == 0 || code == .duplicateSequenceNumber {
                complete(batch, baseOffset: answer.baseOffset, appendTime: answer.logAppendTimeMs)
            } else {
                await retryOrFail(batch, .broker(code, message: answer.errorMessage, context: "produce to \(batch.partition)"))
            }
        }
    }

    private func complete(_ batch: SealedBatch, baseOffset: Int64, appendTime: Int64) {
        succeed(batch.completions, partition: batch.partition, baseOffset: baseOffset, appendTime: appendTime)
        finish(batch)
    }

    /// Puts a batch that failed with a retriable error back at the head of its partition's
    /// queue (same bytes, same sequence numbers) after a backoff, or fails its records.
    private func retryOrFail(_ batch: SealedBatch, _ error: KafkaClientError) async {
        var batch = batch
        batch.attempts += 1
        let retriable = error.isRetriable && MonotonicInstant.now - batch.firstAttempt < config.client.deliveryTimeout
        guard retriable else {
            logger.warning("records failed", metadata: ["partition": "\(batch.partition)", "error": "\(error)"])
            let transactional = config.transactionalId != nil
            state.withLockedValue { state in
                if state.transaction.phase == .open && state.transaction.failure == nil { state.transaction.failure = error }
                if !transactional && state.producerId >= 0 { state.epochBumpNeeded = true }
            }
            fail(batch.completions, error)
            finish(batch)
            return
        }
        let backoff = min(config.client.retryBackoff * (1 << min(batch.attempts - 1, 10)), config.client.retryBackoffMax)
        try? await Task.sleep(for: backoff)
        try? await cluster.refreshMetadata()
        let requeued = batch
        state.withLockedValue { state in
            state.queued[requeued.partition, default: []].insert(requeued, at: 0)
            state.inFlight[requeued.partition, default: 1] -= 1
        }
        wakeSender()
    }

    /// Releases a finished batch's buffer space (and its in-flight slot, when it was sent).
    func finish(_ batch: SealedBatch, wasInFlight: Bool = true) {
        let limit = config.bufferMemory
        let (resumed, idle) = state.withLockedValue { state in
            if wasInFlight { state.inFlight[batch.partition, default: 1] -= 1 }
            return (state.release(batch.reserved, limit: limit), state.idleWaiters())
        }
        for waiter in resumed { waiter.resume() }
        for waiter in idle { waiter.resume() }
    }
}

extension KafkaProducer {
    /// KIP-360: a new epoch for the same producer id (InitProducerId v3+; a new id from
    /// older brokers), sequence numbers from 0 again, and the batches waiting to be sent
    /// restamped in order. Retried with backoff until it succeeds or the producer closes.
    func bumpEpoch() async {
        let (producerId, epoch) = state.withLockedValue { ($0.producerId, $0.epoch) }
        do {
            let response = try await requestProducerId(bumping: (producerId, epoch))
            state.withLockedValue { state in
                state.producerId = response.producerId
                state.epoch = response.producerEpoch
                state.sequences.removeAll()
                for (partition, queue) in state.queued {
                    var sequence: Int32 = 0
                    state.queued[partition] = queue.map { batch in
                        var batch = batch
                        sequence &+= BatchEncoder.restamp(&batch.bytes, producerId: response.producerId, epoch: response.producerEpoch, baseSequence: sequence)
                        return batch
                    }
                    state.sequences[partition] = sequence
                }
                state.epochBumpNeeded = false
            }
            logger.info("producer epoch bumped", metadata: ["producerId": "\(response.producerId)", "epoch": "\(response.producerEpoch)"])
        } catch {
            let failure = error as? KafkaClientError ?? .connection("\(error)")
            // Closed (or the cluster gone for good): the waiting batches fail instead.
            let abandoned = state.withLockedValue { state -> [SealedBatch] in
                guard state.closed || !failure.isRetriable else { return [] }
                state.epochBumpNeeded = false
                defer { state.queued.removeAll() }
                return state.queued.values.flatMap { $0 }
            }
            for batch in abandoned {
                fail(batch.completions, failure)
                finish(batch, wasInFlight: false)
            }
            if abandoned.isEmpty {
                logger.warning("epoch bump failed; retrying", metadata: ["error": "\(error)"])
                try? await Task.sleep(for: config.client.retryBackoff)
            }
        }
    }
}
