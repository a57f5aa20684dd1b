// Each impairment on a virtual clock: times are plain nanosecond numbers passed in, so nothing
// here sleeps and every expectation is exact.
import XCTest
@testable import WireProxy

let ms: Int64 = 1_000_000
let second: Int64 = 1_000_000_000

final class DelayLineTests: XCTestCase {
    func testDelayHoldsEveryChunkExactlyTheDelay() {
        var line = DelayLine(delayNanos: 50 * ms, jitterNanos: 0, seed: 1)
        line.push([1, 2, 3], now: 0)
        line.push([4], now: 10 * ms)
        XCTAssertNil(line.popDue(now: 50 * ms - 1), "nothing leaves before its delay")
        XCTAssertEqual(line.popDue(now: 50 * ms), [1, 2, 3])
        XCTAssertNil(line.popDue(now: 59 * ms))
        XCTAssertEqual(line.nextDeparture, 60 * ms)
        XCTAssertEqual(line.popDue(now: 60 * ms), [4])
        XCTAssertTrue(line.isEmpty)
        XCTAssertEqual(line.chunksDelayed, 2)
    }

    func testJitterStaysInItsRangeNeverBelowZeroAndNeverReordersTenThousandChunks() {
        var line = DelayLine(delayNanos: 10 * ms, jitterNanos: 30 * ms, seed: 7)
        var drawn: [Int64] = []
        for _ in 0..<10_000 { drawn.append(line.drawDelay()) }
        XCTAssertGreaterThanOrEqual(drawn.min()!, 0, "a delay is never negative")
        XCTAssertLessThanOrEqual(drawn.max()!, 40 * ms)
        XCTAssertTrue(drawn.contains(0), "delay - jitter < 0 is clamped to 0")
        XCTAssertGreaterThan(drawn.max()!, 35 * ms, "the top of the range is reached")

        // 10,000 sequenced chunks, one every 0.1 ms: they leave in the order they came.
        var line2 = DelayLine(delayNanos: 10 * ms, jitterNanos: 9 * ms, seed: 11)
        var out: [UInt32] = []
        var departures: [Int64] = []
        var now: Int64 = 0
        for seq in 0..<UInt32(10_000) {
            let d = line2.push(withUnsafeBytes(of: seq.bigEndian) { Array($0) }, now: now)
            departures.append(d)
            XCTAssertGreaterThanOrEqual(d, now + 1 * ms, "delay - jitter is the least a chunk waits")
            now += 100_000
            while let c = line2.popDue(now: now) { out.append(c.withUnsafeBytes { UInt32(bigEndian: $0.load(as: UInt32.self)) }) }
        }
        while let t = line2.nextDeparture, let c = line2.popDue(now: t) {
            out.append(c.withUnsafeBytes { UInt32(bigEndian: $0.load(as: UInt32.self)) })
        }
        XCTAssertEqual(out, Array(0..<10_000), "byte order is kept")
        XCTAssertEqual(departures, departures.sorted(), "no chunk departs before its predecessor")
    }
}

final class TokenBucketTests: XCTestCase {
    func testEightHundredKilobitsCarryOneMegabyteInTenSeconds() {
        // 800 kbit/s = 100,000 bytes/s: 1,000,000 bytes take 10 s, minus the one bucketful sent at once.
        var settings = DirectionSettings()
        settings.kilobitsPerSecond = 800
        let dir = RelayDirection(settings, now: 0, seed: 1)
        dir.push([UInt8](repeating: 7, count: 1_000_000), now: 0)
        var now: Int64 = 0
        var received = 0
        while received < 1_000_000 {
            received += dir.ready.take(Int.max).count
            guard received < 1_000_000, let wake = dir.nextWake else { break }
            XCTAssertGreaterThan(wake, now, "the pacer asks to be woken later, it never spins")
            now = wake
            dir.pump(now: now)
        }
        XCTAssertEqual(received, 1_000_000)
        let seconds = Double(now) / 1e9
        XCTAssertEqual(seconds, 10.0, accuracy: 0.1, "1 MB at 800 kbit/s takes 10 s (got \(seconds))")
        XCTAssertGreaterThan(dir.fired.bandwidth, 0)
    }

