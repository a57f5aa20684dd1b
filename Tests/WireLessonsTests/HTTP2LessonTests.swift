// Lesson 12 (HTTP/2): its place in the catalog and scenario, and its sentences — fed contrasting
// numbers, each claim must follow them (the rule of LessonNoticeTests).
import XCTest
@testable import WireLessons
@testable import WireMeasure

final class HTTP2LessonTests: XCTestCase {
    func testCatalogAndScenario() throws {
        let lesson = try XCTUnwrap(LessonCatalog.lesson(12))
        XCTAssertEqual(lesson.folder, "12-http2")
        XCTAssertEqual(lesson.wire, .h2)
        let scenario = try LessonFiles.scenario(for: lesson)
        XCTAssertEqual(scenario.http2?.streams, 7)
        XCTAssertEqual(scenario.runs().map { $0.settings.rate }, [1, 10])
        XCTAssertEqual(scenario.base.transports, RaceTransport.four)
        let dir = try XCTUnwrap(LessonFiles.directory())
        XCTAssertTrue(FileManager.default.fileExists(atPath: dir + "/12-http2/seven_streams.py"))
    }

    static func numbers(hpackShrinks: Bool, h2Cheaper: Bool, seventhWaits: Bool, shared: Int = 1) -> HTTP2LessonNumbers {
        var n = HTTP2LessonNumbers()
        n.probe = .init(polls: 10, firstUp: 61, firstDown: 101, restUp: hpackShrinks ? 14 : 61, restDown: 56, http1Up: 98, http1Down: 286)
        for t in RaceTransport.four {
            let h1: Double = t == .poll || t == .longpoll ? 400 : 160
            let h2 = h2Cheaper ? h1 * 0.6 : h1 * 1.2
            n.rows.append(.init(rate: 10, transport: t, http1: h1, http2: h2, connections1: 1, connections2: 1))
        }
        n.sharedConnections = shared
        n.direct = .init(protocolName: "HTTP/1.1", counts: seventhWaits ? [9, 9, 9, 9, 9, 9, 0] : Array(repeating: 9, count: 7))
        n.nginx = .init(protocolName: "HTTP/2", counts: Array(repeating: 9, count: 7))
        return n
    }

    func testSentencesFollowTheNumbers() {
        let good = HTTP2Notices.sentences(Self.numbers(hpackShrinks: true, h2Cheaper: true, seventhWaits: true)).joined(separator: "\n")
        let bad = HTTP2Notices.sentences(Self.numbers(hpackShrinks: false, h2Cheaper: false, seventhWaits: false, shared: 2)).joined(separator: "\n")
        // HPACK: "smaller" only when the rest were smaller.
        XCTAssertTrue(good.contains("4.4× smaller"), good)
        XCTAssertFalse(bad.contains("× smaller"), bad)
        XCTAssertTrue(bad.contains("no smaller"), bad)
        // Polling: "fewer bytes with HTTP/2" only when it was.
        XCTAssertTrue(good.contains("Short polling at 10 events/s: 400 B per event over HTTP/1.1, 240 B over HTTP/2 — 1.7× fewer bytes"), good)
        XCTAssertFalse(bad.contains("fewer bytes with HTTP/2"), bad)
        XCTAssertTrue(bad.contains("HTTP/2 was not cheaper here"), bad)
        // Push framing: the sign of the difference.
        XCTAssertTrue(good.contains("SSE at 10 events/s: 160 B per event over HTTP/1.1, 96 B over HTTP/2, 64 B less"), good)
        XCTAssertTrue(bad.contains("WebSocket at 10 events/s: 160 B per event over HTTP/1.1, 192 B over HTTP/2, 32 B more"), bad)
        // Connections and --share.
        XCTAssertTrue(good.contains("with --share one connection carried every transport"), good)
        XCTAssertTrue(bad.contains("with --share 2 connections"), bad)
        // Seven streams: the seventh named only when it got nothing.
        XCTAssertTrue(good.contains("6 of 7 EventSources received events; stream 7 got nothing"), good)
        XCTAssertFalse(bad.contains("got nothing"), bad)
        XCTAssertTrue(bad.contains("all 7 EventSources received events — this browser did not stop at six"), bad)
        XCTAssertTrue(good.contains("Through nginx over HTTP/2: all 7 received events"), good)
    }

    func testABrowserFailureIsSaidNotHidden() {
        var n = HTTP2LessonNumbers()
        n.browserError = "nginx exited: permission denied"
        XCTAssertEqual(HTTP2Notices.streams(n), ["The browser part did not run: nginx exited: permission denied."])
    }
}
