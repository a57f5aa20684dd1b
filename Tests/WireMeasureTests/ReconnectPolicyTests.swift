// PROTOCOL.md §8 --reconnect: the policy alone, without a socket or a clock. Expected delays
// are written out from the rule (100 ms doubling, capped at 5 s), not computed by the policy.
import XCTest
@testable import WireMeasure

/// A random source the test controls: returns the given words in turn.
struct ScriptedRandom: RandomNumberGenerator {
    var words: [UInt64]
    var i = 0
    init(_ words: [UInt64]) { self.words = words }
    mutating func next() -> UInt64 {
        defer { i += 1 }
        return words[i % words.count]
    }
}

/// SplitMix64 (Steele, Lea, Flood 2014), seeded, for the statistical checks.
struct SeededRandom: RandomNumberGenerator {
    var state: UInt64
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

final class ReconnectPolicyTests: XCTestCase {
    let ms: Int64 = 1_000_000

    func testImmediateNeverWaits() {
        var p = ReconnectPolicy(.immediate)
        for _ in 0..<20 { XCTAssertEqual(p.delayAfterDrop(), 0) }
    }

    func testBackoffDoublesFrom100msAndStopsAt5s() {
        var p = ReconnectPolicy(.backoff)
        let expected: [Int64] = [100, 200, 400, 800, 1600, 3200, 5000, 5000, 5000]
        XCTAssertEqual((0..<expected.count).map { _ in p.delayAfterDrop() / ms }, expected)
        // Far past the cap, no overflow.
        for _ in 0..<100 { _ = p.delayAfterDrop() }
        XCTAssertEqual(p.delayAfterDrop(), 5000 * ms)
    }

    func testAnEventResetsTheBackoff() {
        var p = ReconnectPolicy(.backoff)
        _ = p.delayAfterDrop(); _ = p.delayAfterDrop(); _ = p.delayAfterDrop()
        XCTAssertEqual(p.delayAfterDrop(), 800 * ms)
        p.eventArrived()
        XCTAssertEqual(p.attempt, 0)
        XCTAssertEqual(p.delayAfterDrop(), 100 * ms)
        XCTAssertEqual(p.delayAfterDrop(), 200 * ms)
    }

    func testFullJitterUsesTheWholeWindowAtBothEnds() {
        // The smallest and the largest word the generator can give land on 0 and on the window.
        var low = ReconnectPolicy(.jitter, random: ScriptedRandom([0]))
        XCTAssertEqual(low.delayAfterDrop(), 0)
        var high = ReconnectPolicy(.jitter, random: ScriptedRandom([UInt64.max]))
        XCTAssertEqual(high.delayAfterDrop(), 100 * ms)
        XCTAssertEqual(high.delayAfterDrop(), 200 * ms)
        for _ in 0..<10 { _ = high.delayAfterDrop() }
        XCTAssertEqual(high.delayAfterDrop(), 5000 * ms)
    }

    func testFullJitterIsUniformInZeroToTheBackoff() {
        var p = ReconnectPolicy(.jitter, random: SeededRandom(state: 42))
        // Hold the window at the cap (attempt ≥ 6) and look at 20,000 draws.
        for _ in 0..<6 { _ = p.delayAfterDrop() }
        var draws: [Int64] = []
        for _ in 0..<20_000 { draws.append(p.delayAfterDrop()) }
        XCTAssertTrue(draws.allSatisfy { (0...5000 * ms).contains($0) })
        let mean = Double(draws.reduce(0, +)) / Double(draws.count) / Double(ms)
        XCTAssertEqual(mean, 2500, accuracy: 60)        // σ of the mean ≈ 5000/√12/√20000 ≈ 10 ms
        // Each tenth of the window gets about a tenth of the draws.
        var deciles = [Int](repeating: 0, count: 10)
        for d in draws { deciles[min(9, Int(d / (500 * ms)))] += 1 }
        for c in deciles { XCTAssertEqual(Double(c), 2000, accuracy: 250) }
    }

    func testJitterSpreadsAHerdThatBackoffKeepsTogether() {
        // 1,000 clients dropped at the same instant: with backoff they all come back at 100 ms;
        // with full jitter no 10 ms slice of the window gets more than a few percent of them.
        var plain = (0..<1000).map { _ in ReconnectPolicy(.backoff) }
        XCTAssertEqual(Set(plain.indices.map { plain[$0].delayAfterDrop() }).count, 1)
        var rng = SeededRandom(state: 7)
        var slices = [Int](repeating: 0, count: 10)
        for k in 0..<1000 {
            var p = ReconnectPolicy(.jitter, random: SeededRandom(state: rng.next() &+ UInt64(k)))
            slices[min(9, Int(p.delayAfterDrop() / (10 * ms)))] += 1
        }
        XCTAssertLessThan(slices.max()!, 160)
    }
}