    func testLateWakeUpsDoNotLowerTheRate() {
        // A loaded loop wakes 40 ms late every time: the link still carries 100,000 bytes/s.
        var settings = DirectionSettings()
        settings.kilobitsPerSecond = 800
        let dir = RelayDirection(settings, now: 0, seed: 1)
        dir.push([UInt8](repeating: 7, count: 500_000), now: 0)
        var now: Int64 = 0
        var received = dir.ready.take(Int.max).count
        while received < 500_000, let wake = dir.nextWake {
            now = wake + 40 * ms
            dir.pump(now: now)
            received += dir.ready.take(Int.max).count
        }
        XCTAssertEqual(received, 500_000)
        XCTAssertEqual(Double(now) / 1e9, 5.0, accuracy: 0.1, "500 kB at 800 kbit/s: 5 s, late wake-ups or not")
    }

    func testTheBucketNeverLetsMoreThanRateTimesTimePlusOneBucketful() {
        var bucket = TokenBucket(kilobitsPerSecond: 80, now: 0)     // 10,000 bytes/s, bucket 1500
        var sent = 0
        for t in stride(from: Int64(0), through: 2 * second, by: Int(3 * ms)) {
            sent += bucket.take(upTo: 100_000, now: t)
            XCTAssertLessThanOrEqual(Double(sent), 10_000 * Double(t) / 1e9 + bucket.capacity + 1)
        }
        XCTAssertGreaterThan(sent, 20_000, "over 2 s the link carries its rate")
    }
}

final class StallScheduleTests: XCTestCase {
    func testStallWindowsRepeatEveryPeriodFromTheirPhase() {
        var stall = StallSchedule(periodNanos: 1 * second, durationNanos: 200 * ms, start: 0, phaseNanos: 300 * ms)
        XCTAssertNil(stall.stalledUntil(now: 0))
        XCTAssertNil(stall.stalledUntil(now: 299 * ms))
        XCTAssertEqual(stall.stalledUntil(now: 300 * ms), 500 * ms)
        XCTAssertEqual(stall.stalledUntil(now: 450 * ms), 500 * ms)
        XCTAssertNil(stall.stalledUntil(now: 500 * ms))
        XCTAssertEqual(stall.stalledUntil(now: 1_350 * ms), 1_500 * ms)
        _ = stall.blocks(now: 310 * ms); _ = stall.blocks(now: 320 * ms); _ = stall.blocks(now: 1_310 * ms)
        XCTAssertEqual(stall.stalls, 2, "each window that held bytes counts once")
    }

    func testEachConnectionAndDirectionStallsAtItsOwnPhase() {
        var settings = DirectionSettings()
        settings.stallPeriodNanos = 1 * second
        settings.stallDurationNanos = 100 * ms
        let phases = (1...20).map { RelayDirection(settings, now: 0, seed: UInt64($0)).stall!.firstWindow }
        XCTAssertTrue(phases.allSatisfy { (0..<(1 * second)).contains($0) })
        XCTAssertGreaterThan(Set(phases).count, 15, "not in lockstep: \(phases)")
    }

    func testAStallHoldsEveryByteBehindItThenReleasesThemInOrder() {
        var settings = DirectionSettings()
        settings.stallPeriodNanos = 1 * second
        settings.stallDurationNanos = 400 * ms
        let dir = RelayDirection(settings, now: 0, seed: 3)
        // One byte every 10 ms for a period: the window (somewhere in it) holds some of them.
        var blockedAt: Int64 = -1
        for k in stride(from: Int64(0), to: 1 * second, by: Int(10 * ms)) {
            dir.push([UInt8(k / (10 * ms))], now: k)
            if !dir.ready.isEmpty { _ = dir.ready.take(Int.max) } else if blockedAt < 0 { blockedAt = k }
            if blockedAt >= 0 { break }
        }
        XCTAssertGreaterThanOrEqual(blockedAt, 0, "some byte was held by the stall")
        let wake = dir.nextWake!
        dir.pump(now: wake)
        XCTAssertFalse(dir.ready.isEmpty, "at the window's end the held bytes go")
        XCTAssertEqual(dir.fired.stall, 1)
    }
}

