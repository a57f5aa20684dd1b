// A back-of-the-envelope model of each transport (version 2): what latency and how many bytes
// per event to expect, each figure with the bound the model can promise. Lessons print it next
// to the measurement, and a test holds every lesson's measurement to it within that bound.
//
// Nothing here is a guess about this machine: the sizes, the segment counts and the loop's own
// publish-to-receive time come from a short calibration race at the start of each lesson
// (TransportModelCalibration.swift). What the model adds is the *shape*:
//
//  latency
//   - push (SSE, WebSocket): the calibrated publish-to-receive time L0 (thread hop from the
//     generator to the loop, the write, the client's wake-up and parse), plus the fan-out: one
//     broadcast writes every subscriber in turn (interleaved, Worker.broadcast) and the client
//     reads them in turn, so with S subscribers an event waits on average (S − 1)/2 × c, with c
//     the calibrated cost per subscriber.
//   - long polling: the same L0, plus the events that come while the next question is on its
//     way (a round trip): a share r·rtt of them waits about half a round trip more.
//   - short polling: an event waits for the next poll, then a round trip. The wait is uniform
//     over the poll interval I only when events land on many phases of the poll timer: with
//     events every 1/r seconds, a run sees the phases spaced 1/r apart, so the mean of one
//     client is I/2 ± min(I, 1/r)/2 (finding 8: when r·I < 1 every event of a run waits the
//     same phase, anywhere in [0, I)).
//  distance (lesson 9: `race --via "--delay D --jitter J"`, PROTOCOL.md §7): each chunk crosses
//  the proxy in D ± J (uniform, never below 0: a mean one-way time d = D, or (D + J)²/4J when
//  J > D), in each direction.
//   - push: + d, the event's one trip down.
//   - short polling: + d: the wait for the next poll is still about I/2 (the poll timer's phase
//     moves, not its spacing), then the answer travels down.
//   - long polling: + d, and an event that comes while the next question travels waits for
//     it: after each answer leaves, the server holds no question for a round trip W = 2d + rtt.
//     Events come every T = 1/r (a timer, not at random): if W < T the question is always back
//     in time; if W > T every event lands in a gap and waits W/2 on average, and one answer
//     carries W/T events. The share of gaps longer than T follows from the jitter (the sum of
//     two uniform delays has a triangular distribution).
//  bytes per event (TCP payload, then wire with TCP/IP headers)
//   - polling: each exchange costs request + response head + body wrapper, plus its segments;
//     events share answers (r·I per poll; 1 + r·rtt per long-poll answer).
//   - push: each event costs its framing (SSE fields + chunk line; WebSocket 2/4/10-byte header,
//     RFC 6455 §5.2) and its segments (a data segment and, often, an ACK); the handshake and the
//     connection's opening and closing segments are shared by all events of the run.
//   - heartbeats: SSE writes `: hb` in each silence longer than the heartbeat; WebSocket pings
//     every heartbeat whatever happens, and the client answers with a pong.

public enum ModelTransport: String, CaseIterable {
    case poll, longpoll, sse, ws
}

