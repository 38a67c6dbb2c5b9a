extension PartitionLog {
    static func snapshotName(_ offset: Int64) -> String { LogSegment.fileName(offset, ".snapshot") }

    /// Loads the newest producer-state snapshot at or below the log end and replays the
    /// batch headers after it, so a restart knows every producer's last five batches
    /// without rescanning the whole log.
    /// Idle time is counted in wall-clock time from the append (or from this restart for
    /// producers replayed from the log), not from the batches' own timestamps, so a producer
    /// that writes old timestamps keeps its state for `producer.id.expiration.ms`.
    /// The transaction index of `recovered` (the segment validated after an unclean stop) is
    /// rebuilt: its entries before the snapshot (durable when the snapshot was written) and
    /// the aborts replayed after it.
    static func loadProducerState(
        directory: String, segments: [LogSegment], recovered: LogSegment?, nowMs: Int64, files: any FileOperations
    ) throws(StorageError) -> ProducerStateTable {
        var producers = ProducerStateTable()
        let end = segments.last?.nextOffset ?? 0
        let snapshots = try files.list(directory)
            .filter { $0.hasSuffix(".snapshot") }
            .compactMap { Int64($0.dropLast(9)) }
            .sorted()
        var from: Int64 = segments.first?.baseOffset ?? 0
        for offset in snapshots.reversed() where offset <= end {
            if let table = ProducerSnapshot.load(path: directory + "/" + Self.snapshotName(offset), files: files) {
                producers.replace(with: table)
                from = offset
                break
            }
        }
        var rebuilt: [AbortedTransaction] = []
        for segment in segments where segment.nextOffset > from {
            for header in try segment.headers(from: max(from, segment.baseOffset)) {
                if let aborted = try replay(header, in: segment, into: &producers, nowMs: nowMs), segment === recovered {
                    rebuilt.append(aborted)
                }
            }
        }
        if let recovered {
            // Entries for markers before the snapshot were fsynced before it was written
            // (see `snapshotBeforeDeletion` and `roll`); the rest come from the replay.
            let kept = recovered.transactions.entries.filter { $0.lastOffset < from }
            try recovered.transactions.replace(with: kept + rebuilt)
        }
        return producers
    }

    /// Writes a snapshot as of `offset` (atomically) and keeps only the two newest.
    func writeProducerSnapshot(at offset: Int64) throws(StorageError) {
        try ProducerSnapshot.save(producers.producers, path: directory + "/" + Self.snapshotName(offset), files: files)
        let snapshots = try files.list(directory).filter { $0.hasSuffix(".snapshot") }.sorted()
        let stale = snapshots.dropLast(2)
        for old in stale { try files.remove(directory + "/" + old) }
        if !stale.isEmpty { try files.syncDirectory(directory) }
    }
}
