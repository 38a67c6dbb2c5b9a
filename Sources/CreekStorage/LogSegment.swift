public import KafkaProtocol
public import NIOCore

/// One segment of a partition log: `<base>.log` holds record batches exactly as received
/// (baseOffset and leader epoch patched), `<base>.index` and `<base>.timeindex` are sparse
/// indexes (see `OffsetIndex`, `TimeIndex`). File names are the base offset in 20 digits.
///
/// Invariant: the `.log` holds whole, valid batches with ascending offsets from
/// `baseOffset` to `nextOffset - 1` — contiguous as appended, with gaps once the log cleaner
/// has rewritten the segment; the in-memory indexes never point past its end.
/// Owned by one `PartitionLog`; not thread-safe.
public final class LogSegment {
    public let baseOffset: Int64
    public let log: LogFile
    private let indexPath: String
    private let timeIndexPath: String
    /// The aborted transactions whose abort marker is in this segment (`.txnindex`).
    let transactions: TransactionIndex
    public private(set) var offsetIndex = OffsetIndex()
    public private(set) var timeIndex = TimeIndex()
    /// The offset after the last record in this segment.
    public private(set) var nextOffset: Int64
    /// Largest record timestamp in the segment, -1 when empty.
    public private(set) var maxTimestamp: Int64 = -1
    /// Offset of the last batch whose maxTimestamp equals `maxTimestamp`.
    public private(set) var offsetOfMaxTimestamp: Int64 = -1
    /// When the segment started, for `segment.ms`: its first batch's max timestamp (the
    /// wall clock when that is missing), as Kafka's rolling-based timestamp.
    public var createdAtMs: Int64
    private var bytesSinceIndexEntry = 0
    let indexIntervalBytes: Int
    let files: any FileOperations
    /// True when the in-memory indexes have entries the files lack.
    private var indexesDirty = false
    /// Where the last read ended (the next offset and its batch's position): a consumer's
    /// next Fetch usually starts there, so it needs no index lookup or scan.
    var readHint: (offset: Int64, position: Int)?

    public var size: Int { log.size }
    public var isEmpty: Bool { log.size == 0 }

    public static func fileName(_ baseOffset: Int64, _ suffix: String) -> String {
        let digits = String(baseOffset)
        return String(repeating: "0", count: max(0, 20 - digits.count)) + digits + suffix
    }

    /// Opens (creating when missing) the segment at `directory` with `baseOffset`.
    /// With `recover`, the log is scanned from the start: every batch is validated, the
    /// file is cut at the first torn or corrupt batch, and the indexes are rebuilt.
    /// Without it, the index files are trusted and only the tail after the last index
    /// entry is read to find the end.
    /// A new segment's files are created and their directory entries made durable.
    public init(
        directory: String, baseOffset: Int64, indexIntervalBytes: Int, recover: Bool, nowMs: Int64,
        files: any FileOperations
    ) throws(StorageError) {
        self.baseOffset = baseOffset
        self.indexIntervalBytes = indexIntervalBytes
        self.files = files
        let logPath = directory + "/" + Self.fileName(baseOffset, ".log")
        let isNew = !files.exists(logPath)
        log = try LogFile(path: logPath, files: files)
        indexPath = directory + "/" + Self.fileName(baseOffset, ".index")
        timeIndexPath = directory + "/" + Self.fileName(baseOffset, ".timeindex")
        transactions = try TransactionIndex(path: directory + "/" + Self.fileName(baseOffset, ".txnindex"), files: files)
        if isNew {
            // Created empty with the log so the segment's three files appear together.
            _ = try files.open(indexPath, create: true)
            _ = try files.open(timeIndexPath, create: true)
        }
        if isNew { try files.syncDirectory(directory) }
        nextOffset = baseOffset
        createdAtMs = nowMs
        if recover {
            try rebuild(validating: true)
        } else {
            try load()
        }
        if let first = try readHeader(at: 0), first.maxTimestamp >= 0 { createdAtMs = first.maxTimestamp }
    }

    // MARK: - Loading and recovery

    private func load() throws(StorageError) {
        let index = OffsetIndex(bytes: try readIndexFile(indexPath), logSize: log.size)
        // A trustworthy index has entries; otherwise (small segment) just scan it all.
        guard let last = index.entries.last else {
            return try rebuild(validating: false)
        }
        offsetIndex = index
        timeIndex = TimeIndex(bytes: try readIndexFile(timeIndexPath))
        if let lastTime = timeIndex.entries.last {
            maxTimestamp = lastTime.timestamp
            offsetOfMaxTimestamp = baseOffset + Int64(lastTime.relativeOffset)
        }
        var position = Int(last.position)
        while let header = try readHeader(at: position) {
            note(header)
            position = header.endPosition
        }
        if position != log.size {
            // The tail is not whole batches after all: fall back to a validating scan.
            try rebuild(validating: true)
        }
    }

