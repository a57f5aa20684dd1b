// A back-of-the-envelope model of each transport: what latency and how many bytes per event to
// expect, from the event rate, the payload size, the poll interval, the round-trip time and the
// sizes of the fixed parts of each exchange. Lessons print it next to the measurement, and the
// tests hold the model to the measurement within stated bounds. One page, on purpose.
//
// Assumptions, said out loud:
//  - events are periodic (the generator ticks on a grid), not random;
//  - a short poller's timer is not in phase with the generator, so an event waits on average
//    half a poll interval for the next poll;
//  - "one way" is half a round trip of a small HTTP exchange (server turn included);
//  - not modelled: the hop between the generator's thread and the subscriber's loop, and the
//    client's own wake-up. On loopback they add a few hundred µs to every push delivery, which
//    is why measured push latencies sit above the prediction; on a real network they vanish in
//    the round trip.

public enum ModelTransport: String, CaseIterable {
    case poll, longpoll, sse, ws
}

/// Bytes of the fixed parts of each exchange, taken from a real exchange (see `measure`) or from
/// the defaults, which match `wirelab serve` and `wirelab race` on loopback.
public struct WireSizes {
    public var pollRequest = 130          // GET /poll?since=N&client=race-poll-1 HTTP/1.1 + Host, ...
    public var pollResponseHead = 136     // status line, Date, Content-Type, Content-Length, Cache-Control
    public var pollBodyOverhead = 33      // {"events":[],"next":N,"missed":0} around the events
    public var eventJSONOverhead = 52     // {"id":N,"ts":...,"topic":"tick","data":""} minus the data
    public var sseHandshake = 260         // request + response head, once per stream
    public var sseEventOverhead = 36      // "id: N\nevent: tick\ndata: " + "\n\n" + chunk framing
    public var wsHandshake = 330          // upgrade request + 101 response, once per connection
    public init() {}
}

public struct ModelInputs {
    public var rate: Double               // events per second
    public var size: Int                  // characters of data per event
    public var pollInterval: Double       // seconds
    public var rtt: Double                // seconds, one round trip on this path
    public var duration: Double           // seconds
    public var sizes = WireSizes()
    public init(rate: Double, size: Int, pollInterval: Double, rtt: Double, duration: Double) {
        self.rate = rate; self.size = size; self.pollInterval = pollInterval; self.rtt = rtt; self.duration = duration
    }
    var eventJSON: Double { Double(sizes.eventJSONOverhead + size) }
    var events: Double { max(rate * duration, 1) }
}

public struct Prediction {
    public var latencyMeanMs: Double
    public var bytesPerEvent: Double
    public var requests: Double
    public var emptyResponses: Double
}

public enum TransportModel {
    public static func predict(_ transport: ModelTransport, _ m: ModelInputs) -> Prediction {
        let oneWayMs = m.rtt / 2 * 1000
        switch transport {
        case .poll:
            // A poll every interval, whatever happens. With r·i events per interval, a share
            // max(0, 1 − r·i) of the answers come back empty.
            let polls = max(1, (m.duration / m.pollInterval).rounded(.down))
            let emptyShare = max(0, 1 - m.rate * m.pollInterval)
            let perPoll = Double(m.sizes.pollRequest + m.sizes.pollResponseHead + m.sizes.pollBodyOverhead)
            let bytes = polls * perPoll + m.events * (m.eventJSON + 1)
            return Prediction(latencyMeanMs: m.pollInterval / 2 * 1000 + oneWayMs,
                              bytesPerEvent: bytes / m.events, requests: polls, emptyResponses: polls * emptyShare)
        case .longpoll:
            // The question is always waiting, so an event leaves at once — unless it comes while
            // the next question is on its way (a round trip), in which case it rides along with
            // the events that came during that trip: r·rtt extra events per answer.
            let perAnswer = 1 + m.rate * m.rtt
            let answers = m.events / perAnswer
            let perExchange = Double(m.sizes.pollRequest + m.sizes.pollResponseHead + m.sizes.pollBodyOverhead)
            let bytes = answers * perExchange + m.events * (m.eventJSON + 1)
            let waited = m.rate * m.rtt / perAnswer * m.rtt / 2 * 1000
            return Prediction(latencyMeanMs: oneWayMs + waited, bytesPerEvent: bytes / m.events,
                              requests: answers + 1, emptyResponses: 0)
        case .sse:
            // One request; then each event costs its block and its chunk framing.
            let chunkDigits = Double(String(Int(m.eventJSON) + 30, radix: 16).count)
            let perEvent = Double(m.sizes.sseEventOverhead) + chunkDigits + m.eventJSON
            return Prediction(latencyMeanMs: oneWayMs,
                              bytesPerEvent: perEvent + Double(m.sizes.sseHandshake) / m.events,
                              requests: 1, emptyResponses: 0)
        case .ws:
            // One handshake; then each event costs a 2-byte frame header (4 past 125 bytes,
            // 10 past 65,535) and the JSON itself (RFC 6455 §5.2).
            let json = m.eventJSON
            let header: Double = json <= 125 ? 2 : (json <= 65_535 ? 4 : 10)
            return Prediction(latencyMeanMs: oneWayMs,
                              bytesPerEvent: header + json + Double(m.sizes.wsHandshake) / m.events,
                              requests: 1, emptyResponses: 0)
        }
    }
}
