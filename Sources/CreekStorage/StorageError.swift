/// A storage failure. System-call errors carry errno and the path; the broker maps
/// them to KAFKA_STORAGE_ERROR and logs them.
public enum StorageError: Error, Hashable, Sendable, CustomStringConvertible {
    case system(call: String, path: String, errno: Int32)
    case corruptCatalog(path: String, reason: String)
    case offsetOutOfRange(requested: Int64, logStart: Int64, logEnd: Int64)
    case closed

    public var description: String {
        switch self {
        case .system(let call, let path, let code):
            return "\(call)(\(path)) failed: \(String(cString: strerror(code)))"
        case .corruptCatalog(let path, let reason):
            return "catalog \(path) is unreadable: \(reason)"
        case .offsetOutOfRange(let requested, let start, let end):
            return "offset \(requested) outside [\(start), \(end)]"
        case .closed:
            return "log is closed"
        }
    }
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