final class SmallImpairmentTests: XCTestCase {
    func testIdleTimerExpiresOnlyAfterSilence() {
        var idle = IdleTimer(timeoutNanos: 5 * second, now: 0)
        XCTAssertFalse(idle.isExpired(now: 4 * second))
        idle.touch(now: 4 * second)                         // a heartbeat
        XCTAssertFalse(idle.isExpired(now: 8 * second), "a heartbeat resets the timer")
        XCTAssertTrue(idle.isExpired(now: 9 * second))
        XCTAssertEqual(idle.deadline, 9 * second)
    }

    func testKillerArmsOnTheFirst101Only() {
        var killer = WebSocketKiller(afterNanos: 200 * ms)
        XCTAssertFalse(killer.isDue(now: 10 * second), "no 101, no kill")
        killer.switchedProtocols(now: 1 * second)
        killer.switchedProtocols(now: 2 * second)
        XCTAssertFalse(killer.isDue(now: 1_199 * ms))
        XCTAssertTrue(killer.isDue(now: 1_200 * ms))
    }

    func testCutterFiresOnAGridFromTheStart() {
        let cuts = CutSchedule(start: 100, periodNanos: 10 * second)
        XCTAssertEqual(cuts.nextCut(after: 100), 100 + 10 * second)
        XCTAssertEqual(cuts.nextCut(after: 100 + 10 * second), 100 + 20 * second)
        XCTAssertEqual(cuts.nextCut(after: 100 + 15 * second), 100 + 20 * second)
    }

    /// A cut closes what was open at its instant, even when a loop runs it late; a client that
    /// reconnected after the instant (onto a loop still about to cut) is spared until the next.
    func testACutSparesConnectionsAcceptedAfterItsInstant() {
        let cutAt = 100 + 10 * second
        XCTAssertTrue(CutSchedule.cuts(acceptedAt: 100, cutAt: cutAt))
        XCTAssertTrue(CutSchedule.cuts(acceptedAt: cutAt - 1, cutAt: cutAt))
        XCTAssertFalse(CutSchedule.cuts(acceptedAt: cutAt, cutAt: cutAt))
        XCTAssertFalse(CutSchedule.cuts(acceptedAt: cutAt + 30 * ms, cutAt: cutAt))
    }

    func testUpstreamURLs() {
        XCTAssertTrue(ProxyConfig.parseUpstream("http://127.0.0.1:8080")! == ("127.0.0.1", 8080))
        XCTAssertTrue(ProxyConfig.parseUpstream("http://localhost:9/sse?x=1")! == ("localhost", 9))
        XCTAssertTrue(ProxyConfig.parseUpstream("http://[::1]:8080/")! == ("::1", 8080))
        XCTAssertTrue(ProxyConfig.parseUpstream("http://example")! == ("example", 80))
        for bad in ["127.0.0.1:8080", "https://a:1", "http://", "http://a:0", "http://a:x", "http://u@a:1", "http://[::1"] {
            XCTAssertNil(ProxyConfig.parseUpstream(bad), bad)
        }
    }

    func testChunkQueueTakesAcrossChunks() {
        var q = ChunkQueue()
        q.append([1, 2, 3]); q.append([4, 5]); q.append([6])
        XCTAssertEqual(q.take(2), [1, 2])
        XCTAssertEqual(q.take(3), [3, 4, 5])
        XCTAssertEqual(q.count, 1)
        XCTAssertEqual(q.take(10), [6])
        XCTAssertTrue(q.isEmpty)
    }
}
