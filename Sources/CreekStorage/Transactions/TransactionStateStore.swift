#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import NIOConcurrencyHelpers
import NIOCore

/// The transaction coordinator's durable state (Kafka keeps it in `__transaction_state`):
/// `meta/transactions.journal`, records framed by `JournalFraming`, each body the JSON of a
/// `TransactionRecord` — a transactional id's whole metadata, or its removal. Startup
/// replays the journal (the last record per id wins) and cuts it at the first torn or
/// corrupt record. `put` appends; `sync` returns once everything put is on stable storage —
/// the coordinator acts on a state only after that. When the journal outgrows twice the
/// live state (and 1 MiB) it is rewritten with the live records (temp file, fsync, rename).
public final class TransactionStateStore: Sendable {
    struct TransactionRecord: Codable {
        var id: String
        var metadata: TransactionMetadata?
    }

    private struct State {
        var transactions: [String: TransactionMetadata]
        var journal: LogFile
        var failure: StorageError?
    }

    private let path: String
    private let files: any FileOperations
    private let state: NIOLockedValueBox<State>
    private let groupCommit = GroupCommit(label: "transactions")
    static let compactionThreshold = 1 << 20

    public init(dataDirectory: String, files: any FileOperations = PosixFileOperations()) throws(StorageError) {
        try files.makeDirectoryDurably(dataDirectory + "/meta")
        path = dataDirectory + "/meta/transactions.journal"
        self.files = files
        let isNew = !files.exists(path)
        let journal = try LogFile(path: path, files: files)
        if isNew { try files.syncDirectory(dataDirectory + "/meta") }
        var transactions: [String: TransactionMetadata] = [:]
        var buffer = try journal.read(at: 0, length: journal.size)
        var validEnd = 0
        while let body = JournalFraming.next(&buffer),
              let record = try? JSONDecoder().decode(TransactionRecord.self, from: Data(body.readableBytesView)) {
            transactions[record.id] = record.metadata
            validEnd = buffer.readerIndex
        }
        if validEnd < journal.size { try journal.truncate(to: validEnd) }
        state = NIOLockedValueBox(State(transactions: transactions, journal: journal))
    }

    public var all: [String: TransactionMetadata] { state.withLockedValue { $0.transactions } }

    public func get(_ transactionalId: String) -> TransactionMetadata? {
        state.withLockedValue { $0.transactions[transactionalId] }
    }

    /// Records `metadata` (replacing the id's previous state). Not durable until `sync`.
    public func put(_ metadata: TransactionMetadata) throws(StorageError) {
        try write(TransactionRecord(id: metadata.transactionalId, metadata: metadata))
    }

    /// Forgets a transactional id (expired). Not durable until `sync`.
    public func remove(_ transactionalId: String) throws(StorageError) {
        try write(TransactionRecord(id: transactionalId, metadata: nil))
    }

    /// In a cluster: holds, in memory, the shared copy of the ids `keeping` accepts and
    /// nothing else, except ids in `sparing` (an operation on them is in flight). The journal
    /// is not rewritten; in a cluster the shared copy is the truth and is loaded at start.
    public func adopt(_ loaded: [TransactionMetadata], keeping: (String) -> Bool, sparing: Set<String>) {
        state.withLockedValue { state in
            var adopted = state.transactions.filter { sparing.contains($0.key) }
            for metadata in loaded where keeping(metadata.transactionalId) && !sparing.contains(metadata.transactionalId) {
                adopted[metadata.transactionalId] = metadata
            }
            state.transactions = adopted
        }
    }

    /// Puts back what `get` answers for an id after a `put` whose `sync` failed, so
    /// nothing acts on a state that may not be on disk. The journal itself is offline
    /// then; which record a restart finds is whichever the disk kept.
    public func restore(_ metadata: TransactionMetadata?, for transactionalId: String) {
        state.withLockedValue { $0.transactions[transactionalId] = metadata }
    }

    /// Waits until everything put so far is on stable storage. A failed fsync takes the
    /// store offline: nothing more is accepted.
    public func sync() async throws(StorageError) {
        let (journal, failure) = state.withLockedValue { ($0.journal, $0.failure) }
        if let failure { throw failure }
        do {
            try await groupCommit.sync(journal)
        } catch {
            let offline = StorageError.offline(partition: "transactions journal", cause: "\(error)")
            state.withLockedValue { if $0.failure == nil { $0.failure = offline } }
            throw offline
        }
    }

    private static func frame(_ record: TransactionRecord, path: String) throws(StorageError) -> ByteBuffer {
        guard let json = try? JSONEncoder().encode(record) else {
            throw .corruptCatalog(path: path, reason: "cannot encode transaction \(record.id)")
        }
        var bytes = ByteBuffer()
        JournalFraming.write(ByteBuffer(bytes: json), to: &bytes)
        return bytes
    }

    private func write(_ record: TransactionRecord) throws(StorageError) {
        let bytes = try Self.frame(record, path: path)
        let path = self.path
        let files = self.files
        let result: Result<Void, StorageError> = state.withLockedValue { state in
            if let failure = state.failure { return .failure(failure) }
            do throws(StorageError) {
                try state.journal.append([bytes])
                state.transactions[record.id] = record.metadata
                guard state.journal.size > Self.compactionThreshold,
                      state.journal.size > 2 * max(1, state.transactions.count) * 512 else { return .success(()) }
                var live = ByteBuffer()
                for (id, metadata) in state.transactions {
                    live.writeImmutableBuffer(try Self.frame(TransactionRecord(id: id, metadata: metadata), path: path))
                }
                try files.writeAtomically(Array(live.readableBytesView), to: path)
                state.journal = try LogFile(path: path, files: files)
                return .success(())
            } catch {
                if !error.isOutOfSpace { state.failure = .offline(partition: "transactions journal", cause: error.description) }
                return .failure(error)
            }
        }
        try result.get()
    }
}
