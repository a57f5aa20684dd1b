// ReconnectPolicy: how long a client waits before reconnecting after its connection dropped
// (PROTOCOL.md §8 `--reconnect`). Sans-I/O: it takes "the connection dropped" and "an event
// arrived" and answers with a delay; the client's loop does the waiting.
//
//     immediate   0
//     backoff     100 ms, 200 ms, 400 ms, ... at most 5 s: base × 2^attempt, capped
//     jitter      uniform in [0, that backoff] ("full jitter")
//
// The attempt counter goes back to 0 when an event arrives, not when a connection opens: a
// middlebox that accepts every connection and kills it 200 ms later (PROTOCOL.md §7
// `--kill-ws-after`) must not reset the backoff each time, or clients hammer it forever.
//
// Why jitter: after a restart (`--cut-every`) every client drops in the same millisecond. With
// `immediate` or plain `backoff` they all come back in the same millisecond too, again and
// again (a "thundering herd"); full jitter spreads each wave over the whole backoff window, so
// the peak of connection attempts per second falls by the window / the time one connect takes.
// This is the policy the AWS Architecture Blog's "Exponential Backoff And Jitter" (2015)
// measured best, and what the classroom page's panels use too.

public enum ReconnectKind: String, CaseIterable, Equatable, Sendable {
    case immediate, backoff, jitter
}

public struct ReconnectPolicy {
    public let kind: ReconnectKind
    /// The first backoff and the cap, in nanoseconds.
    public let baseNanos: Int64
    public let capNanos: Int64
    /// Drops since the last event: 0 before the first drop.
    public private(set) var attempt = 0
    /// Where full jitter draws from; injected so tests can pin it.
    private var random: any RandomNumberGenerator

    public static let defaultBaseNanos: Int64 = 100_000_000      // 100 ms
    public static let defaultCapNanos: Int64 = 5_000_000_000     // 5 s

    public init(_ kind: ReconnectKind, baseNanos: Int64 = defaultBaseNanos, capNanos: Int64 = defaultCapNanos,
                random: any RandomNumberGenerator = SystemRandomNumberGenerator()) {
        self.kind = kind
        self.baseNanos = baseNanos
        self.capNanos = capNanos
        self.random = random
    }

    /// The capped exponential backoff for the current attempt: min(cap, base × 2^attempt).
    public var backoffNanos: Int64 {
        // 2^attempt overflows long after the cap: stop doubling once it is reached.
        var b = baseNanos
        for _ in 0..<attempt where b < capNanos { b *= 2 }
        return min(b, capNanos)
    }

    /// The connection dropped: how long to wait before reconnecting. Each call is one attempt.
    public mutating func delayAfterDrop() -> Int64 {
        defer { attempt += 1 }
        switch kind {
        case .immediate:
            return 0
        case .backoff:
            return backoffNanos
        case .jitter:
            // One 64-bit draw scaled onto [0, window]: no rejection loop, so a scripted source
            // in a test maps its smallest and largest word onto both ends exactly.
            let word = random.next()
            return Int64((Double(word >> 11) / Double((UInt64(1) << 53) - 1)) * Double(backoffNanos))
        }
    }

    /// An event arrived: the connection works, so the next drop starts from the base again.
    public mutating func eventArrived() {
        attempt = 0
    }
}
