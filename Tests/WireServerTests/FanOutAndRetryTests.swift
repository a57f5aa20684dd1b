// `serve --sse-retry MS` (WHATWG HTML §9.2.6 `retry` field) and the fair fan-out of one broadcast
// across WebSocket and SSE subscribers (Worker.broadcast).
import XCTest
import Foundation
import WireCodec
import WireLoop
@testable import WireServer

final class FanOutAndRetryTests: XCTestCase {
    func testSSEStreamOpensWithRetryFieldCountedInStats() throws {
        let s = try TestServer { $0.sseRetryMillis = 2500; $0.loops = 1 }
        let c = try RawClient(port: s.port)
        c.send("GET /sse?client=retry-1 HTTP/1.1\r\nHost: a\r\n\r\n")
        let expected = Array("d\r\nretry: 2500\n\n\r\n".utf8)   // a 13-byte block (0xd) in one chunk
        let deadline = Date().addingTimeInterval(5)
        while Date() < deadline, !(c.buffer.firstRange(of: expected) != nil) { _ = c.readMore() }
        let text = String(decoding: c.buffer, as: UTF8.self)
        XCTAssertNotNil(c.buffer.firstRange(of: expected), text)
        // The field comes right after the head, before any event.
        let head = try XCTUnwrap(text.range(of: "\r\n\r\n"))
        XCTAssertTrue(text[head.upperBound...].hasPrefix("d\r\nretry: 2500\n\n\r\n"), text)
        // /stats counts those bytes like the rest of the stream.
        var out = 0
        for _ in 0..<50 {
            let stats = try s.statsJSON(client: "retry-1")
            out = stats["bytes_out"] as? Int ?? 0
            if out >= c.received { break }
            usleep(20_000)
        }
        XCTAssertEqual(out, c.received)
    }

    func testWithoutRetryOptionNoRetryFieldIsSent() throws {
        let s = try TestServer { $0.loops = 1 }
        s.server.feed.publish(topic: .tick, data: "a")
        let c = try RawClient(port: s.port)
        c.send("GET /sse?since=0 HTTP/1.1\r\nHost: a\r\n\r\n")
        let deadline = Date().addingTimeInterval(5)
        while Date() < deadline, c.buffer.firstRange(of: Array("data: ".utf8)) == nil { _ = c.readMore() }
        XCTAssertNotNil(c.buffer.firstRange(of: Array("data: ".utf8)))
        XCTAssertNil(c.buffer.firstRange(of: Array("retry:".utf8)))
    }

    /// The order of one broadcast: every subscriber once; WebSocket and SSE interleaved; over
    /// successive broadcasts the first written alternates between the transports and the
    /// starting position rotates, so on average each transport waits for half the writes.
    func testFanOutOrderInterleavesAndRotates() {
        for (ws, sse) in [(3, 3), (5, 2), (0, 4), (1, 0), (0, 0)] {
            var meanPosition = (ws: 0.0, sse: 0.0)
            var firsts: Set<String> = []
            let turns = 2 * max(1, ws * sse + ws + sse)
            for turn in 1...turns {
                var order: [String] = []
                Worker.fanOutOrder(webSockets: ws, streams: sse, turn: turn) { isWS, i in order.append((isWS ? "ws" : "sse") + "\(i)") }
                XCTAssertEqual(order.count, ws + sse)
                XCTAssertEqual(Set(order).count, ws + sse, "each once: \(order)")
                if let f = order.first { firsts.insert(f) }
                for (pos, name) in order.enumerated() {
                    if name.hasPrefix("ws") { meanPosition.ws += Double(pos) / Double(ws * turns) } else { meanPosition.sse += Double(pos) / Double(sse * turns) }
                }
            }
            if ws > 0 && sse > 0 {
                XCTAssertTrue(firsts.contains { $0.hasPrefix("ws") } && firsts.contains { $0.hasPrefix("sse") }, "\(firsts)")
                // With equal lists, neither transport waits longer on average.
                if ws == sse { XCTAssertEqual(meanPosition.ws, meanPosition.sse, accuracy: 0.01) }
            }
            if ws + sse > 2 { XCTAssertGreaterThan(firsts.count, 2, "the starting point rotates: \(firsts)") }
        }
    }

    /// The old order (every WebSocket before any SSE stream) fails the balance check above: a
    /// guard that the test can tell the difference.
    func testListOrderWouldBeUnfair() {
        let ws = 3, sse = 3
        let order = (0..<ws).map { _ in "ws" } + (0..<sse).map { _ in "sse" }
        let wsMean = Double(order.enumerated().filter { $0.1 == "ws" }.map(\.0).reduce(0, +)) / Double(ws)
        let sseMean = Double(order.enumerated().filter { $0.1 == "sse" }.map(\.0).reduce(0, +)) / Double(sse)
        XCTAssertGreaterThan(sseMean - wsMean, 1)
    }
}
