import Foundation
import Synchronization

/// Token buckets in memory, one per key (a certificate's fingerprint, a client address): each holds up to `burst`
/// tokens and gains `perMinute` a minute; a login attempt takes one. Per instance: behind a load balancer each
/// instance counts its own attempts, so the limit for the whole portal is the instances times this one.
final class LoginRateLimiter: Sendable {
    struct Bucket {
        var tokens: Double
        var updated: Date
    }

    let burst: Double
    let perSecond: Double
    private let buckets = Mutex<[String: Bucket]>([:])
    /// Buckets kept at most; the fullest (oldest) are dropped first, which forgets nothing a limit needs.
    private let capacity = 100_000

    init(burst: Int, perMinute: Double) {
        self.burst = Double(max(burst, 1))
        self.perSecond = max(perMinute, 0) / 60
    }

    /// Takes a token for `key` at `date`; nil when one was there, else the seconds until one will be.
    func take(_ key: String, at date: Date) -> TimeInterval? {
        buckets.withLock { buckets in
            var bucket = buckets[key] ?? Bucket(tokens: burst, updated: date)
            let elapsed = max(date.timeIntervalSince(bucket.updated), 0)
            bucket.tokens = min(burst, bucket.tokens + elapsed * perSecond)
            bucket.updated = date
            if bucket.tokens >= 1 {
                bucket.tokens -= 1
                buckets[key] = bucket
                if buckets.count > capacity { Self.trim(&buckets, at: date, burst: burst, perSecond: perSecond) }
                return nil
            }
            buckets[key] = bucket
            return perSecond > 0 ? (1 - bucket.tokens) / perSecond : .infinity
        }
    }

    /// Drops the buckets that have filled up again (they are as if new).
    private static func trim(_ buckets: inout [String: Bucket], at date: Date, burst: Double, perSecond: Double) {
        buckets = buckets.filter { $0.value.tokens + date.timeIntervalSince($0.value.updated) * perSecond < burst }
    }
}
