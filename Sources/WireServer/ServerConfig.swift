// What `wirelab serve` can be told (PROTOCOL.md §4), with the protocol reference's defaults.
import WireLoop

public struct ServerConfig {
    public var host = "127.0.0.1"
    public var port = 8080
    /// Generated events per second; 0 generates none.
    public var rate = 2.0
    /// `data` length of generated events, in characters.
    public var size = 64
    /// Events kept for resume.
    public var history = 10_000
    /// Seconds between SSE heartbeats / WebSocket pings.
    public var heartbeat = 15.0
    /// Milliseconds sent as `retry: MS` at the start of every SSE stream (WHATWG HTML §9.2.6:
    /// the client's reconnection time); nil sends none and EventSource keeps its default.
    public var sseRetryMillis: Int? = nil
    /// Largest WebSocket message accepted (1009 beyond).
    public var maxMessage = 1_048_576
    /// Allowed `Origin` values; empty means any.
    public var allowOrigins: [String] = []
    /// Loop threads; default one per core.
    public var loops = 0
    public var selector = SelectorKind.platformDefault
    /// Token for POST /control from non-loopback callers; random per start when nil.
    public var controlToken: String? = nil
    /// POST /control trusts loopback callers (PROTOCOL.md §2). Tests turn this off to play a
    /// remote caller without leaving 127.0.0.1.
    public var trustLoopback = true
    /// Monotonic time for every loop's timers (long-poll timeouts, heartbeats, the generator).
    /// Tests inject a `ManualClock` to check what happens at which virtual time.
    public var clock: MonotonicTimeSource = SystemMonotonicClock.shared
    /// The wall clock that stamps events (`ts`) and answers GET /time, µs since the epoch.
    /// Tests inject a shifted one to play a server on another host whose clock is off by a known
    /// skew (`serve --test-clock-skew-ms` does the same from the command line).
    public var wallClock: () -> Int64 = { LoopClock.wallMicros() }

    // Limits of PROTOCOL.md §3.
    public var maxHeadBytes = 16 * 1024
    public var maxBodyBytes = 64 * 1024
    /// Seconds to complete a request head (408 after).
    public var headTimeout = 10.0
    /// Seconds an idle keep-alive connection is kept.
    public var idleTimeout = 120.0
    /// A subscriber whose unsent bytes exceed this is too slow and is dropped.
    public var maxPendingOutput = 16 * 1024 * 1024

    public init() {}
}
