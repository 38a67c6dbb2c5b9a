import KafkaProtocol
public import NIOCore

extension LogSegment {
    /// Stored batches read for a Fetch: `bytes` are whole batches exactly as on disk.
    public struct ReadBatches {
        public var bytes: ByteBuffer
        public var lastOffset: Int64
        /// True when the read reached the segment's last batch.
        public var reachedEnd: Bool
    }

    /// Whole batches starting with the one that holds `offset`, each ending below `end`
    /// (the high watermark), together at most `maxBytes` — except that with `minOneBatch`
    /// the first batch is returned even when larger. Nil when no batch qualifies.
    ///
    /// One `pread` covers the range in the common case (a consumer continuing where its
    /// last read ended, found through `readHint`); otherwise the read starts at the sparse
    /// index entry and skips the batches before `offset` in memory. The result is a slice of
    /// the read buffer — no second copy.
    public func readBatches(from offset: Int64, below end: Int64, maxBytes: Int, minOneBatch: Bool) throws(StorageError) -> ReadBatches? {
        guard offset < nextOffset, offset < end else { return nil }
        let exact = readHint.map { $0.offset == offset } ?? false
        var position = exact ? readHint?.position ?? 0 : offsetIndex.scanStart(for: UInt32(truncatingIfNeeded: max(0, offset - baseOffset)))
        // Never more than the file holds (callers may pass Int.max).
        let budget = min(max(maxBytes, RecordBatch.headerSize), log.size)
        let slack = exact ? 0 : indexIntervalBytes + RecordBatch.headerSize
        // Find the first batch that holds `offset`, reading forward in windows.
        var window: ByteBuffer
        var first: BatchHeader
        locate: while true {
            window = try log.read(at: position, length: budget + slack)
            var local = 0
            while true {
                guard let header = Self.header(in: window, at: local, filePosition: position + local) else {
                    // Past the end of the file, or a header cut by the window: read on from it.
                    guard local > 0, position + local < log.size else { return nil }
                    position += local
                    continue locate
                }
                if header.lastOffset >= offset {
                    window.moveReaderIndex(forwardBy: local)
                    first = header
                    break locate
                }
                local += header.size
            }
        }
        guard first.lastOffset < end else { return nil }
        guard minOneBatch || first.size <= maxBytes else { return nil }
        // The window must hold the whole range the budget allows (the skip may have used
        // part of it, and a first batch may be larger than the budget): else read it again.
        let wanted = max(first.size, min(maxBytes, log.size - first.position))
        if window.readableBytes < wanted {
            window = try log.read(at: first.position, length: wanted)
            guard window.readableBytes >= first.size else {
                // The header claims more bytes than the file holds: never serve a torn batch.
                throw .system(call: "pread", path: log.path, errno: 5)
            }
        }
        var total = first.size
        var last = first
        while let next = Self.header(in: window, at: total, filePosition: first.position + total),
              next.endPosition - first.position <= window.readableBytes,
              total + next.size <= maxBytes, next.lastOffset < end {
            total += next.size
            last = next
        }
        readHint = (last.lastOffset + 1, last.endPosition)
        let bytes = window.getSlice(at: window.readerIndex, length: total) ?? ByteBuffer()
        return ReadBatches(bytes: bytes, lastOffset: last.lastOffset, reachedEnd: last.lastOffset + 1 >= nextOffset)
    }

    /// The header of the batch at `offset` bytes into `window`, or nil when the window does
    /// not hold a whole header there (or the bytes are not a batch header).
    private static func header(in window: ByteBuffer, at offset: Int, filePosition: Int) -> BatchHeader? {
        guard offset + RecordBatch.headerSize <= window.readableBytes,
              let bytes = window.getSlice(at: window.readerIndex + offset, length: RecordBatch.headerSize)
        else { return nil }
        return BatchHeader(position: filePosition, headerBytes: bytes)
    }
}
