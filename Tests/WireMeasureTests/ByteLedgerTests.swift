// The byte ledger sums exactly to the wire total, its parts are what the framing rules say, and
// the TCP/IP estimate applies the SYN options and the closing segments (figures checked once
// against a tcpdump capture on loopback; see TCPOverhead). Also: --headers browser sends the
// recorded Chromium fields, and the server counts them like any others.
import XCTest
import Foundation
@testable import WireMeasure
import WireServer
import WireCodec

final class ByteLedgerTests: XCTestCase {
    /// A poll connection in the capture: 8 segments out, 5 in before TCP_INFO; tcpdump saw 10
    /// out (+ FIN + last ACK) and 6 in (+ FIN-ACK), SYN and SYN-ACK 60 bytes each: 824 B up of
    /// which 296 payload, 2634 down of which 2314 (wirelab race, 3 s, 5 events/s).
    func testTCPOverheadMatchesTheCaptureFigures() {
        let poll = TCPOverhead.headerBytes(segsOut: 8, segsIn: 5, ipv6: false, close: .weCloseFirst)
        XCTAssertEqual(296 + poll.up, 824)
        XCTAssertEqual(2314 + poll.down, 2634)
        // The server closed first (WebSocket closing handshake): only our FIN and its ACK follow.
        let ws = TCPOverhead.teardown(.peerClosedFirst)
        XCTAssertEqual(ws.out, 1); XCTAssertEqual(ws.in, 1)
        XCTAssertEqual(TCPOverhead.perSegment(ipv6: true), 72)
    }

    func testLedgerSumsToWireTotalAndFramingFollowsTheRules() throws {
        var settings = RaceSettings()
        settings.duration = 1.2
        settings.rate = 20
        settings.size = 16
        settings.pollInterval = 0.3
        let result = try Race(settings: settings).run()
        for r in result.results {
            let l = r.ledger
            // Exactly: every byte in one part.
            XCTAssertEqual(l.total, Double(r.wireBytesUp + r.wireBytesDown), "\(r.transport)")
            XCTAssertGreaterThanOrEqual(l.framing, 0, "\(r.transport)")
            // SYN/FIN model applied: header bytes = (segments + closing segments) × 52 + 8 per SYN.
            // Closing segments by how the connection ended (TCPOverhead.Close): the server closes
            // a WebSocket first; an SSE stream lingers (our FIN, then read to the server's); a
            // long poll lingers if its last question was still out; a short poll closes first.
            let c = r.connections
            let closing: [TCPOverhead.Close]
            switch r.transport {
            case .ws: closing = [.peerClosedFirst]
            case .sse: closing = [.halfClosedThenPeerClosed]
            case .longpoll: closing = [.halfClosedThenPeerClosed, .weCloseFirst]
            default: closing = [.weCloseFirst]
            }
            let matches = closing.filter { close in
                let t = TCPOverhead.teardown(close)
                return r.totals.headerBytesUp == (r.totals.segmentsOut + t.out * c) * 52 + 8 * c
                    && r.totals.headerBytesDown == (r.totals.segmentsIn + t.in * c) * 52 + 8 * c
            }
            XCTAssertEqual(matches.count, 1, "\(r.transport): \(r.totals) for \(c) connection(s), expected one of \(closing)")
            // Payload: the event JSON, 54 + digits(id) + size bytes each (16 of the 54 are ts) (PROTOCOL.md §1).
            // Every run event once, at least (a stream may also carry events from before the start).
            let runEvents = (result.firstID...result.lastID).reduce(0) { $0 + 54 + String($1).count + settings.size }
            XCTAssertGreaterThanOrEqual(l.payload, Double(runEvents), "\(r.transport)")
            XCTAssertLessThan(l.payload, Double(runEvents + 10 * (75 + settings.size)), "\(r.transport)")
        }
        let ws = try XCTUnwrap(result.result(.ws))
        // Small frames: 2 bytes of header each way down, plus the close frames (ours 8, the
        // server's 4).
        // Every event frame the client read, counted as it read it (one subscribed a moment
        // before the run may also carry an event from before the start).
        let frames = Double(ws.totals.eventMessages)
        XCTAssertEqual(ws.ledger.framing, 2 * frames + 8 + 4, accuracy: 0.5)
        XCTAssertEqual(ws.ledger.headers, 0)
        let poll = try XCTUnwrap(result.result(.poll))
        XCTAssertEqual(poll.ledger.handshake, 0)
        XCTAssertGreaterThan(poll.ledger.headers, Double(poll.requests) * 90)
    }

    func testBrowserHeadersAreChromiumsAndAboutFiveTimesTheMinimal() {
        let host = "127.0.0.1:18933"
        func head(_ target: String, _ set: RequestHeaderSet, _ t: RaceTransport, extra: [(String, String)] = []) -> Int {
            var h = HTTPHeaders()
            h.add(name: "Host", value: host)
            for (n, v) in extra + set.fields(for: t, hostHeader: host) { h.add(name: n, value: v) }
            return HTTPSerializer.request(method: "GET", target: target, headers: h).count
        }
        // Rebuilt from the recorded fields, the heads have the recorded lengths.
        XCTAssertEqual(head("/poll?since=0", .browser, .poll), BrowserHeaders.recordedLengths["fetch GET /poll?since=0"])
        XCTAssertEqual(head("/sse", .browser, .sse), BrowserHeaders.recordedLengths["EventSource GET /sse"])
        let upgrade = [("Connection", "Upgrade"), ("Upgrade", "websocket"), ("Sec-WebSocket-Version", "13"),
                       ("Sec-WebSocket-Key", "ZxIb3Y6kNJamUbqNP4SRVQ==")]
        XCTAssertEqual(head("/ws", .browser, .ws, extra: upgrade), BrowserHeaders.recordedLengths["WebSocket GET /ws"])
        let ratio = Double(head("/poll?since=0", .browser, .poll)) / Double(head("/poll?since=0", .minimal, .poll))
        XCTAssertGreaterThan(ratio, 4)
    }

    func testBrowserHeaderRaceAgreesWithServerAndCostsMore() throws {
        var settings = RaceSettings()
        settings.duration = 0.8
        settings.rate = 10
        settings.transports = [.poll, .sse]
        settings.pollInterval = 0.2
        let minimal = try Race(settings: settings).run()
        settings.headers = .browser
        let browser = try Race(settings: settings).run()
        XCTAssertEqual(browser.serverCheck?.agrees, true, "\(browser.serverCheck?.differences ?? [])")
        let perRequest = { (r: RaceResult) in Double(r.result(.poll)!.totals.headersUp) / Double(r.result(.poll)!.requests) }
        XCTAssertGreaterThan(perRequest(browser), perRequest(minimal) + 350)
        XCTAssertGreaterThan(browser.result(.sse)!.ledger.handshake, minimal.result(.sse)!.ledger.handshake + 400)
    }
}
