// Race's clock-offset estimate (README "Clock"; `race --clock estimate`), proven on one machine:
// the server's wall clock is shifted by a known skew (ServerConfig.wallClock) while all traffic
// stays on 127.0.0.1. The estimate must find the skew within its own stated uncertainty, and
// the latencies must not move with it.
import XCTest
import Foundation
@testable import WireMeasure
import WireServer
import WireLoop

final class RaceClockTests: XCTestCase {
    private func skewedServer(skewMicros: Int64) throws -> Server {
        var config = ServerConfig()
        config.host = "127.0.0.1"
        config.port = 0
        config.rate = 20
        config.wallClock = { LoopClock.wallMicros() + skewMicros }
        let server = Server(config: config)
        try server.start()
        return server
    }

    private func race(_ server: Server, clock: RaceClockMode) throws -> RaceResult {
        var s = RaceSettings()
        s.url = "http://127.0.0.1:\(server.port)"
        s.transports = [.longpoll, .sse, .ws]
        s.duration = 1
        s.clock = clock
        s.pauseGeneratorAtEnd = true
        return try Race(settings: s).run()
    }

    private func assertEstimateFindsTheSkew(_ skew: Int64, file: StaticString = #filePath, line: UInt = #line) throws {
        let server = try skewedServer(skewMicros: skew)
        defer { server.shutdown(grace: 0.2) }
        let result = try race(server, clock: .estimate)
        let estimate = try XCTUnwrap(result.clockEstimate, "--clock estimate estimates on loopback too", file: file, line: line)
        XCTAssertEqual(estimate.samples, 8, file: file, line: line)
        // The server stamped /time between our send and receive, so the true offset lies within
        // half the round trip of the midpoint: the stated uncertainty (+1 µs of integer halving).
        XCTAssertLessThanOrEqual(abs(estimate.offsetMicros - skew), estimate.uncertaintyMicros + 1,
                                 "offset \(estimate.offsetMicros) µs ± \(estimate.uncertaintyMicros) for a skew of \(skew) µs",
                                 file: file, line: line)
        XCTAssertTrue(result.clock.hasPrefix("clock: offset "), result.clock, file: file, line: line)
        XCTAssertTrue(result.clock.hasSuffix(" from 8 samples"), result.clock, file: file, line: line)
        // Corrected latencies are loopback latencies: far below the skew (uncorrected they would
        // be the skew itself, ±7 s).
        for t in [RaceTransport.longpoll, .sse, .ws] {
            let r = try XCTUnwrap(result.result(t), file: file, line: line)
            XCTAssertGreaterThan(r.events, 0, "\(t)", file: file, line: line)
            let latency = try XCTUnwrap(r.latency, "\(t)", file: file, line: line)
            XCTAssertLessThan(abs(latency.p50), 1_000, "\(t) p50 \(latency.p50) ms moved with the skew", file: file, line: line)
            XCTAssertLessThan(abs(latency.max), 3_000, "\(t) max \(latency.max) ms moved with the skew", file: file, line: line)
        }
    }

    func testEstimateFindsAServerClockAheadBySevenSeconds() throws {
        try assertEstimateFindsTheSkew(7_000_000)
    }

    func testEstimateFindsAServerClockBehindBySevenSeconds() throws {
        try assertEstimateFindsTheSkew(-7_000_000)
    }

    /// The control experiment: the skew is real, and without the estimate (auto on loopback:
    /// same host, no correction) the latencies carry it whole. (A server clock *behind* ours, so
    /// the uncorrected latencies are +7 s; ahead, they would be negative and clamp at 0. That is
    /// also why the -7 s case above is the one that catches a correction with the wrong sign.)
    func testWithoutTheEstimateLatenciesCarryTheSkew() throws {
        let server = try skewedServer(skewMicros: -7_000_000)
        defer { server.shutdown(grace: 0.2) }
        let result = try race(server, clock: .auto)
        XCTAssertNil(result.clockEstimate)
        XCTAssertEqual(result.clock, "clock: same host, no correction")
        let latency = try XCTUnwrap(result.result(.ws)?.latency)
        XCTAssertGreaterThan(latency.p50, 6_000, "the server's clock is 7 s behind: uncorrected latency ≈ 7,000 ms")
    }

    /// On a server with our own clock the estimate is ~0 within its uncertainty.
    func testEstimateOnAnUnskewedServerIsZeroWithinItsUncertainty() throws {
        try assertEstimateFindsTheSkew(0)
    }
}