public struct ModelInputs {
    public var rate: Double               // events per second
    public var size: Int                  // characters of data per event
    public var pollInterval: Double       // seconds
    public var rtt: Double                // seconds, one round trip on this path
    public var duration: Double           // seconds
    /// Push subscribers on the server (SSE + WebSocket clients), for the fan-out term. The cost
    /// per subscriber is calibrated with 300 of them; far past that it grows (caches, a longer
    /// epoll list), so the bound allows twice the term.
    public var subscribers = 1
    /// A transport whose streams the lesson drops once mid-run: it opens twice.
    public var dropped: ModelTransport?
    /// Seconds from the drop to the stream being open again (the client's reconnection time:
    /// `retry:` for SSE; 100 ms for race's clients otherwise).
    public var reconnectGap = 0.1
    /// Server heartbeat, seconds.
    public var heartbeat = 15.0
    /// A proxy's one-way delay and jitter (seconds) in each direction (`--via "--delay --jitter"`).
    public var delay = 0.0
    public var jitter = 0.0
    /// The mean one-way time through the proxy: delay + uniform(−jitter, +jitter), never below 0.
    public var oneWay: Double {
        guard jitter > delay else { return delay }
        return (delay + jitter) * (delay + jitter) / (4 * jitter)
    }
    /// The share of round trips (two independent one-way times, plus rtt) longer than `t`.
    func shareOfRoundTrips(longerThan t: Double) -> Double {
        let x = t - rtt - 2 * delay         // the two jitters' sum must exceed x
        guard jitter > 0 else { return x < 0 ? 1 : 0 }
        let j = jitter
        if x <= -2 * j { return 1 }
        if x >= 2 * j { return 0 }
        // Sum of two uniforms on [−j, j]: triangular on [−2j, 2j].
        return x < 0 ? 1 - (x + 2 * j) * (x + 2 * j) / (8 * j * j) : (2 * j - x) * (2 * j - x) / (8 * j * j)
    }
    public var calibration = ModelCalibration()
    public init(rate: Double, size: Int, pollInterval: Double, rtt: Double, duration: Double) {
        self.rate = rate; self.size = size; self.pollInterval = pollInterval; self.rtt = rtt; self.duration = duration
    }
    var events: Double { max(rate * duration, 1) }
    /// The event JSON (PROTOCOL.md §1): {"id":N,"ts":16 digits,"topic":"tick","data":"..."} is
    /// 54 bytes + the digits of the id + the data (finding 7: not 52 + data).
    var eventJSON: Double { 54 + Double(size) + Self.meanDigits(upTo: Int(events.rounded(.up)) + 50) }
    static func meanDigits(upTo n: Int) -> Double {
        guard n > 0 else { return 1 }
        var total = 0, power = 1, digits = 1
        while power <= n { total += (min(n, power * 10 - 1) - power + 1) * digits; power *= 10; digits += 1 }
        return Double(total) / Double(n)
    }
}

/// A figure and how far from it the measurement may be: measured within value ± bound.
public struct Bounded: Equatable {
    public var value: Double
    public var bound: Double
    public func holds(_ measured: Double) -> Bool { abs(measured - value) <= bound }
}

public struct Prediction {
    public var latency: Bounded
    public var bytes: Bounded
    public var wireBytes: Bounded
    public var requests: Double
    public var emptyResponses: Double
    /// The terms of bytes per event, as the ledger names them (payload bytes, then tcpip).
    public var ledger: [(String, Double)]
    // The names of version 1, still read by `lesson --predict`.
    public var latencyMeanMs: Double { latency.value }
    public var bytesPerEvent: Double { bytes.value }
}

public enum TransportModel {
    /// The mean wait (ms) of an event for the next short poll, over the client's phase φ
    /// (uniform in [0, I): ShortPollClient), for events spread evenly over a run of D seconds:
    /// the polls go at φ + I, φ + 2I, ... and once more at the end, so the first interval is
    /// longer than I and the last shorter. An interval of length L holds a share L/D of the
    /// events, which wait L/2 on average: mean = Σ L² / 2D. Also half the range over φ: one
    /// client has one φ, unknown before the run.
    static func pollWait(duration d: Double, interval i: Double) -> (mean: Double, halfRange: Double) {
        var means: [Double] = []
        for k in 0..<32 {
            let phi = (Double(k) + 0.5) / 32 * i
            var last = 0.0, sum = 0.0, t = phi + i
            while t < d { sum += (t - last) * (t - last); last = t; t += i }
            sum += (d - last) * (d - last)
            means.append(sum / 2 / d)
        }
        let mean = means.reduce(0, +) / Double(means.count)
        return (mean * 1000, (means.max()! - means.min()!) / 2 * 1000)
    }

