// ClientLedger: everything one race client has to show for itself, kept apart from the socket
// that earns it, so that an `auto` client (PROTOCOL.md §8) that moves from WebSocket to SSE to
// polling keeps one set of books: its byte counts, the events it received, its reconnect
// policy and its reconnects carry across the transports it tries.
//
// A drop and its recovery (PROTOCOL.md §8 `reconnects`, `reconnect_ms`):
//
//     connection lost ──▶ dropped(at:) ─ outage starts (unless one is open)
//     policy's delay over, connect ──▶ reconnecting() ─ reconnects += 1
//     first event after ──▶ eventArrived(at:) ─ reconnect_ms = now − outage start; policy reset
//
// A reconnect is counted when it is attempted, not when the drop is noticed: a client dropped
// just as the run ends, with every event already in hand, never reconnects.
//
// Two drops before any event make one outage, measured from the first: what a user waited.
// Loop thread only.
import WireLoop

final class ClientLedger {
    var counts = ClientCounts()
    var receipts = EventReceipts()
    /// First receipts' latency sum (µs) and count, for per-client means (a lesson's median and
    /// spread over clients and runs).
    var latencySumMicros: Int64 = 0
    var latencyCount = 0
    var policy: ReconnectPolicy
    /// Reconnections after a drop or a failed step (the first connect is not one).
    var reconnects = 0
    /// Monotonic ns when the current outage began; nil while events flow.
    var outageStart: Int64?
    /// Monotonic ns of the first connect and of the first event (any id), 0 until then.
    var connectStarted: Int64 = 0
    var firstEventAt: Int64 = 0
    /// The transports used, in order: one for a fixed transport, the negotiated path for auto.
    var path: [RaceTransport]

    init(transport: RaceTransport, policy: ReconnectPolicy) {
        self.policy = policy
        path = [transport]
    }

    /// The connection dropped (or a step failed) at `now`.
    func dropped(at now: Int64) {
        if outageStart == nil { outageStart = now }
    }

    /// A connection is opened again after a drop.
    func reconnecting() {
        reconnects += 1
    }

    /// An event arrived at `now`: returns the outage it ends (ns), if one was open.
    func eventArrived(at now: Int64) -> Int64? {
        if firstEventAt == 0 { firstEventAt = now }
        policy.eventArrived()
        guard let start = outageStart else { return nil }
        outageStart = nil
        return now - start
    }

    var pathText: String { path.map(\.rawValue).joined(separator: ">") }
    /// From the first connect to the first event, ms; nil if none arrived.
    var firstEventMillis: Double? {
        firstEventAt > 0 && connectStarted > 0 ? Double(firstEventAt - connectStarted) / 1e6 : nil
    }
}

/// What the clients of one transport share: the latency histogram, the reconnect times and the
/// connection attempts per 100 ms (a class: no copy per record). Loop thread only.
final class LatencyBook {
    var histogram = LatencyHistogram()
    /// Drop to first event after it, µs (PROTOCOL.md §8 `reconnect_ms`).
    var reconnect = LatencyHistogram()
    /// Connection attempts per 100 ms bucket since the run started (`connects_per_100ms`).
    var connects: [Int] = []

    static let bucketNanos: Int64 = 100_000_000

    /// A connection attempt at `now`; before the run (`runStart` 0 or later) it is not bucketed.
    func noteConnect(at now: Int64, runStart: Int64) {
        guard runStart > 0, now >= runStart else { return }
        let i = Int((now - runStart) / Self.bucketNanos)
        guard i < 1_000_000 else { return }     // a day of buckets: more is a clock gone wrong
        if i >= connects.count { connects += [Int](repeating: 0, count: i + 1 - connects.count) }
        connects[i] += 1
    }
}
