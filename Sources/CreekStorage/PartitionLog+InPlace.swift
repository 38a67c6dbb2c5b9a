public import KafkaProtocol

/// Synchronous access to a partition from a thread that is not a task — an event loop
/// appending a Produce or serving a Fetch where the bytes arrived, with no hop to another
/// thread. Each call holds the partition's executor mutex (see `StorageExecutor`) for the
/// duration of one append or read, so it is serialised with the actor's own jobs exactly as
/// another job would be. Only page-cache I/O happens under it; fsync never does.
extension PartitionLog {
    /// Runs `body` isolated to this partition on the calling thread.
    nonisolated func inPlace<T: Sendable>(_ body: @Sendable (isolated PartitionLog) throws(StorageError) -> T) throws(StorageError) -> T {
        let result = executor.runLocked {
            self.assumeIsolated { log in Result { () throws(StorageError) -> T in try body(log) } }
        }
        return try result.get()
    }

    /// `append(_:nowMs:sync:)` without the fsync, on the calling thread; pair it with
    /// `whenDurable(upTo:_:)` when the policy needs one.
    public nonisolated func appendInPlace(_ batches: [RecordBatch], nowMs: Int64) throws(StorageError) -> AppendResult {
        try inPlace { log throws(StorageError) in try log.appendNow(batches, nowMs: nowMs) }
    }

    /// `read(from:maxBytes:minOneBatch:)` on the calling thread.
    public nonisolated func readInPlace(
        from offset: Int64, maxBytes: Int, minOneBatch: Bool, committedOnly: Bool = false
    ) throws(StorageError) -> ReadResult {
        try inPlace { log throws(StorageError) in
            try log.read(from: offset, maxBytes: maxBytes, minOneBatch: minOneBatch, committedOnly: committedOnly)
        }
    }

    /// The log start offset and high watermark, read on the calling thread.
    public nonisolated var boundsInPlace: (logStart: Int64, highWatermark: Int64) {
        (try? inPlace { log in (log.logStartOffset, log.highWatermark) }) ?? (-1, -1)
    }

    /// The log start, last stable and high-watermark offsets, read on the calling thread.
    public nonisolated var offsetsInPlace: (logStart: Int64, lastStable: Int64, highWatermark: Int64) {
        (try? inPlace { log in (log.logStartOffset, log.lastStableOffset, log.highWatermark) }) ?? (-1, -1, -1)
    }

    /// Calls `done` once every record below `offset` is on stable storage — at once when it
    /// already is, else from the group-commit thread after the fsync that covers it. The
    /// callback form of `makeDurable(upTo:)`, with the same rules: a failed fsync takes the
    /// log offline and every waiter gets the error.
    public nonisolated func whenDurable(upTo offset: Int64, _ done: @escaping @Sendable (StorageError?) -> Void) {
        enum Step: Sendable {
            case ready(StorageError?)
            case wait(LogFile, end: Int64)
        }
        let step = (try? inPlace { log -> Step in
            if let failure = log.failure { return .ready(failure) }
            guard log.flushedOffset < offset, let active = log.segments.last else { return .ready(nil) }
            return .wait(active.log, end: log.logEndOffset)
        }) ?? .ready(.closed)
        switch step {
        case .ready(let error):
            done(error)
        case .wait(let file, let end):
            groupCommit.sync(file) { error in
                // The body never throws; its result is the error to report, or nil.
                let outcome = Result { () throws(StorageError) -> StorageError? in
                    try self.inPlace { log -> StorageError? in
                        if let error {
                            return log.takeOffline(error as? StorageError ?? .system(call: "fdatasync", path: file.path, errno: 5))
                        }
                        if let failure = log.failure { return failure }
                        log.flushedOffset = max(log.flushedOffset, end)
                        return nil
                    }
                }
                switch outcome {
                case .success(let error): done(error)
                case .failure(let error): done(error)
                }
            }
        }
    }
}
