// RaceContext: what every client of one race shares — the loop, where to connect (the server,
// or the proxy of `--via`), one read buffer, the run's id range and start, the reconnect
// settings of PROTOCOL.md §8, and each transport's LatencyBook. Loop thread only.
import WireLoop

final class RaceContext {
    let loop: EventLoop
    let endpoint: RaceEndpoint
    let readBuffer: UnsafeMutableRawBufferPointer
    /// Which request headers the clients send (`race --headers`).
    var headers = RequestHeaderSet.minimal
    /// Server clock minus ours (µs); 0 on the same host.
    var clockOffsetMicros: Int64 = 0
    /// First id of the run (server latest at start + 1); Int.max before the run starts.
    var firstID = Int.max
    /// Last id of the run, known once it ended.
    var lastID: Int?
    var histograms: [RaceTransport: LatencyBook] = [:]
    /// Monotonic ns when the run started; 0 before.
    var runStartNanos: Int64 = 0
    /// The reconnect policy every client starts with (PROTOCOL.md §8 --reconnect).
    var reconnect = ReconnectKind.jitter
    /// --fallback-after, for auto clients.
    var fallbackAfterNanos = AutoNegotiation.defaultFallbackAfterNanos
    /// Called when a client is connected and subscribed (or failed trying).
    var clientReady: (RaceClient) -> Void = { _ in }
    /// Called when a client has closed for good after the run.
    var clientDone: (RaceClient) -> Void = { _ in }

    init(loop: EventLoop, endpoint: RaceEndpoint) {
        self.loop = loop
        self.endpoint = endpoint
        readBuffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 64 * 1024, alignment: 16)
    }
    deinit { readBuffer.deallocate() }

    var runOver: Bool { lastID != nil }
    /// The race's grace is over: clients still closing close at once (no lingering close).
    var lingerOver = false
}
