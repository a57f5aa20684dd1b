// LatencyHistogram: latencies in microseconds, counted in log-linear buckets (the idea of
// Gil Tene's HdrHistogram, small enough to read in one sitting).
//
// Theory of operation
// -------------------
// Values below 256 get a bucket each (exact). Above, every power of two [2^m, 2^(m+1)) is cut
// into 128 equal buckets, so a bucket is never wider than 1/128 of the values it holds. We
// report a bucket by its midpoint, hence
//
//     |reported − true| ≤ width / 2 ≤ value / 256        (relative error < 0.4 %)
//
// which is better than two significant digits. Memory grows with the largest value only:
// 128 counters per power of two, about 4,500 counters (36 KB) to reach 2^40 µs (12 days).
// Min, max, count and sum are kept exactly, so `max` and `mean` have no bucket error at all.
// Two histograms merge by adding counters (clients on different loops, runs of a lesson).
//
// Percentiles use the nearest-rank definition: p is the smallest recorded value v such that at
// least p % of the values are ≤ v (rank = ⌈p/100 · count⌉), the same one the tests compute
// from the sorted samples.

public struct LatencyHistogram: Equatable {
    /// log2 of the sub-buckets per power of two: 2^7 = 128.
    public static let subBucketBits = 7
    /// The largest relative error of a reported percentile: 1/256.
    public static let relativeErrorBound = 1.0 / Double(1 << (subBucketBits + 1))

    private static let subBucketCount = 1 << subBucketBits          // 128
    private static let exactLimit = UInt64(1 << (subBucketBits + 1)) // 256: below, one bucket per value

    public private(set) var counts: [UInt64] = []
    public private(set) var count = 0
    public private(set) var min: Int64 = .max
    public private(set) var max: Int64 = .min
    public private(set) var sum: Double = 0
    /// Values below 0 (a clock behind the server's) recorded as 0.
    public private(set) var clampedNegative = 0

    public init() {}

    public var isEmpty: Bool { count == 0 }
    public var mean: Double { count == 0 ? 0 : sum / Double(count) }

    /// Records one value (µs). Negative values count as 0 and are tallied in `clampedNegative`.
    public mutating func record(_ value: Int64) {
        var v = value
        if v < 0 { v = 0; clampedNegative += 1 }
        let i = Self.index(of: UInt64(v))
        if i >= counts.count { counts += [UInt64](repeating: 0, count: i + 1 - counts.count + 128) }
        counts[i] += 1
        count += 1
        sum += Double(v)
        if v < min { min = v }
        if v > max { max = v }
    }

    /// Adds every value of `other`.
    public mutating func merge(_ other: LatencyHistogram) {
        guard other.count > 0 else { return }
        if other.counts.count > counts.count { counts += [UInt64](repeating: 0, count: other.counts.count - counts.count) }
        for (i, c) in other.counts.enumerated() where c > 0 { counts[i] += c }
        count += other.count
        sum += other.sum
        min = Swift.min(min, other.min)
        max = Swift.max(max, other.max)
        clampedNegative += other.clampedNegative
    }

    /// The nearest-rank percentile (0 < p ≤ 100), within `relativeErrorBound`; nil when empty.
    public func value(atPercentile p: Double) -> Int64? {
        guard count > 0 else { return nil }
        if p >= 100 { return max }
        let rank = Swift.max(1, Int((p / 100 * Double(count)).rounded(.up)))
        var seen = 0
        for (i, c) in counts.enumerated() where c > 0 {
            seen += Int(c)
            if seen >= rank {
                let (low, width) = Self.bucket(i)
                let mid = Int64(low + (width - 1) / 2)
                return Swift.min(Swift.max(mid, min), max)
            }
        }
        return max
    }

    // MARK: bucket arithmetic

    /// Which counter holds `v`.
    static func index(of v: UInt64) -> Int {
        if v < exactLimit { return Int(v) }
        let magnitude = 63 - v.leadingZeroBitCount              // ≥ 8
        let shift = magnitude - subBucketBits                   // ≥ 1
        let sub = Int(v >> UInt64(shift))                       // 128 ..< 256
        return Int(exactLimit) + (shift - 1) * subBucketCount + (sub - subBucketCount)
    }

    /// The lowest value and the width of bucket `i`.
    static func bucket(_ i: Int) -> (low: UInt64, width: UInt64) {
        if i < Int(exactLimit) { return (UInt64(i), 1) }
        let j = i - Int(exactLimit)
        let shift = j / subBucketCount + 1
        let sub = UInt64(j % subBucketCount + subBucketCount)
        return (sub << UInt64(shift), 1 << UInt64(shift))
    }
}

/// The five numbers `race` reports (PROTOCOL.md §5 `latency_ms`), in milliseconds.
public struct LatencySummary: Equatable {
    public var p50: Double
    public var p95: Double
    public var p99: Double
    public var max: Double
    public var mean: Double

    public init(p50: Double, p95: Double, p99: Double, max: Double, mean: Double) {
        self.p50 = p50; self.p95 = p95; self.p99 = p99; self.max = max; self.mean = mean
    }

    /// nil when nothing was recorded.
    public init?(_ h: LatencyHistogram) {
        guard let p50 = h.value(atPercentile: 50), let p95 = h.value(atPercentile: 95),
              let p99 = h.value(atPercentile: 99) else { return nil }
        self.init(p50: Double(p50) / 1000, p95: Double(p95) / 1000, p99: Double(p99) / 1000,
                  max: Double(h.max) / 1000, mean: h.mean / 1000)
    }
}
