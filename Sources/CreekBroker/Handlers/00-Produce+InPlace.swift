import CreekStorage
import KafkaProtocol
import NIOConcurrencyHelpers

extension ProduceHandler {
    /// Appends every validated partition on the calling thread (the connection's event
    /// loop: the bytes are appended where they arrived, with no task or thread hop), then
    /// calls `finish` — at once when no fsync is needed, else from the group-commit thread
    /// once every partition that needs one is durable. The partitions' fsyncs run in
    /// parallel, so a request to many partitions waits for one round, not one per partition.
    func appendInPlace(_ request: ValidatedRequest, finish: @escaping @Sendable (Completion) -> Void) {
        var results: [Appended] = []
        results.reserveCapacity(request.partitions.count)
        let nowMs = broker.clock()
        for partition in request.partitions {
            guard partition.failure == nil, let target = partition.target as? PartitionLog else {
                results.append(appended(partition, sync: request.sync, .failure(.closed)))
                continue
            }
            do {
                let result = try target.appendInPlace(partition.batches, nowMs: nowMs)
                results.append(appended(partition, sync: request.sync, .success(result)))
            } catch {
                results.append(appended(partition, sync: request.sync, .failure(error)))
            }
        }
        let pending = results.indices.filter { results[$0].durableAfter != nil }
        let acks = request.acks
        let throttleMs = request.throttleMs
        guard !pending.isEmpty else {
            finish(Self.completion(results, acks: acks, throttleMs: throttleMs))
            return
        }
        let logger = broker.logger
        let state = NIOLockedValueBox((remaining: pending.count, results: results))
        for index in pending {
            guard let (storage, offset) = results[index].durableAfter, let partition = storage as? PartitionLog else { continue }
            partition.whenDurable(upTo: offset) { error in
                let done = state.withLockedValue { state -> [Appended]? in
                    if let error {
                        let name = "\(partition.topic)-\(partition.partition)"
                        Self.logStorageFailure(error, partition: name, logger: logger)
                        state.results[index].response = PartitionResponse(
                            index: partition.partition, errorCode: KafkaErrorCode(storage: error).rawValue, baseOffset: -1,
                            errorMessage: "\(error)"
                        )
                    }
                    state.remaining -= 1
                    return state.remaining == 0 ? state.results : nil
                }
                if let done { finish(Self.completion(done, acks: acks, throttleMs: throttleMs)) }
            }
        }
    }
}
