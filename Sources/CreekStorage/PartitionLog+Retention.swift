extension PartitionLog {
    /// Deletes whole segments whose newest record is older than `retention.ms`, then the
    /// oldest while the log exceeds `retention.bytes`, and those wholly below the log start
    /// offset; advances the log start offset. As in Kafka, when every segment — the active
    /// one included — has expired, an empty segment is rolled first so a quiet topic empties.
    /// Returns how many segments were deleted.
    @discardableResult
    public func applyRetention(nowMs: Int64) throws(StorageError) -> Int {
        if let failure { throw failure }
        _ = producers.expire(idleBefore: nowMs - config.producerIdExpirationMs)
        if config.cleanupPolicy.contains(.delete), let active = segments.last, !active.isEmpty, segments.allSatisfy({ isDeletable($0, nowMs: nowMs) }) {
            try guarded { () throws(StorageError) in try roll(nowMs: nowMs) }
        }
        var deleted = 0
        while segments.count > 1, let oldest = segments.first, isDeletable(oldest, nowMs: nowMs) {
            try oldest.delete()
            segments.removeFirst()
            deleted += 1
        }
        if deleted > 0 { try files.syncDirectory(directory) }
        if let first = segments.first, first.baseOffset > logStartOffset {
            logStartOffset = first.baseOffset
        }
        return deleted
    }

    private func isDeletable(_ segment: LogSegment, nowMs: Int64) -> Bool {
        let belowStart = segment.nextOffset <= logStartOffset && !segment.isEmpty
        // Compacted-only topics keep every segment; the cleaner thins them instead.
        guard config.cleanupPolicy.contains(.delete) else { return belowStart }
        // An empty closed segment (the cleaner emptied it) holds nothing to keep.
        let hollow = segment.isEmpty && segment !== segments.last
        let expired = hollow || (config.retentionMs >= 0 && !segment.isEmpty && nowMs - segment.maxTimestamp > config.retentionMs)
        let oversized = config.retentionBytes >= 0 && Int64(sizeInBytes - segment.size) >= config.retentionBytes
        return expired || oversized || belowStart
    }

    /// Advances the log start offset (DeleteRecords). `offset` -1 means the high watermark.
    public func deleteRecords(before offset: Int64) throws(StorageError) -> Int64 {
        if let failure { throw failure }
        let target = offset == -1 ? highWatermark : offset
        guard target >= 0, target <= highWatermark else {
            throw .offsetOutOfRange(requested: offset, logStart: logStartOffset, logEnd: highWatermark)
        }
        // Persisted even when retention already moved the start there: that move is not
        // durable until its segment deletions are, and an acknowledged DeleteRecords must be.
        let acknowledged = max(target, logStartOffset)
        if acknowledged > persistedLogStart {
            try files.writeAtomically(Array(String(acknowledged).utf8), to: directory + "/" + Self.logStartFile)
            persistedLogStart = acknowledged
        }
        if target > logStartOffset {
            logStartOffset = target
            var deleted = 0
            while segments.count > 1, let oldest = segments.first, oldest.nextOffset <= logStartOffset {
                    try oldest.delete()
                segments.removeFirst()
                deleted += 1
            }
            if deleted > 0 { try files.syncDirectory(directory) }
        }
        return logStartOffset
    }

    /// Flushes every segment and its indexes for a clean shutdown. Throws when the log is
    /// offline: a clean-shutdown marker must not vouch for it.
    public func close() throws(StorageError) {
        wakeWaiters()
        if let failure { throw failure }
        do {
            for segment in segments { try segment.syncAll() }
        } catch {
            throw takeOffline(error)
        }
    }

    /// Takes the partition out of service for deletion (DeleteTopics): parked fetches are
    /// woken, and the directory is renamed to `<name>.<tag>-delete` (durably) so neither a
    /// re-created topic of the same name nor a restart ever opens it again. Returns the
    /// new path, which the caller removes in the background.
    func retireDirectory(tag: String) throws(StorageError) -> String {
        wakeWaiters()
        segments.removeAll()
        failure = .deleted(partition: "\(topic)-\(partition)")
        let target = directory + "." + tag + Self.deletedSuffix
        try files.rename(directory, to: target)
        try files.syncDirectory(PosixFileOperations.parent(of: directory))
        return target
    }

    /// Directories with this suffix are deleted partitions, removed at startup if a crash
    /// interrupted their removal.
    public static let deletedSuffix = "-delete"
    /// Directories with this suffix belonged to no topic of the catalog at startup; they are
    /// kept for an operator to inspect, never opened (Kafka's stray logs).
    public static let straySuffix = "-stray"
}
