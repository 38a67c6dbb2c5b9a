import KafkaProtocol
import NIOConcurrencyHelpers
import NIOCore

/// A committed consumer-group offset.
public struct CommittedOffset: Hashable, Sendable {
    public var offset: Int64
    public var leaderEpoch: Int32
    public var metadata: String?
    public var commitTimestampMs: Int64

    public init(offset: Int64, leaderEpoch: Int32, metadata: String?, commitTimestampMs: Int64) {
        self.offset = offset
        self.leaderEpoch = leaderEpoch
        self.metadata = metadata
        self.commitTimestampMs = commitTimestampMs
    }
}

/// Durable committed offsets: an in-memory map backed by an append-only journal,
/// `meta/offsets.journal`. Each record is framed by `JournalFraming`;
/// the body is a kind byte (1 commit, 2 delete one partition, 3 delete a group), then the
/// group, topic (u16-length UTF-8), partition i32, offset i64, leader epoch i32, metadata
/// (i32 length, -1 null), commit time i64. Startup replays the journal and cuts it at the
/// first torn or corrupt record. When the journal grows past twice the live data (and
/// 4 MiB) it is rewritten with just the live offsets (temp file, fsync, rename).
/// Thread-safe; appends are serialised by a lock, fsyncs go through `GroupCommit`.
public final class OffsetStore: Sendable {
    public typealias Offsets = [String: [Int32: CommittedOffset]]

    private struct State {
        var groups: [String: Offsets] = [:]
        var journal: LogFile
        var liveRecords = 0
        /// Set after a failed journal write or fsync: no commit is accepted after it.
        var failure: StorageError?
        /// Incremented by every change (commit, delete, expiry).
        var changes = 0
        /// With shared storage: changes not written to it yet, and the groups loaded from it
        /// since this broker began coordinating them.
        var unshared: [OffsetChange] = []
        var adopted: Set<String> = []
        /// True once `share(with:)` was called; alone, changes are not collected at all.
        var sharing = false
    }

    /// Where offsets are shared with other brokers (set once, at startup, in a cluster).
    private let sharedStorage = NIOLockedValueBox<(any SharedOffsetStorage)?>(nil)

    public func share(with storage: any SharedOffsetStorage) {
        sharedStorage.withLockedValue { $0 = storage }
        state.withLockedValue { $0.sharing = true }
    }

    /// Before this broker answers for `group`: in a cluster, replaces what it holds for the
    /// group with the shared copy the first time after it (re)gains the group.
    public func adopt(group: String) async throws(StorageError) {
        guard let shared = sharedStorage.withLockedValue({ $0 }) else { return }
        guard !state.withLockedValue({ $0.adopted.contains(group) }) else { return }
        let loaded = try await shared.load(group: group)
        state.withLockedValue { state in
            state.liveRecords -= state.groups[group]?.values.reduce(0) { $0 + $1.count } ?? 0
            state.groups[group] = loaded.isEmpty ? nil : loaded
            state.liveRecords += loaded.values.reduce(0) { $0 + $1.count }
            state.adopted.insert(group)
            state.changes += 1
        }
    }

    /// Forgets which groups were loaded (the cluster's membership changed: a group may have
    /// been coordinated elsewhere meanwhile).
    public func forgetAdoptedGroups() {
        state.withLockedValue { $0.adopted.removeAll() }
    }

    private let path: String
    private let files: any FileOperations
    private let state: NIOLockedValueBox<State>
    private let groupCommit = GroupCommit(label: "offsets")
    static let compactionThreshold = 4 << 20

    public init(dataDirectory: String, files: any FileOperations = PosixFileOperations()) throws(StorageError) {
        try files.makeDirectoryDurably(dataDirectory + "/meta")
        path = dataDirectory + "/meta/offsets.journal"
        self.files = files
        let isNew = !files.exists(path)
        let journal = try LogFile(path: path, files: files)
        if isNew { try files.syncDirectory(dataDirectory + "/meta") }
        var groups: [String: Offsets] = [:]
        var buffer = try journal.read(at: 0, length: journal.size)
        var validEnd = 0
        while let record = Self.readRecord(&buffer) {
            Self.apply(record, to: &groups)
            validEnd = buffer.readerIndex
        }
        if validEnd < journal.size { try journal.truncate(to: validEnd) }
        state = NIOLockedValueBox(State(groups: groups, journal: journal, liveRecords: groups.values.reduce(0) { $0 + $1.values.reduce(0) { $0 + $1.count } }))
    }

