// The WebSocket killer: `--kill-ws-after MS` (PROTOCOL.md §7), a middlebox that lets the
// `101 Switching Protocols` through and then, MS ms later, resets the connection (a TCP RST on
// both sides: SO_LINGER with a zero timeout, RFC 9293 §3.10.7.1 "abort"). Clients see the
// handshake succeed and the stream die, the case a negotiating client has to notice.
// The clock starts when the 101 reaches the client: its arrival at the proxy plus `--delay`.

public struct WebSocketKiller {
    public let afterNanos: Int64
    /// When the reset is due; nil until a 101 has been seen.
    public private(set) var deadline: Int64?

    public init(afterNanos: Int64) { self.afterNanos = afterNanos }

    /// The response direction saw a 101 at `now`. Only the first one counts.
    public mutating func switchedProtocols(now: Int64) {
        if deadline == nil { deadline = now + afterNanos }
    }

    public func isDue(now: Int64) -> Bool { deadline.map { now >= $0 } ?? false }
}

/// The cutter: `--cut-every S` (PROTOCOL.md §7), a restart or failover that closes every
/// connection at once, every S s from the proxy's start. Every loop uses the same grid, so the
/// cuts of all loops land together. A cut at instant T closes the connections that were open at
/// T: each loop runs its cut a little after T (later still on a busy machine), and a client that
/// one loop cut and that reconnected at once may already sit on another loop by then. That new
/// connection came after the failover, so it lives until the next cut.
public struct CutSchedule {
    public let start: Int64
    public let periodNanos: Int64

    public init(start: Int64, periodNanos: Int64) {
        precondition(periodNanos > 0)
        self.start = start; self.periodNanos = periodNanos
    }

    /// The first cut strictly after `now`.
    public func nextCut(after now: Int64) -> Int64 {
        guard now >= start else { return start + periodNanos }
        return start + ((now - start) / periodNanos + 1) * periodNanos
    }

    /// Whether the cut due at `cutAt` closes a connection accepted at `acceptedAt`.
    public static func cuts(acceptedAt: Int64, cutAt: Int64) -> Bool { acceptedAt < cutAt }
}
