// What the proxy counts, per loop while it runs and summed at exit into the one JSON line that
// `wirelab proxy` prints (PROTOCOL.md §7). Bytes are counted where they cross a socket.

/// How often each impairment fired.
public struct ImpairmentCounts: Equatable {
    public var delay = 0          // chunks held by the delay line (with or without jitter)
    public var bandwidth = 0      // times a direction found its token bucket empty
    public var stall = 0          // stall windows that held bytes back
    public var buffer = 0         // response bodies held by the buffer
    public var idleTimeout = 0    // connections closed for idleness
    public var stripUpgrade = 0   // requests whose Upgrade was removed
    public var killWebSocket = 0  // connections reset after a 101
    public var cut = 0            // connections closed by --cut-every
    public var cutRounds = 0      // times --cut-every fired
    public init() {}

    public static func + (a: Self, b: Self) -> Self {
        var c = a
        c.delay += b.delay; c.bandwidth += b.bandwidth; c.stall += b.stall; c.buffer += b.buffer
        c.idleTimeout += b.idleTimeout; c.stripUpgrade += b.stripUpgrade
        c.killWebSocket += b.killWebSocket; c.cut += b.cut; c.cutRounds = max(a.cutRounds, b.cutRounds)
        return c
    }
}

public struct ProxyCounters: Equatable {
    public var connections = 0            // accepted from clients
    public var upstreamFailures = 0       // answered 502: the upstream refused or was unreachable
    public var downstreamBytesIn = 0      // read from clients
    public var downstreamBytesOut = 0     // written to clients
    public var upstreamBytesIn = 0        // read from the upstream server
    public var upstreamBytesOut = 0       // written to the upstream server
    public var fired = ImpairmentCounts()
    public init() {}

    public static func + (a: Self, b: Self) -> Self {
        var c = a
        c.connections += b.connections; c.upstreamFailures += b.upstreamFailures
        c.downstreamBytesIn += b.downstreamBytesIn; c.downstreamBytesOut += b.downstreamBytesOut
        c.upstreamBytesIn += b.upstreamBytesIn; c.upstreamBytesOut += b.upstreamBytesOut
        c.fired = a.fired + b.fired
        return c
    }

    /// The exit line: one JSON object, keys in a fixed order.
    public var json: String {
        let f = fired
        return "{\"connections\":\(connections),\"upstream_failures\":\(upstreamFailures),"
            + "\"downstream\":{\"bytes_in\":\(downstreamBytesIn),\"bytes_out\":\(downstreamBytesOut)},"
            + "\"upstream\":{\"bytes_in\":\(upstreamBytesIn),\"bytes_out\":\(upstreamBytesOut)},"
            + "\"fired\":{\"delay\":\(f.delay),\"bandwidth\":\(f.bandwidth),\"stall\":\(f.stall),"
            + "\"buffer\":\(f.buffer),\"idle_timeout\":\(f.idleTimeout),\"strip_upgrade\":\(f.stripUpgrade),"
            + "\"kill_ws\":\(f.killWebSocket),\"cut\":\(f.cut),\"cut_rounds\":\(f.cutRounds)}}"
    }
}