    // MARK: - Reading

    /// Every group's committed offsets and the change count they reflect (a snapshot taken
    /// under the lock, so the two agree).
    public func snapshot() -> (groups: [String: Offsets], changes: Int) {
        state.withLockedValue { ($0.groups, $0.changes) }
    }

    /// How many changes the store has seen since it opened; cheap to poll.
    public var changeCount: Int { state.withLockedValue { $0.changes } }

    public func offsets(group: String) -> Offsets {
        state.withLockedValue { $0.groups[group] ?? [:] }
    }

    public var groupIds: [String] { state.withLockedValue { Array($0.groups.keys) } }

    // MARK: - Writing

    /// Records commits (an offset of -1 deletes nothing; it is stored as given).
    public func commit(group: String, _ entries: [(topic: String, partition: Int32, value: CommittedOffset)]) throws(StorageError) {
        var bytes = ByteBuffer()
        for entry in entries {
            Self.writeRecord(.init(kind: 1, group: group, topic: entry.topic, partition: entry.partition, value: entry.value), to: &bytes)
        }
        try append(bytes) { state in
            if state.sharing {
                state.unshared += entries.map { .commit(group: group, topic: $0.topic, partition: $0.partition, value: $0.value) }
            }
            for entry in entries {
                if state.groups[group, default: [:]][entry.topic, default: [:]].updateValue(entry.value, forKey: entry.partition) == nil {
                    state.liveRecords += 1
                }
            }
        }
    }

    /// Deletes a group's offsets for some partitions (OffsetDelete) or, with nil, all of them.
    public func delete(group: String, partitions: [(topic: String, partition: Int32)]?) throws(StorageError) {
        var bytes = ByteBuffer()
        let empty = CommittedOffset(offset: -1, leaderEpoch: -1, metadata: nil, commitTimestampMs: 0)
        if let partitions {
            for target in partitions {
                Self.writeRecord(.init(kind: 2, group: group, topic: target.topic, partition: target.partition, value: empty), to: &bytes)
            }
        } else {
            Self.writeRecord(.init(kind: 3, group: group, topic: "", partition: -1, value: empty), to: &bytes)
        }
        try append(bytes) { state in
            if state.sharing, let partitions {
                state.unshared += partitions.map { .delete(group: group, topic: $0.topic, partition: $0.partition) }
            } else if state.sharing {
                state.unshared.append(.deleteGroup(group))
            }
            if let partitions {
                for target in partitions where state.groups[group]?[target.topic]?.removeValue(forKey: target.partition) != nil {
                    state.liveRecords -= 1
                    if state.groups[group]?[target.topic]?.isEmpty == true { state.groups[group]?[target.topic] = nil }
                }
                if state.groups[group]?.isEmpty == true { state.groups[group] = nil }
            } else if let removed = state.groups.removeValue(forKey: group) {
                state.liveRecords -= removed.values.reduce(0) { $0 + $1.count }
            }
        }
    }

    /// Removes the offsets of `groups` committed before `cutoffMs` (offset retention).
    /// Returns how many were removed.
    @discardableResult
    public func expire(groups: [String], committedBefore cutoffMs: Int64) throws(StorageError) -> Int {
        var removed = 0
        for group in groups {
            let old = offsets(group: group).flatMap { topic, partitions in
                partitions.filter { $0.value.commitTimestampMs < cutoffMs }.map { (topic: topic, partition: $0.key) }
            }
            guard !old.isEmpty else { continue }
            try delete(group: group, partitions: old)
            removed += old.count
        }
        return removed
    }

    /// Waits until everything recorded so far is on stable storage.
    /// A failed fsync takes the store offline (its unsynced records may be gone).
    public func sync() async throws {
        let (journal, failure, unshared) = state.withLockedValue { state in
            defer { state.unshared.removeAll() }
            return (state.journal, state.failure, state.unshared)
        }
        if let failure { throw failure }
        if let shared = sharedStorage.withLockedValue({ $0 }) {
            // In a cluster the shared copy is the one that counts: written before the ack.
            if !unshared.isEmpty { try await shared.apply(unshared) }
            return
        }
        do {
            try await groupCommit.sync(journal)
        } catch {
            let offline = StorageError.offline(partition: "offsets journal", cause: "\(error)")
            state.withLockedValue { if $0.failure == nil { $0.failure = offline } }
            throw offline
        }
    }