    /// Rescans the whole log, rebuilding both indexes; with `validating`, checks each
    /// batch fully and truncates at the first bad one.
    private func rebuild(validating: Bool) throws(StorageError) {
        offsetIndex = OffsetIndex()
        timeIndex = TimeIndex()
        nextOffset = baseOffset
        maxTimestamp = -1
        offsetOfMaxTimestamp = -1
        bytesSinceIndexEntry = 0
        indexesDirty = true
        var position = 0
        let chunkSize = 1 << 20
        var chunk = ByteBuffer()
        var chunkStart = 0
        scan: while position < log.size {
            // Make sure the next header, then the whole batch, is in `chunk`.
            if position + RecordBatch.headerSize > chunkStart + chunk.readableBytes {
                chunkStart = position
                chunk = try log.read(at: position, length: chunkSize)
            }
            let offsetInChunk = position - chunkStart
            guard let headerBytes = chunk.getSlice(at: chunk.readerIndex + offsetInChunk, length: min(RecordBatch.headerSize, chunk.readableBytes - offsetInChunk)),
                  let header = BatchHeader(position: position, headerBytes: headerBytes),
                  // Offsets rise; the log cleaner leaves gaps between batches.
                  header.baseOffset >= nextOffset,
                  header.endPosition <= log.size
            else { break scan }
            if validating {
                if header.endPosition > chunkStart + chunk.readableBytes {
                    chunkStart = position
                    chunk = try log.read(at: position, length: max(chunkSize, header.size))
                }
                let start = position - chunkStart
                guard let bytes = chunk.getSlice(at: chunk.readerIndex + start, length: header.size),
                      let batch = try? RecordBatch(bytes: bytes),
                      (try? batch.validate()) != nil
                else { break scan }
            }
            appendIndexEntries(for: header)
            note(header)
            position = header.endPosition
        }
        if position < log.size {
            try log.truncate(to: position)
        }
    }

    private func readHeader(at position: Int) throws(StorageError) -> BatchHeader? {
        guard position + RecordBatch.headerSize <= log.size else { return nil }
        let bytes = try log.read(at: position, length: RecordBatch.headerSize)
        guard let header = BatchHeader(position: position, headerBytes: bytes), header.endPosition <= log.size else {
            return nil
        }
        return header
    }

    private func note(_ header: BatchHeader) {
        nextOffset = header.lastOffset + 1
        if header.maxTimestamp >= maxTimestamp {
            maxTimestamp = header.maxTimestamp
            offsetOfMaxTimestamp = header.baseOffset
        }
    }

    private func appendIndexEntries(for header: BatchHeader) {
        bytesSinceIndexEntry += header.size
        guard bytesSinceIndexEntry >= indexIntervalBytes else { return }
        bytesSinceIndexEntry = 0
        // Segments roll before relative offsets or positions outgrow 32 bits, so these fit.
        guard let relative = UInt32(exactly: header.lastOffset - baseOffset), let position = UInt32(exactly: header.position) else {
            return
        }
        offsetIndex.append(relativeOffset: relative, position: position)
        let maxSoFar = max(maxTimestamp, header.maxTimestamp)
        timeIndex.maybeAppend(timestamp: maxSoFar, relativeOffset: relative)
        indexesDirty = true
    }

    /// Index files are caches of the log, kept in memory while the segment is active and
    /// written whole (then closed) at roll and at a clean shutdown: an active segment costs
    /// one file descriptor, not three, and an append writes only the log. After a crash the
    /// newest segment is rebuilt from the log anyway.
    private func readIndexFile(_ path: String) throws(StorageError) -> ByteBuffer {
        guard files.exists(path) else { return ByteBuffer() }
        let file = try files.open(path, create: false)
        return try file.read(at: 0, length: try file.length())
    }

    private func writeIndexFile(_ path: String, _ bytes: ByteBuffer) throws(StorageError) {
        let file = try files.open(path, create: true)
        try file.truncate(to: 0)
        try file.write([bytes], at: 0)
        try file.sync()
    }

    // MARK: - Appending

    /// Appends prepared batches (already offset-patched, contiguous from `nextOffset`)
    /// in one write, then indexes them.
    public func append(_ batches: [PreparedBatch]) throws(StorageError) {
        var parts: [ByteBuffer] = []
        parts.reserveCapacity(batches.count * 2)
        for batch in batches {
            parts.append(batch.headerPrefix)
            parts.append(batch.rest)
        }
        var position = try log.append(parts)
        for batch in batches {
            let header = BatchHeader(
                position: position, baseOffset: batch.baseOffset, lastOffset: batch.lastOffset,
                maxTimestamp: batch.maxTimestamp, size: batch.size, producerId: batch.producerId
            )
            appendIndexEntries(for: header)
            note(header)
            position += batch.size
        }
    }

    // MARK: - Reading

    /// Position of the first batch whose last offset is at least `offset`, or nil if none.
    public func position(of offset: Int64) throws(StorageError) -> BatchHeader? {
        guard offset < nextOffset else { return nil }
        let relative = UInt32(truncatingIfNeeded: max(0, offset - baseOffset))
        var position = offsetIndex.scanStart(for: relative)
        while let header = try readHeader(at: position) {
            if header.lastOffset >= offset { return header }
            position = header.endPosition
        }
        return nil
    }

