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
