#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A storage failure, in storage terms. System-call errors carry errno and the path; the
/// broker maps every case to a Kafka error code (`KafkaErrorCode(storage:)`) and logs it.
public enum StorageError: Error, Hashable, Sendable, CustomStringConvertible {
    case system(call: String, path: String, errno: Int32)
    case corruptCatalog(path: String, reason: String)
    case offsetOutOfRange(requested: Int64, logStart: Int64, logEnd: Int64)
    /// A write failed and the file could not be cut back to its last known length.
    case unrecoverableWrite(path: String, cause: String)
    /// The partition was taken out of service after a failed write or fsync; it stays
    /// offline until a restart recovers it from what is really on disk.
    case offline(partition: String, cause: String)
    /// The partition's topic was deleted while the request was in flight.
    case deleted(partition: String)
    /// The append would not fit the log's offset space (offsets or index entries).
    case offsetOverflow(String)
    /// A closed segment holds bytes that are not a batch (found by the log cleaner).
    case corruptSegment(path: String, position: Int)
    case closed
    /// The database behind a non-local engine failed or could not be reached; nothing of
    /// the failed operation was acknowledged, and the next operation tries again.
    case database(String)
    /// Another broker appended to the partition (it leads it now): this one must not.
    case notLeader(partition: String)
    /// Another broker changed what this one coordinates (a transactional id's state): this
    /// one must load it again before acting on it.
    case notCoordinator(String)
    /// Another broker changed this topic's catalog entry (or created a topic of this name)
    /// since this broker read it; nothing of the save was kept. Read the catalog again and
    /// decide afresh.
    case catalogConflict(topic: String)

    /// True for a full disk or quota: the data written so far is intact and appends can
    /// succeed again once space is freed.
    public var isOutOfSpace: Bool {
        // A failed fsync is never "just" a full disk: its unsynced data may be gone.
        if case .system(let call, _, let code) = self { return (code == ENOSPC || code == EDQUOT) && !call.contains("sync") }
        return false
    }

    public var description: String {
        switch self {
        case .system(let call, let path, let code):
            return "\(call)(\(path)) failed: \(String(cString: strerror(code)))"
        case .corruptCatalog(let path, let reason):
            return "catalog \(path) is unreadable: \(reason)"
        case .offsetOutOfRange(let requested, let start, let end):
            return "offset \(requested) outside [\(start), \(end)]"
        case .unrecoverableWrite(let path, let cause):
            return "write to \(path) failed and could not be undone: \(cause)"
        case .offline(let partition, let cause):
            return "partition \(partition) is offline after a storage failure (\(cause)); restart to recover"
        case .deleted(let partition):
            return "partition \(partition) was deleted"
        case .offsetOverflow(let reason):
            return reason
        case .corruptSegment(let path, let position):
            return "\(path) holds no valid batch at byte \(position)"
        case .closed:
            return "log is closed"
        case .database(let cause):
            return "database: \(cause)"
        case .notLeader(let partition):
            return "this broker no longer leads \(partition)"
        case .notCoordinator(let what):
            return "another broker coordinates \(what) now"
        case .catalogConflict(let topic):
            return "another broker changed topic '\(topic)' in the catalog at the same time"
        }
    }
}