    /// Headers of consecutive batches from `start`, while their total stays within
    /// `maxBytes` (the first is always included).
    public func headers(from start: BatchHeader, maxBytes: Int) throws(StorageError) -> [BatchHeader] {
        var result = [start]
        var total = start.size
        var position = start.endPosition
        while total < maxBytes, let header = try readHeader(at: position) {
            if total + header.size > maxBytes { break }
            result.append(header)
            total += header.size
            position = header.endPosition
        }
        return result
    }

    /// The first batch at or after `relativeStart` with maxTimestamp >= `timestamp`.
    public func firstBatch(withTimestampAtLeast timestamp: Int64) throws(StorageError) -> BatchHeader? {
        guard maxTimestamp >= timestamp else { return nil }
        let relative = timeIndex.searchStart(for: timestamp)
        var position = offsetIndex.scanStart(for: relative)
        while let header = try readHeader(at: position) {
            if header.maxTimestamp >= timestamp { return header }
            position = header.endPosition
        }
        return nil
    }

    /// The first batch after `previous` with maxTimestamp >= `timestamp`, or nil.
    public func nextBatch(after previous: BatchHeader, withTimestampAtLeast timestamp: Int64) throws(StorageError) -> BatchHeader? {
        var position = previous.endPosition
        while let header = try readHeader(at: position) {
            if header.maxTimestamp >= timestamp { return header }
            position = header.endPosition
        }
        return nil
    }

    /// Every batch header from the first batch whose last offset is at least `offset`.
    public func headers(from offset: Int64) throws(StorageError) -> [BatchHeader] {
        guard let first = try position(of: offset) else { return [] }
        var result = [first]
        var position = first.endPosition
        while let header = try readHeader(at: position) {
            result.append(header)
            position = header.endPosition
        }
        return result
    }

    public func readBatch(_ header: BatchHeader) throws(StorageError) -> ByteBuffer {
        try log.read(at: header.position, length: header.size)
    }

    // MARK: - Lifecycle

    /// Flushes the segment's log to stable storage.
    public func sync() throws(StorageError) {
        try log.sync()
    }

    /// Flushes the log and writes both indexes whole (at roll and at a clean shutdown).
    public func syncAll() throws(StorageError) {
        try log.sync()
        try transactions.sync()
        guard indexesDirty else { return }
        try writeIndexFile(indexPath, offsetIndex.bytes)
        try writeIndexFile(timeIndexPath, timeIndex.bytes)
        indexesDirty = false
    }

    /// Removes the segment's files; the caller syncs the directory.
    public func delete() throws(StorageError) {
        try files.remove(log.path)
        try files.remove(indexPath)
        try files.remove(timeIndexPath)
        try transactions.delete()
    }

    /// True when appending a batch whose last offset is `lastOffset` and `bytes` long
    /// would overflow this segment's 32-bit relative offsets or positions.
    public func wouldOverflow(lastOffset: Int64, bytes: Int) -> Bool {
        lastOffset - baseOffset > Int64(Int32.max) || size + bytes > Int(Int32.max)
    }
}

extension BatchHeader {
    init(position: Int, baseOffset: Int64, lastOffset: Int64, maxTimestamp: Int64, size: Int, producerId: Int64) {
        self.position = position
        self.baseOffset = baseOffset
        self.lastOffset = lastOffset
        self.maxTimestamp = maxTimestamp
        self.size = size
        self.producerId = producerId
    }
}

/// A validated batch ready to append: its first 16 bytes rewritten (baseOffset, length,
/// leader epoch) in `headerPrefix`, the untouched remainder in `rest`, so appending
/// never copies the producer's bytes.
public struct PreparedBatch: Sendable {
    public var headerPrefix: ByteBuffer
    public var rest: ByteBuffer
    public var baseOffset: Int64
    public var lastOffset: Int64
    public var maxTimestamp: Int64
    public var producerId: Int64
    public var size: Int { headerPrefix.readableBytes + rest.readableBytes }

    /// Assigns `baseOffset` and `leaderEpoch` to `batch`. With `logAppendTime`, the batch
    /// is copied and restamped (its CRC changes); otherwise no byte is copied.
    public init(batch: RecordBatch, baseOffset: Int64, leaderEpoch: Int32, logAppendTime: Int64?) {
        var source = batch
        if let logAppendTime {
            source.setLogAppendTime(logAppendTime)
        }
        var prefix = ByteBuffer()
        prefix.reserveCapacity(16)
        prefix.writeInteger(baseOffset, endianness: .big)
        prefix.writeInteger(source.batchLength, endianness: .big)
        prefix.writeInteger(leaderEpoch, endianness: .big)
        headerPrefix = prefix
        rest = source.buffer.getSlice(at: source.buffer.readerIndex + 16, length: source.sizeInBytes - 16) ?? ByteBuffer()
        self.baseOffset = baseOffset
        self.lastOffset = baseOffset + Int64(source.lastOffsetDelta)
        self.maxTimestamp = source.maxTimestamp
        self.producerId = source.producerId
    }
}
