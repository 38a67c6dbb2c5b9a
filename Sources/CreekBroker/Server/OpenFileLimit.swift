#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Every partition keeps its active segment's log open, so a broker with many partitions
/// needs many descriptors. At startup the soft limit is raised to the hard limit (and, when
/// the process may, the hard limit to 1,048,576), as Kafka's packaging asks operators to.
public enum OpenFileLimit {
    /// Raises the limit as far as allowed; returns the soft limit now in force.
    @discardableResult
    public static func raise(wanted: UInt64 = 1 << 20) -> Int {
        let wanted = rlim_t(wanted)
        var limit = rlimit()
        guard getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) == 0 else { return -1 }
        if limit.rlim_max < wanted {
            var bigger = rlimit(rlim_cur: wanted, rlim_max: wanted)
            if setrlimit(Int32(RLIMIT_NOFILE.rawValue), &bigger) == 0 { return Int(wanted) }
        }
        limit.rlim_cur = limit.rlim_max
        _ = setrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit)
        _ = getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit)
        return Int(limit.rlim_cur)
    }
}
