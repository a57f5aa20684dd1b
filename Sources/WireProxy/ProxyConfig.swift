// The settings of one `wirelab proxy` (PROTOCOL.md §7), already validated by the command line.
// Times are kept as the user gave them (ms or s, fractional) and turned into nanoseconds here.
import WireLoop

public struct ProxyConfig {
    public var upstreamHost = "127.0.0.1"
    public var upstreamPort = 8080
    /// The URL as the user wrote it, for the first stdout line.
    public var upstreamURL = "http://127.0.0.1:8080"
    public var host = "127.0.0.1"
    public var port = 0
    public var loops = 0                  // 0: half the cores, at least one (Proxy.defaultLoops)

    public var delayMs = 0.0
    public var jitterMs = 0.0
    public var bandwidthKbit: Double?
    public var stallEverySeconds: Double?
    public var stallMs: Double?
    public var bufferKiB: Int?
    public var idleTimeoutSeconds: Double?
    public var stripUpgrade = false
    public var killWebSocketAfterMs: Double?
    public var cutEverySeconds: Double?

    /// Bound on what one direction of one connection holds (its queues); past it the relay stops
    /// reading that direction's source. The response buffer's own threshold comes on top.
    public var maxQueueBytes = 1 << 20

    public init() {}

    static func nanos(ms: Double) -> Int64 { Int64((ms * 1e6).rounded()) }

    /// What each direction does. `request` is client → server, `response` server → client.
    func directionSettings(request: Bool) -> DirectionSettings {
        var s = DirectionSettings()
        s.delayNanos = Self.nanos(ms: delayMs)
        s.jitterNanos = Self.nanos(ms: jitterMs)
        s.kilobitsPerSecond = bandwidthKbit
        if let every = stallEverySeconds, let ms = stallMs, ms > 0 {
            s.stallPeriodNanos = LoopClock.nanos(seconds: every)
            s.stallDurationNanos = Self.nanos(ms: ms)
        }
        if request {
            s.transform = stripUpgrade ? .stripUpgrade : .none
        } else if let kib = bufferKiB {
            s.transform = .buffer(thresholdBytes: kib * 1024)
        } else if killWebSocketAfterMs != nil {
            s.transform = .buffer(thresholdBytes: nil)      // watch for the 101 only
        }
        return s
    }

    var directionBound: Int { maxQueueBytes + (bufferKiB ?? 0) * 1024 }

    /// `http://HOST:PORT[/...]` (or `ws://`) to host and port; nil when it is not such a URL.
    public static func parseUpstream(_ url: String) -> (host: String, port: Int)? {
        var rest: Substring
        var defaultPort = 80
        if url.hasPrefix("http://") { rest = url.dropFirst(7) }
        else if url.hasPrefix("ws://") { rest = url.dropFirst(5) }
        else { return nil }
        if let slash = rest.firstIndex(where: { $0 == "/" || $0 == "?" }) { rest = rest[..<slash] }
        guard !rest.isEmpty, !rest.contains("@") else { return nil }
        var host: Substring
        var portText: Substring?
        if rest.hasPrefix("[") {
            guard let close = rest.firstIndex(of: "]") else { return nil }
            host = rest[rest.index(after: rest.startIndex)..<close]
            let after = rest[rest.index(after: close)...]
            if !after.isEmpty { guard after.hasPrefix(":") else { return nil }; portText = after.dropFirst() }
        } else if let colon = rest.lastIndex(of: ":") {
            host = rest[..<colon]
            portText = rest[rest.index(after: colon)...]
        } else {
            host = rest
        }
        if let p = portText {
            guard let n = Int(p), (1...65535).contains(n) else { return nil }
            defaultPort = n
        }
        guard !host.isEmpty else { return nil }
        return (String(host), defaultPort)
    }
}
