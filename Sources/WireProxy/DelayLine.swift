// The delay line: `--delay MS` and `--jitter MS` (PROTOCOL.md §7).
//
// A chunk that enters at time t leaves at t + d, where d is the delay, or with jitter a value
// drawn uniformly from [delay - jitter, delay + jitter] and never below 0. Nothing sleeps: each
// chunk carries its departure time and the relay asks the loop's timer heap to wake it then.
//
// Order is kept, as TCP keeps it (RFC 9293 §3.10.7.4: segments are delivered "in sequence"):
// a chunk never departs before its predecessor, so a chunk that drew a short delay behind one
// that drew a long delay waits for it. Departure times are therefore non-decreasing and the line
// is a plain FIFO; only the head can be due.

public struct DelayLine {
    public let delayNanos: Int64
    public let jitterNanos: Int64
    private var rng: SplitMix64
    private var chunks: [(departure: Int64, bytes: [UInt8])] = []
    private var head = 0
    private var lastDeparture = Int64.min
    public private(set) var heldBytes = 0
    /// Chunks that were held (the "fired" count the proxy reports).
    public private(set) var chunksDelayed = 0

    public init(delayNanos: Int64, jitterNanos: Int64, seed: UInt64) {
        self.delayNanos = delayNanos
        self.jitterNanos = jitterNanos
        rng = SplitMix64(state: seed)
    }

    /// True when the line holds nothing back (no delay, no jitter).
    public var isTransparent: Bool { delayNanos == 0 && jitterNanos == 0 }
    public var isEmpty: Bool { head == chunks.count }

    /// This chunk's own delay: uniform in [delay - jitter, delay + jitter], clamped at 0.
    mutating func drawDelay() -> Int64 {
        guard jitterNanos > 0 else { return delayNanos }
        let span = UInt64(2 * jitterNanos + 1)
        let offset = Int64(rng.next() % span) - jitterNanos
        return max(0, delayNanos + offset)
    }

    /// A chunk arrives at `now`. Returns its departure time.
    @discardableResult
    public mutating func push(_ bytes: [UInt8], now: Int64) -> Int64 {
        let departure = max(now + drawDelay(), lastDeparture)   // never overtake the predecessor
        lastDeparture = departure
        chunks.append((departure, bytes))
        heldBytes += bytes.count
        chunksDelayed += 1
        return departure
    }

    /// The departure time of the oldest chunk, nil when empty.
    public var nextDeparture: Int64? { isEmpty ? nil : chunks[head].departure }

    /// The oldest chunk if it is due at `now`.
    public mutating func popDue(now: Int64) -> [UInt8]? {
        guard head < chunks.count, chunks[head].departure <= now else { return nil }
        let bytes = chunks[head].bytes
        chunks[head].bytes = []
        head += 1
        heldBytes -= bytes.count
        if head == chunks.count {
            chunks.removeAll(keepingCapacity: chunks.capacity <= 64)
            head = 0
        } else if head >= 64 && head * 2 >= chunks.count {
            chunks.removeFirst(head)     // amortized: compact once half the array is spent
            head = 0
        }
        return bytes
    }
}

/// SplitMix64 (Steele, Lea, Flood 2014): a tiny seeded generator, so a test can replay the same
/// jitter and each connection can draw its own without locks.
public struct SplitMix64: RandomNumberGenerator {
    var state: UInt64
    public init(state: UInt64) { self.state = state }
    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
