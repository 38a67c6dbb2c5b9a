#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The size of the file system volume holding a path, as `statvfs` reports it: `total` is
/// the volume's capacity, `usable` what an unprivileged writer may still use (blocks
/// available to non-root). Both in bytes; nil when the path cannot be examined.
public struct VolumeSpace: Sendable, Hashable {
    public let total: Int64
    public let usable: Int64

    public init(total: Int64, usable: Int64) {
        self.total = total
        self.usable = usable
    }

    /// The volume holding `path`, or nil if `statvfs` fails (missing path, no permission).
    public static func of(path: String) -> VolumeSpace? {
        var stats = statvfs()
        guard statvfs(path, &stats) == 0 else { return nil }
        let blockSize = Int64(stats.f_frsize)
        return VolumeSpace(total: Int64(stats.f_blocks) * blockSize, usable: Int64(stats.f_bavail) * blockSize)
    }

    /// The absolute form of `path` (resolved against the working directory), or `path`
    /// itself when it cannot be resolved.
    public static func absolutePath(_ path: String) -> String {
        guard let resolved = realpath(path, nil) else { return path }
        defer { free(resolved) }
        return String(cString: resolved)
    }
}
