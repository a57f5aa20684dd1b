// The stall: `--stall-every S --stall-ms MS` (PROTOCOL.md §7).
//
// A lost segment stops a TCP stream until its retransmission arrives: every byte behind it
// waits, even bytes that arrived fine (head-of-line blocking). We model the effect, not the
// loss: every `period` the direction stops forwarding for `duration`. Each connection and
// direction starts at its own random phase, so a thousand clients do not stall in lockstep.
//
// Windows: [start + phase + k·period, start + phase + k·period + duration), k = 0, 1, 2, ...

public struct StallSchedule {
    public let periodNanos: Int64
    public let durationNanos: Int64
    /// Start of the first window (connection start + random phase in [0, period)).
    public let firstWindow: Int64
    private var lastCountedWindow: Int64 = -1
    /// Windows that held bytes back (the "fired" count).
    public private(set) var stalls = 0

    public init(periodNanos: Int64, durationNanos: Int64, start: Int64, phaseNanos: Int64) {
        precondition(periodNanos > 0 && durationNanos < periodNanos)
        self.periodNanos = periodNanos
        self.durationNanos = durationNanos
        firstWindow = start + phaseNanos
    }

    /// nil when forwarding may go on at `now`, else when the current window ends.
    public func stalledUntil(now: Int64) -> Int64? {
        let x = now - firstWindow
        guard x >= 0 else { return nil }
        let into = x % periodNanos
        return into < durationNanos ? now + (durationNanos - into) : nil
    }

    /// Like `stalledUntil`, and counts the window once when it actually held bytes.
    public mutating func blocks(now: Int64) -> Int64? {
        guard let end = stalledUntil(now: now) else { return nil }
        let window = (now - firstWindow) / periodNanos
        if window != lastCountedWindow { lastCountedWindow = window; stalls += 1 }
        return end
    }
}
