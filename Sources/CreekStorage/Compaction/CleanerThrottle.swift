#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import NIOConcurrencyHelpers

/// Bounds the log cleaner's I/O to `log.cleaner.io.max.bytes.per.second`, shared by every
/// cleaner thread: each read or write of the cleaner reports its bytes and sleeps as long as
/// needed to keep the rate since the last reset under the limit. Thread-safe.
public final class CleanerThrottle: Sendable {
    public let bytesPerSecond: Double
    private let state = NIOLockedValueBox((startNs: UInt64(0), bytes: 0.0))

    public init(bytesPerSecond: Double) {
        self.bytesPerSecond = bytesPerSecond
    }

    /// Accounts for `bytes` and sleeps the caller until the rate is within the limit.
    public func take(_ bytes: Int) {
        guard bytesPerSecond.isFinite, bytesPerSecond > 0, bytes > 0 else { return }
        let now = Self.nowNs()
        let sleepNs: Double = state.withLockedValue { state in
            // Restart the window after a quiet second so idle time is not banked.
            if state.startNs == 0 || Double(now - state.startNs) > 1e9 + state.bytes / bytesPerSecond * 1e9 {
                state = (now, 0)
            }
            state.bytes += Double(bytes)
            let due = state.bytes / bytesPerSecond * 1e9
            return due - Double(now - state.startNs)
        }
        if sleepNs > 1_000 { usleep(UInt32(min(sleepNs / 1_000, 10_000_000))) }
    }

    static func nowNs() -> UInt64 {
        var time = timespec()
        clock_gettime(CLOCK_MONOTONIC, &time)
        return UInt64(time.tv_sec) * 1_000_000_000 + UInt64(time.tv_nsec)
    }
}
