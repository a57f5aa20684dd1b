// A monotonic clock that moves only when told to: tests hand it to an EventLoop (or a server's
// loops), then `advance` it and check what the timers did at that virtual time. Each advance
// wakes the loops that use it, so a loop asleep until a timer 25 s away runs it at once.
// Thread-safe: the test thread advances it while the loop threads read it.
public final class ManualClock: MonotonicTimeSource {
    private let lock = Lock()
    private var now: Int64
    private var wakers: [() -> Void] = []

    /// Starts at `startNanos` (any value; only differences matter).
    public init(startNanos: Int64 = 1_000_000_000) { now = startNanos }

    public func nowNanos() -> Int64 { lock.withLock { now } }

    public func onAdvance(_ wake: @escaping () -> Void) { lock.withLock { wakers.append(wake) } }

    public func advance(byNanos delta: Int64) {
        precondition(delta >= 0, "a monotonic clock never goes back")
        let wake = lock.withLock { () -> [() -> Void] in now += delta; return wakers }
        for w in wake { w() }
    }

    public func advance(seconds: Double) { advance(byNanos: LoopClock.nanos(seconds: seconds)) }
}