    public static func predict(_ transport: ModelTransport, _ m: ModelInputs) -> Prediction {
        let c = m.calibration
        let rttMs = m.rtt * 1000
        let events = m.events
        let json = m.eventJSON
        let seg = c.ipHeaderBytes
        // Latency shared by pushes: L0 plus the fan-out. The bound is the machine's own jitter as
        // the calibration saw it: twice its p95 − p50, or its longest stall (one stalled event
        // moves the mean of a short run by that much over the run's events), and the fan-out
        // term again.
        let fanOutMs = Double(max(0, m.subscribers - 1)) / 2 * c.fanOutMicrosPerSubscriber / 1000
        // A dropped stream: the events of the gap g arrive when it reopens, waiting g/2 on
        // average; they are r·g of r·D events, so the mean grows by g²/2D. Discrete events make
        // it coarse: ± half an event spacing's share.
        let gapMs = m.dropped == transport ? m.reconnectGap * m.reconnectGap / 2 / m.duration * 1000 : 0
        let gapBound = m.dropped == transport ? gapMs + m.reconnectGap / m.duration * 500 / max(m.rate, 0.1) : 0
        // Distance: the mean one-way time, bounded by half the jitter (a client's mean over a
        // short run's few events) and 2 ms for the proxy's own timer and thread hops.
        let oneWayMs = m.oneWay * 1000
        let distanceBound = m.delay > 0 || m.jitter > 0 ? m.jitter * 500 + 2 : 0
        func pushLatency(_ base: Double, extra: Double = 0, extraBound: Double = 0) -> Bounded {
            Bounded(value: base + fanOutMs + gapMs + oneWayMs + extra,
                    bound: max(base, c.latencySpreadMs * 2, c.latencyStallMs, 0.3) + fanOutMs + gapBound + distanceBound + extraBound)
        }
        // A dropped stream reconnects once: a second handshake and connection.
        let opens = m.dropped == transport ? 2.0 : 1.0
        let connectionTCP = opens * (c.segmentsPerConnection * seg + 16)    // + 8 for each SYN's options
        // A stream subscribes before the run starts. The race holds the generator at rate 0
        // while it connects (PROTOCOL.md §5), but a tick already due on loop 0 when the hold
        // arrives can still reach a stream: its bytes would count, the event would not (it is
        // not the run's). Up to one such event is in every stream's bound.
        let early = m.eventJSON / m.events
        switch transport {
        case .poll:
            let polls = max(1, (m.duration / m.pollInterval).rounded(.down))
            let emptyShare = max(0, 1 - m.rate * m.pollInterval)
            let perPoll = c.pollRequest + c.pollResponseHead + c.pollWrapper
            let payloadBytes = polls * perPoll + events * (json + 1)
            let tcp = polls * c.segmentsPerPollExchange * seg + connectionTCP
            let wait = pollWait(duration: m.duration, interval: m.pollInterval)
            let phase = min(m.pollInterval, 1 / max(m.rate, 1e-9)) / 2 * 1000
            let bytesPE = payloadBytes / events
            return Prediction(latency: Bounded(value: wait.mean + rttMs + oneWayMs, bound: phase + wait.halfRange + max(rttMs, c.latencySpreadMs * 2, 0.3) + distanceBound),
                              bytes: Bounded(value: bytesPE, bound: perPoll / events + 0.1 * bytesPE),
                              wireBytes: Bounded(value: (payloadBytes + tcp) / events, bound: (perPoll + c.segmentsPerPollExchange * seg) / events + 0.15 * (payloadBytes + tcp) / events),
                              requests: polls, emptyResponses: polls * emptyShare,
                              ledger: [("headers", polls * (c.pollRequest + c.pollResponseHead) / events),
                                       ("framing", (polls * c.pollWrapper + events) / events), ("payload", json),
                                       ("tcpip", tcp / events)])
        case .longpoll:
            // The question is always waiting, so an event leaves at once — unless it comes while
            // the next question is on its way (a round trip, rtt_lp: the client's turn included).
            let trip = m.rtt
            // Distance: the round trip W without a question at the server, the share s of
            // gaps longer than the event spacing T, and the events an answer then carries.
            let far = m.delay > 0 || m.jitter > 0
            let gap = 2 * m.oneWay + trip
            let spacing = 1 / max(m.rate, 1e-9)
            let share = far ? m.shareOfRoundTrips(longerThan: spacing) : 0
            let perAnswer = 1 + m.rate * trip + share * max(0, gap / spacing - 1)
            let answers = events / perAnswer
            let perExchange = c.pollRequest + c.pollResponseHead + c.pollWrapper
            let payloadBytes = answers * perExchange + events * (json + 1)
            let tcp = answers * c.segmentsPerPollExchange * seg + connectionTCP
            let waited = m.rate * trip / perAnswer * trip / 2 * 1000
            let bytesPE = payloadBytes / events
            // Bursts: a late generator timer on a busy machine publishes several events at once,
            // and one answer carries them all. The share of answers saved grows with the rate;
            // we allow up to a third at 100 events/s (seen on a loaded 2-core machine).
            let burst = min(0.35, m.rate * 0.0035) * (perExchange + c.segmentsPerPollExchange * seg) * answers / events
            // The wait for the question: W/2 for the share s of events in a gap; bounded by a
            // quarter of it (events fall on few phases of a short run's gaps) and by the share's
            // own uncertainty near W ≈ T (a quarter of the gap either way).
            let gapWaitMs = share * gap / 2 * 1000
            let waitBound = far ? gapWaitMs / 4 + min(share, 1 - share) * gap * 250 : 0
            let farBytes = far ? 0.15 * bytesPE : 0
            return Prediction(latency: pushLatency(c.longPollLatencyMs + waited, extra: gapWaitMs, extraBound: waitBound),
                              bytes: Bounded(value: bytesPE, bound: perExchange / events + 0.12 * bytesPE + burst + farBytes),
                              wireBytes: Bounded(value: (payloadBytes + tcp) / events, bound: (far ? 0.33 : 0.18) * (payloadBytes + tcp) / events + perExchange / events + burst),
                              requests: answers + 1, emptyResponses: 0,
                              ledger: [("headers", answers * (c.pollRequest + c.pollResponseHead) / events),
                                       ("framing", (answers * c.pollWrapper + events) / events), ("payload", json),
                                       ("tcpip", tcp / events)])
        case .sse:
            // One request; then each event costs its block's fields and its chunk line.
            let blockLength = Int(json + c.sseFields)
            let framing = c.sseFields + Double(String(blockLength, radix: 16).count + 4)
            let silences = m.rate > 0 ? (1 / m.rate / m.heartbeat).rounded(.down) : (m.duration / m.heartbeat).rounded(.down)
            let heartbeats = silences * c.sseHeartbeatBytes
            let perEvent = framing + json + heartbeats
            let once = c.sseHandshake * opens
            let tcpPerEvent = (c.segmentsPerPushedEvent + silences * c.segmentsPerPushedEvent) * seg
            let tcp = tcpPerEvent + (connectionTCP + opens * c.pushOpeningSegments * seg) / events
            return Prediction(latency: pushLatency(c.sseLatencyMs),
                              bytes: Bounded(value: perEvent + once / events, bound: 0.05 * perEvent + 0.2 * once / events + 2 + early),
                              wireBytes: Bounded(value: perEvent + once / events + tcp, bound: 0.05 * perEvent + 0.2 * once / events + 0.25 * tcp + 2 + early),
                              requests: opens, emptyResponses: 0,
                              ledger: [("handshake", once / events), ("framing", framing), ("payload", json),
                                       ("heartbeats", heartbeats), ("tcpip", tcp)])
        case .ws:
            // One handshake; then each event costs a 2-byte frame header (4 past 125 bytes,
            // 10 past 65,535: RFC 6455 §5.2) and the JSON itself. Pings every heartbeat: 2 bytes
            // down, our masked pong 6 up (§5.5.2, §5.3).
            let header: Double = json <= 125 ? 2 : (json <= 65_535 ? 4 : 10)
            let pings = (m.duration / m.heartbeat).rounded(.down)
            let heartbeats = pings * 8 / events
            let once = c.wsHandshake * opens
            let tcpPerEvent = c.segmentsPerPushedEvent * seg
            // A ping and its pong are two small pushes: each a segment and, like an event, its ACK.
            let tcp = tcpPerEvent + (connectionTCP + (opens * c.pushOpeningSegments + pings * 2 * c.segmentsPerPushedEvent) * seg) / events
            let perEvent = header + json + c.wsClosing / events
            return Prediction(latency: pushLatency(c.wsLatencyMs),
                              bytes: Bounded(value: perEvent + heartbeats + once / events, bound: 0.2 * once / events + 0.02 * perEvent + 2 + early),
                              wireBytes: Bounded(value: perEvent + heartbeats + once / events + tcp, bound: 0.2 * once / events + 0.02 * perEvent + 0.25 * tcp + 2 + early),
                              requests: opens, emptyResponses: 0,
                              ledger: [("handshake", once / events), ("framing", header + c.wsClosing / events), ("payload", json),
                                       ("heartbeats", heartbeats), ("tcpip", tcp)])
        }
    }
}
