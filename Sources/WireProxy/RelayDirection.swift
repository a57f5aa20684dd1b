// One direction of a relayed connection (client → server requests, or server → client
// responses), as a sans-I/O pipeline: bytes go in with the time they were read, and come out in
// `ready` when the simulated network lets them through. The relay does the socket work.
//
//   read ──▶ transform ──▶ pacer (token bucket, stall) ──▶ delay line ──▶ ready ──▶ write
//            (strip-upgrade on requests; response buffer on responses)
//
// The pacer stands for the bottleneck link (bytes leave it no faster than the rate, and not at
// all during a stall) and the delay line for the propagation delay behind it, in the order a
// real path applies them. Every stage only holds bytes; none sleeps. `nextWake` says when the
// relay must call `pump` again, and the relay asks the loop's timer heap for exactly that.
// `heldBytes` is what the relay bounds: past its limit it stops reading the source (backpressure).

public struct DirectionSettings {
    public var delayNanos: Int64 = 0
    public var jitterNanos: Int64 = 0
    public var kilobitsPerSecond: Double?
    public var stallPeriodNanos: Int64?
    public var stallDurationNanos: Int64?
    public var transform = Transform.none

    public enum Transform: Equatable {
        case none
        case stripUpgrade
        /// Response buffer; threshold nil: only watch for 101 (for the WebSocket killer).
        case buffer(thresholdBytes: Int?)
    }

    public init() {}
}

public final class RelayDirection {
    private enum TransformState {
        case none
        case stripper(UpgradeStripper)
        case buffer(ResponseBuffer)
    }

    private var transform: TransformState
    private var pacerQueue = ChunkQueue()
    private var bucket: TokenBucket?
    private(set) var stall: StallSchedule?     // internal: tests compare phases
    private var delay: DelayLine
    /// Bytes free to be written now.
    public var ready = ChunkQueue()
    /// The source closed its side: nothing more will come in.
    public private(set) var inputEnded = false
    private var pacerWake: Int64?

    /// No stage holds anything back: the relay may write straight from its read buffer.
    public let isTransparent: Bool

    public init(_ settings: DirectionSettings, now: Int64, seed: UInt64) {
        var rng = SplitMix64(state: seed)
        switch settings.transform {
        case .none: transform = .none
        case .stripUpgrade: transform = .stripper(UpgradeStripper())
        case .buffer(let threshold): transform = .buffer(ResponseBuffer(thresholdBytes: threshold))
        }
        bucket = settings.kilobitsPerSecond.map { TokenBucket(kilobitsPerSecond: $0, now: now) }
        if let period = settings.stallPeriodNanos, let duration = settings.stallDurationNanos {
            stall = StallSchedule(periodNanos: period, durationNanos: duration, start: now,
                                  phaseNanos: Int64(rng.next() % UInt64(period)))
        }
        delay = DelayLine(delayNanos: settings.delayNanos, jitterNanos: settings.jitterNanos, seed: rng.next())
        isTransparent = settings.transform == .none && bucket == nil && stall == nil && delay.isTransparent
    }

    /// Bytes held in every stage (the backpressure measure).
    public var heldBytes: Int {
        if isTransparent { return ready.count }     // no other stage ever holds a byte
        var n = pacerQueue.count + delay.heldBytes + ready.count
        switch transform {
        case .none: break
        case .stripper(let s): n += s.heldBytes
        case .buffer(let b): n += b.heldBytes
        }
        return n
    }

    /// Nothing held anywhere.
    public var isEmpty: Bool { heldBytes == 0 }

    /// Bytes read at `now`. Returns true when they completed a `101 Switching Protocols` head.
    @discardableResult
    public func push(_ bytes: [UInt8], now: Int64) -> Bool {
        var out = bytes
        var switched = false
        switch transform {
        case .none: break
        case .stripper(var s):
            transform = .none                 // (keeps `s` uniquely referenced while it mutates)
            out = s.feed(bytes)
            transform = .stripper(s)
        case .buffer(var b):
            transform = .none
            let r = b.feed(bytes)
            out = r.release
            switched = r.switchedProtocols
            transform = .buffer(b)
        }
        enqueue(out, now: now)
        pump(now: now)
        return switched
    }

    /// The peer on the other side switched protocols: requests are no longer HTTP.
    public func stopParsingRequests(now: Int64) {
        if case .stripper(var s) = transform {
            transform = .none
            enqueue(s.stopParsing(), now: now)
            transform = .stripper(s)
            pump(now: now)
        }
    }

    /// The source closed: release whatever a transform holds; the rest drains as usual.
    public func endInput(now: Int64) {
        inputEnded = true
        switch transform {
        case .none: break
        case .stripper(var s):
            transform = .none
            enqueue(s.stopParsing(), now: now)
            transform = .stripper(s)
        case .buffer(var b):
            transform = .none
            enqueue(b.closeInput(), now: now)
            transform = .buffer(b)
        }
        pump(now: now)
    }

    private func enqueue(_ bytes: [UInt8], now: Int64) {
        guard !bytes.isEmpty else { return }
        if bucket == nil && stall == nil { forward(bytes, now: now) } else { pacerQueue.append(bytes) }
    }

    /// Moves bytes along as far as the clock allows.
    public func pump(now: Int64) {
        // 1. The pacer: a stall window blocks everything; the bucket lets `rate` through.
        pacerWake = nil
        while !pacerQueue.isEmpty {
            if stall != nil, let end = stall!.blocks(now: now) { pacerWake = end; break }
            var allowed = pacerQueue.count
            if bucket != nil {
                allowed = bucket!.take(upTo: allowed, now: now)
                if allowed < pacerQueue.count {
                    if allowed > 0 { forward(pacerQueue.take(allowed), now: now) }
                    pacerWake = bucket!.readyTime(for: pacerQueue.count, now: now)
                    break
                }
            }
            forward(pacerQueue.take(allowed), now: now)
        }
        // 2. The delay line: everything due goes to `ready`, in order.
        while let c = delay.popDue(now: now) { ready.append(c) }
    }

    private func forward(_ bytes: [UInt8], now: Int64) {
        if delay.isTransparent { ready.append(bytes) } else { delay.push(bytes, now: now) }
    }

    /// When `pump` can next move something (nil: nothing waits on the clock).
    public var nextWake: Int64? {
        switch (pacerWake, delay.nextDeparture) {
        case let (a?, b?): return min(a, b)
        case let (a?, nil): return a
        case let (nil, b?): return b
        case (nil, nil): return nil
        }
    }

    /// How often each stage held bytes back.
    public var fired: ImpairmentCounts {
        var c = ImpairmentCounts()
        if !delay.isTransparent { c.delay = delay.chunksDelayed }
        c.bandwidth = bucket?.waits ?? 0
        c.stall = stall?.stalls ?? 0
        switch transform {
        case .none: break
        case .stripper(let s): c.stripUpgrade = s.stripped
        case .buffer(let b): c.buffer = b.holds
        }
        return c
    }
}
