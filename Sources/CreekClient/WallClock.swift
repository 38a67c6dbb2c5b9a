#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Milliseconds since the Unix epoch (record timestamps).
enum WallClock {
    static func nowMs() -> Int64 {
        var time = timespec()
        clock_gettime(CLOCK_REALTIME, &time)
        return Int64(time.tv_sec) * 1000 + Int64(time.tv_nsec) / 1_000_000
    }
}

/// A point on the monotonic clock, in nanoseconds. The producer's per-batch state keeps
/// this plain integer instead of `ContinuousClock.Instant`, whose layout is resilient:
/// every copy or destroy of a struct holding one goes through generic value witnesses, on
/// the per-record path.
struct MonotonicInstant: Comparable, Sendable {
    var nanoseconds: UInt64

    static var now: MonotonicInstant {
        var time = timespec()
        clock_gettime(CLOCK_MONOTONIC, &time)
        return MonotonicInstant(nanoseconds: UInt64(time.tv_sec) * 1_000_000_000 + UInt64(time.tv_nsec))
    }

    static func < (lhs: MonotonicInstant, rhs: MonotonicInstant) -> Bool { lhs.nanoseconds < rhs.nanoseconds }

    static func - (lhs: MonotonicInstant, rhs: MonotonicInstant) -> Duration {
        lhs.nanoseconds >= rhs.nanoseconds ? .nanoseconds(lhs.nanoseconds - rhs.nanoseconds) : .zero
    }

    static func + (lhs: MonotonicInstant, rhs: Duration) -> MonotonicInstant {
        let (seconds, attoseconds) = rhs.components
        let nanos = max(0, seconds) * 1_000_000_000 + max(0, attoseconds) / 1_000_000_000
        return MonotonicInstant(nanoseconds: lhs.nanoseconds &+ UInt64(nanos))
    }
}
