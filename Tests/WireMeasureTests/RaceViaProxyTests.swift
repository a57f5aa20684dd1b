// PROTOCOL.md §8 through `wirelab proxy` (§7): `race --via` starts the proxy as a child process
// and sends every client through it. A proxy that cuts every connection every 2 s costs
// latency, never events, with every reconnect policy; the auto client finds its way around a
// proxy that strips Upgrade and one that kills WebSockets.
import XCTest
import Foundation
@testable import WireMeasure

final class RaceViaProxyTests: XCTestCase {
    /// The wirelab executable `swift build` made next to this test bundle (or in .build/debug).
    private func wirelab() throws -> String {
        let bundle = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        for dir in [bundle, root.appendingPathComponent(".build/debug")] {
            let path = dir.appendingPathComponent("wirelab").path
            if FileManager.default.isExecutableFile(atPath: path) { return path }
        }
        XCTFail("the wirelab executable is missing: run swift build first")
        throw RaceError("no wirelab executable")
    }

    private func settings(_ via: String, transports: [RaceTransport], duration: Double, policy: ReconnectKind = .jitter) throws -> RaceSettings {
        var s = RaceSettings()
        s.serverExecutable = try wirelab()
        s.via = via
        s.transports = transports
        s.duration = duration
        s.rate = 10
        s.pollInterval = 0.25
        s.reconnect = policy
        return s
    }

    private func assertCutsCostNoEvents(_ policy: ReconnectKind) throws {
        let result = try Race(settings: settings("--cut-every 2", transports: RaceTransport.four + [.auto], duration: 10, policy: policy)).run()
        XCTAssertGreaterThan(result.published, 50)
        for r in result.results {
            let what = "\(r.transport.rawValue) with \(policy.rawValue)"
            XCTAssertEqual(r.missed, 0, what)
            XCTAssertEqual(r.duplicates, 0, what)
            XCTAssertEqual(r.outOfOrder, 0, what)
            XCTAssertEqual(r.events, Double(result.published), what)
            XCTAssertGreaterThanOrEqual(r.reconnects, 3, what)      // cuts at about 2, 4, 6, 8 s
            XCTAssertTrue(r.failures.isEmpty, "\(what): \(r.failures)")
        }
        // A cut after events is a hiccup, not a reason to fall back: auto starts on ws and stays
        // on a streaming transport. A reconnect is never cut by the same cut (a cut closes what
        // was open at its instant, however late a busy loop runs it), so only a first
        // connection made in the last moment before a cut could die without an event, which
        // is by the rule a failed step: ws>sse is then the honest answer. (Before that rule, an
        // immediate reconnect landing on the loop about to cut made it ws>sse>longpoll on a
        // loaded machine.)
        let path = try XCTUnwrap(result.result(.auto)?.path)
        XCTAssertTrue(path == "ws" || path == "ws>sse", path)
        // The scenario records the proxy flags; the proxy's own counters are in the report.
        let json = RaceReport.json(result)
        XCTAssertTrue(json.contains("\"via\":\"--cut-every 2\""), json)
        XCTAssertNotNil(result.proxyReport)
        // Cuts lose bytes in flight: a difference from /stats is expected and explained.
        if let check = result.serverCheck, !check.agrees {
            XCTAssertFalse(check.expected)
            XCTAssertTrue(check.note?.contains("--cut-every") == true)
        }
    }

    func testCutEvery2sCostsNoEventsReconnectingImmediately() throws { try assertCutsCostNoEvents(.immediate) }
    func testCutEvery2sCostsNoEventsWithBackoff() throws { try assertCutsCostNoEvents(.backoff) }
    func testCutEvery2sCostsNoEventsWithJitter() throws { try assertCutsCostNoEvents(.jitter) }

    func testAutoThroughAProxyThatStripsUpgradeEndsOnSSE() throws {
        let result = try Race(settings: settings("--strip-upgrade", transports: [.auto], duration: 2)).run()
        let auto = try XCTUnwrap(result.result(.auto))
        XCTAssertEqual(auto.path, "ws>sse")
        XCTAssertEqual(auto.missed, 0)
        XCTAssertEqual(auto.duplicates, 0)
        XCTAssertEqual(auto.events, Double(result.published))
        XCTAssertNotNil(auto.firstEventMillis)
        // The 426 and the stream: two requests, and race's table shows the path.
        XCTAssertEqual(auto.requests, 2)
        XCTAssertTrue(RaceReport.table(result).contains("ws>sse"))
    }

    func testAutoThroughAProxyThatKillsWebSocketsDoesNotStayOnWebSocket() throws {
        var s = try settings("--kill-ws-after 200", transports: [.auto], duration: 3)
        s.rate = 2      // 500 ms between events: a WebSocket killed after 200 ms usually carried none
        let result = try Race(settings: s).run()
        let auto = try XCTUnwrap(result.result(.auto))
        // Killed WebSockets move it to SSE, which the killer leaves alone: it stays there.
        XCTAssertEqual(auto.path, "ws>sse")
        XCTAssertEqual(auto.missed, 0)
        XCTAssertEqual(auto.duplicates, 0)
    }

    func testForwardingOnlyProxyKeepsTheByteCountsExact() throws {
        let result = try Race(settings: settings("--delay 5", transports: RaceTransport.four, duration: 1.5)).run()
        for r in result.results { XCTAssertEqual(r.missed, 0, r.transport.rawValue) }
        XCTAssertEqual(result.serverCheck?.agrees, true, "\(result.serverCheck?.differences ?? [])")
        XCTAssertEqual(result.serverCheck?.note?.contains("forwarded every byte"), true)
    }

    func testABadProxyFlagIsReported() throws {
        XCTAssertThrowsError(try Race(settings: settings("--delay banana", transports: [.ws], duration: 0.5)).run()) { error in
            XCTAssertTrue("\(error)".contains("--delay"), "\(error)")
        }
    }
}