    private func append(_ bytes: ByteBuffer, update: (inout State) -> Void) throws(StorageError) {
        let result: Result<Void, StorageError> = state.withLockedValue { state in
            if let failure = state.failure { return .failure(failure) }
            do throws(StorageError) {
                try state.journal.append([bytes])
            } catch {
                if !error.isOutOfSpace { state.failure = .offline(partition: "offsets journal", cause: error.description) }
                return .failure(error)
            }
            update(&state)
            state.changes += 1
            return .success(())
        }
        try result.get()
        try compactIfNeeded()
    }

    private func compactIfNeeded() throws(StorageError) {
        let result: Result<Void, StorageError> = state.withLockedValue { state in
            let size = state.journal.size
            guard size > Self.compactionThreshold, size > 2 * max(1, state.liveRecords) * 64 else { return .success(()) }
            var bytes = ByteBuffer()
            for (group, topics) in state.groups {
                for (topic, partitions) in topics {
                    for (partition, value) in partitions {
                        Self.writeRecord(.init(kind: 1, group: group, topic: topic, partition: partition, value: value), to: &bytes)
                    }
                }
            }
            do {
                try files.writeAtomically(Array(bytes.readableBytesView), to: path)
                state.journal = try LogFile(path: path, files: files)
                return .success(())
            } catch let error as StorageError {
                return .failure(error)
            } catch {
                return .failure(.closed)
            }
        }
        try result.get()
    }

    // MARK: - Record format

    struct Record {
        var kind: UInt8
        var group: String
        var topic: String
        var partition: Int32
        var value: CommittedOffset
    }

    static func writeRecord(_ record: Record, to buffer: inout ByteBuffer) {
        var body = ByteBuffer()
        body.writeInteger(record.kind)
        for text in [record.group, record.topic] {
            body.writeInteger(UInt16(truncatingIfNeeded: text.utf8.count), endianness: .big)
            body.writeString(text)
        }
        body.writeInteger(record.partition, endianness: .big)
        body.writeInteger(record.value.offset, endianness: .big)
        body.writeInteger(record.value.leaderEpoch, endianness: .big)
        if let metadata = record.value.metadata {
            body.writeInteger(Int32(metadata.utf8.count), endianness: .big)
            body.writeString(metadata)
        } else {
            body.writeInteger(Int32(-1), endianness: .big)
        }
        body.writeInteger(record.value.commitTimestampMs, endianness: .big)
        JournalFraming.write(body, to: &buffer)
    }

    /// The next whole, CRC-valid record, or nil at the end or at a torn/corrupt one.
    static func readRecord(_ buffer: inout ByteBuffer) -> Record? {
        let start = buffer.readerIndex
        guard var body = JournalFraming.next(&buffer),
              let kind = body.readInteger(as: UInt8.self),
              let groupLength = body.readInteger(endianness: .big, as: UInt16.self),
              let group = body.readString(length: Int(groupLength)),
              let topicLength = body.readInteger(endianness: .big, as: UInt16.self),
              let topic = body.readString(length: Int(topicLength)),
              let partition = body.readInteger(endianness: .big, as: Int32.self),
              let offset = body.readInteger(endianness: .big, as: Int64.self),
              let epoch = body.readInteger(endianness: .big, as: Int32.self),
              let metadataLength = body.readInteger(endianness: .big, as: Int32.self)
        else {
            buffer.moveReaderIndex(to: start)
            return nil
        }
        var metadata: String?
        if metadataLength >= 0 {
            guard let text = body.readString(length: Int(metadataLength)) else {
                buffer.moveReaderIndex(to: start)
                return nil
            }
            metadata = text
        }
        guard let timestamp = body.readInteger(endianness: .big, as: Int64.self) else {
            buffer.moveReaderIndex(to: start)
            return nil
        }
        return Record(kind: kind, group: group, topic: topic, partition: partition,
                      value: CommittedOffset(offset: offset, leaderEpoch: epoch, metadata: metadata, commitTimestampMs: timestamp))
    }

    static func apply(_ record: Record, to groups: inout [String: Offsets]) {
        switch record.kind {
        case 1:
            groups[record.group, default: [:]][record.topic, default: [:]][record.partition] = record.value
        case 2:
            groups[record.group]?[record.topic]?[record.partition] = nil
            if groups[record.group]?[record.topic]?.isEmpty == true { groups[record.group]?[record.topic] = nil }
            if groups[record.group]?.isEmpty == true { groups[record.group] = nil }
        case 3:
            groups[record.group] = nil
        default:
            break
        }
    }
}
