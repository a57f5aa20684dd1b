// Two clocks, never mixed (design rule: "one clock for latency", PROTOCOL.md):
//  - wall-clock microseconds since the Unix epoch stamp events (`ts`), so a client on another
//    process can subtract it from its own wall clock;
//  - monotonic nanoseconds drive intervals and timeouts, immune to clock steps.
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

public enum LoopClock {
    /// Wall clock, microseconds since 1970-01-01T00:00:00Z.
    @inline(__always)
    public static func wallMicros() -> Int64 {
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        return Int64(ts.tv_sec) * 1_000_000 + Int64(ts.tv_nsec) / 1_000
    }
    /// Monotonic clock, nanoseconds since an arbitrary start.
    @inline(__always)
    public static func monotonicNanos() -> Int64 {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return Int64(ts.tv_sec) * 1_000_000_000 + Int64(ts.tv_nsec)
    }
    /// Seconds (fractional allowed) to nanoseconds.
    public static func nanos(seconds: Double) -> Int64 { Int64((seconds * 1e9).rounded()) }
}

/// Where an event loop reads monotonic time for its timers. The system's clock in production;
/// a `ManualClock` in tests, so they check what happens at which virtual time instead of
/// sleeping and hoping the machine is not busy.
public protocol MonotonicTimeSource: AnyObject {
    func nowNanos() -> Int64
    /// Calls `wake` whenever time jumps (a manual clock was advanced), so a loop sleeping until
    /// its earliest timer looks again. The system clock never jumps: nothing to do.
    func onAdvance(_ wake: @escaping () -> Void)
}

/// CLOCK_MONOTONIC.
public final class SystemMonotonicClock: MonotonicTimeSource {
    public static let shared = SystemMonotonicClock()
    public func nowNanos() -> Int64 { LoopClock.monotonicNanos() }
    public func onAdvance(_ wake: @escaping () -> Void) {}
}
