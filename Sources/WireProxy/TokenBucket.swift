// The token bucket: `--bandwidth KBIT` (PROTOCOL.md §7), one per direction of each connection.
//
// Tokens (bytes) drip in at the link rate, KBIT × 1000 / 8 bytes per second, into a bucket that
// holds at most `capacity`; sending n bytes takes n tokens. The bucket is small (10 ms of the
// rate, at least one Ethernet-sized segment, 1500 bytes) so the link cannot burst far above
// its rate: over any long stretch the bytes sent are rate × time + capacity.
// The cap is for idle links only: while bytes wait (the last take could not send them all),
// a late wake-up of the loop does not lose the tokens that dripped in meanwhile, so a loaded
// machine delivers the rate, not less.
// Time is passed in (monotonic ns), never read here, so tests run on a virtual clock.

public struct TokenBucket {
    public let bytesPerSecond: Double
    public let capacity: Double
    private var tokens: Double
    private var last: Int64
    /// Bytes were left waiting at the last take: the link has been busy since.
    private var backlogged = false
    /// How often a sender found the bucket empty and had to wait (the "fired" count).
    public private(set) var waits = 0

    public init(kilobitsPerSecond: Double, now: Int64) {
        bytesPerSecond = kilobitsPerSecond * 1000 / 8
        capacity = max(1500, bytesPerSecond * 0.010)
        tokens = capacity
        last = now
    }

    private mutating func refill(now: Int64) {
        guard now > last else { return }
        let dripped = tokens + Double(now - last) * bytesPerSecond / 1e9
        tokens = backlogged ? dripped : min(capacity, dripped)
        last = now
    }

    /// How many of `wanted` bytes may go now; takes their tokens.
    public mutating func take(upTo wanted: Int, now: Int64) -> Int {
        refill(now: now)
        let n = min(wanted, Int(tokens))
        tokens -= Double(n)
        backlogged = n < wanted
        if backlogged { waits += 1 } else { tokens = min(tokens, capacity) }
        return n
    }

    /// When enough tokens for `wanted` bytes (at most a bucketful) will have dripped in.
    public func readyTime(for wanted: Int, now: Int64) -> Int64 {
        let need = min(Double(wanted), capacity) - tokens
        if need <= 0 { return now }
        return now + Int64((need * 1e9 / bytesPerSecond).rounded(.up))
    }
}
