import NIOConcurrencyHelpers

/// Byte-rate quotas in force: one token bucket per (quota key, user, client id) that
/// refills at the quota and holds at most one second of it. A request that takes the bucket
/// below zero is answered at once with `throttle_time_ms` for the time the debt takes to
/// refill, and its connection reads nothing more until then (KIP-219), so a client that
/// ignores the throttle is held back by TCP.
///
/// Invariant: with no quotas configured, `record` costs one lock-free check and returns 0.
public final class QuotaEnforcer: Sendable {
    let quotas: ClientQuotas
    private let buckets = NIOLockedValueBox<[BucketKey: Bucket]>([:])
    /// The longest throttle (Kafka caps it by the quota window; 30 s here).
    static let maxThrottleMs: Int64 = 30_000

    private struct BucketKey: Hashable {
        var key: String
        var user: String
        var clientId: String
    }

    private struct Bucket {
        var tokens: Double
        var updatedNanos: Int64
        var blockedUntilNanos: Int64
    }

    init(quotas: ClientQuotas) {
        self.quotas = quotas
    }

    /// The user part of a principal (`User:alice` -> `alice`), as quota entities name it.
    static func user(of principal: String) -> String {
        principal.hasPrefix("User:") ? String(principal.dropFirst(5)) : principal
    }

    /// Records `bytes` against the client's `key` quota; returns the throttle in ms (0 when
    /// within the quota or without one).
    func record(_ key: String, principal: String, clientId: String?, bytes: Int, nowNanos: Int64) -> Int32 {
        guard !quotas.isEmpty else { return 0 }
        let user = Self.user(of: principal)
        let client = clientId ?? ""
        guard let rate = quotas.quota(key, user: user, clientId: client), rate > 0 else { return 0 }
        let id = BucketKey(key: key, user: user, clientId: client)
        return buckets.withLockedValue { all in
            var bucket = all[id] ?? Bucket(tokens: rate, updatedNanos: nowNanos, blockedUntilNanos: 0)
            let elapsed = Double(max(0, nowNanos - bucket.updatedNanos)) / 1e9
            bucket.tokens = min(rate, bucket.tokens + elapsed * rate) - Double(bytes)
            bucket.updatedNanos = nowNanos
            var throttleMs: Int64 = 0
            if bucket.tokens < 0 {
                throttleMs = min(Self.maxThrottleMs, Int64((-bucket.tokens / rate * 1000).rounded(.up)))
                bucket.blockedUntilNanos = nowNanos + throttleMs * 1_000_000
            }
            all[id] = bucket
            return Int32(throttleMs)
        }
    }

    /// Until when a client's connections must not be read (0 when they may).
    func blockedUntil(principal: String, clientId: String?) -> Int64 {
        guard !quotas.isEmpty else { return 0 }
        let user = Self.user(of: principal)
        let client = clientId ?? ""
        return buckets.withLockedValue { all in
            ["producer_byte_rate", "consumer_byte_rate"].compactMap { all[BucketKey(key: $0, user: user, clientId: client)]?.blockedUntilNanos }.max() ?? 0
        }
    }
}
