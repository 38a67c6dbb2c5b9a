import NIOCore

/// A transaction that was aborted, as a read_committed consumer must be told about it: the
/// producer, the offset of its first record in this partition, the offset of its abort
/// marker, and the partition's last stable offset once it was aborted.
public struct AbortedTransaction: Hashable, Sendable {
    public var producerId: Int64
    public var firstOffset: Int64
    public var lastOffset: Int64
    public var lastStableOffset: Int64

    public init(producerId: Int64, firstOffset: Int64, lastOffset: Int64, lastStableOffset: Int64) {
        self.producerId = producerId
        self.firstOffset = firstOffset
        self.lastOffset = lastOffset
        self.lastStableOffset = lastStableOffset
    }
}

/// `<base>.txnindex`: the aborted transactions whose abort marker lies in one segment, in
/// marker order, in Kafka's layout — 34-byte entries: version i16 (0), producer id i64,
/// first offset i64, last offset i64, last stable offset i64, big-endian. Appended when an
/// abort marker is written, fsynced with the segment (roll, clean close, `--flush`), and
/// rebuilt from the log whenever the segment itself is recovered, so it never needs to be
/// more durable than the log it describes. The file exists only once a segment holds an
/// abort. A torn trailing entry is ignored and cut off.
///
/// Invariant: `entries` equals the whole entries of the file, in order.
final class TransactionIndex {
    static let entrySize = 34
    let path: String
    private let files: any FileOperations
    private(set) var entries: [AbortedTransaction] = []
    private var file: LogFile?
    private var unsynced = false

    init(path: String, files: any FileOperations) throws(StorageError) {
        self.path = path
        self.files = files
        guard files.exists(path) else { return }
        let opened = try LogFile(path: path, create: false, files: files)
        var bytes = try opened.read(at: 0, length: opened.size)
        while bytes.readableBytes >= Self.entrySize {
            guard let version = bytes.readInteger(endianness: .big, as: Int16.self),
                  let producerId = bytes.readInteger(endianness: .big, as: Int64.self),
                  let first = bytes.readInteger(endianness: .big, as: Int64.self),
                  let last = bytes.readInteger(endianness: .big, as: Int64.self),
                  let stable = bytes.readInteger(endianness: .big, as: Int64.self),
                  version == 0, first <= last
            else { break }
            entries.append(AbortedTransaction(producerId: producerId, firstOffset: first, lastOffset: last, lastStableOffset: stable))
        }
        let whole = entries.count * Self.entrySize
        if whole != opened.size { try opened.truncate(to: whole) }
        file = opened
    }

    private static func encode(_ entry: AbortedTransaction, into buffer: inout ByteBuffer) {
        buffer.writeInteger(Int16(0), endianness: .big)
        buffer.writeInteger(entry.producerId, endianness: .big)
        buffer.writeInteger(entry.firstOffset, endianness: .big)
        buffer.writeInteger(entry.lastOffset, endianness: .big)
        buffer.writeInteger(entry.lastStableOffset, endianness: .big)
    }

    func append(_ entry: AbortedTransaction) throws(StorageError) {
        let target: LogFile
        if let file {
            target = file
        } else {
            target = try LogFile(path: path, files: files)
            try files.syncDirectory(String(path[..<(path.lastIndex(of: "/") ?? path.endIndex)]))
            file = target
        }
        var bytes = ByteBuffer()
        Self.encode(entry, into: &bytes)
        try target.append([bytes])
        entries.append(entry)
        unsynced = true
    }

    /// Replaces the whole index (a recovered segment's aborts, found by scanning its log).
    func replace(with rebuilt: [AbortedTransaction]) throws(StorageError) {
        guard rebuilt != entries || (file == nil && !rebuilt.isEmpty) else { return }
        if rebuilt.isEmpty {
            if file != nil { try files.remove(path) }
            file = nil
            entries = []
            unsynced = false
            return
        }
        var bytes = ByteBuffer()
        for entry in rebuilt { Self.encode(entry, into: &bytes) }
        try files.writeAtomically(Array(bytes.readableBytesView), to: path)
        file = try LogFile(path: path, create: false, files: files)
        entries = rebuilt
        unsynced = false
    }

    func sync() throws(StorageError) {
        guard unsynced, let file else { return }
        try file.sync()
        unsynced = false
    }

    /// Removes the file; the caller syncs the directory.
    func delete() throws(StorageError) {
        if file != nil || files.exists(path) { try files.remove(path) }
        file = nil
        entries = []
    }
}
