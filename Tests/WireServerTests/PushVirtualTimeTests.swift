// Push waits for no timer (issue 11: "push latency under 50 ms" was a wall-clock assertion in a
// unit test). The server's loops run on a ManualClock that this test never moves: an event
// published now must still reach a WebSocket, an SSE stream and a parked long poll, so delivery
// cannot hang on the housekeeping sweep, a batching timer or any other deadline. The figure
// itself (mean push latency in milliseconds) is measured by `make bench` (Tests/Bench/timing.py).
import XCTest
import Foundation
import WireCodec
import WireLoop
@testable import WireServer

final class PushVirtualTimeTests: XCTestCase {
    func testAnEventReachesEveryPushSubscriberWithoutTheClockMoving() throws {
        for kind in [SelectorKind.epoll, .poll] {
            let clock = ManualClock()
            let frozen = clock.nowNanos()
            let s = try TestServer(selector: kind) { $0.clock = clock }

            let ws = try RawClient(port: s.port)
            ws.send("GET /ws?client=vt-ws HTTP/1.1\r\nHost: t\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                    + "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n")
            while !String(decoding: ws.buffer, as: UTF8.self).contains("\r\n\r\n") { XCTAssertTrue(ws.readMore(), "\(kind): 101") }
            let head = String(decoding: ws.buffer, as: UTF8.self)
            XCTAssertTrue(head.hasPrefix("HTTP/1.1 101 "), "\(kind)")
            ws.buffer = Array(ws.buffer[(head.range(of: "\r\n\r\n")!.upperBound.utf16Offset(in: head))...])

            let sse = try RawClient(port: s.port)
            sse.send("GET /sse?client=vt-sse HTTP/1.1\r\nHost: t\r\n\r\n")
            while !String(decoding: sse.buffer, as: UTF8.self).contains("\r\n\r\n") { XCTAssertTrue(sse.readMore(), "\(kind): SSE head") }

            let lp = try RawClient(port: s.port)
            lp.send("GET /longpoll?since=0&client=vt-lp HTTP/1.1\r\nHost: t\r\n\r\n")
            let parked = try s.waitForStats(client: "vt-lp") { ($0["requests"] as? Int) == 1 }
            XCTAssertEqual(parked["requests"] as? Int, 1, "\(kind): the long poll is parked")

            let event = s.server.feed.publish(topic: .chat, data: "now")

            var decoder = WebSocketFrameDecoder(requireMasked: false, maxPayload: 1 << 20)
            var frame: WebSocketFrame?
            while frame == nil {
                decoder.feed(ws.buffer); ws.buffer = []
                frame = try decoder.nextFrame()
                if frame == nil && !ws.readMore() { break }
            }
            XCTAssertEqual(frame.map { String(decoding: $0.payload, as: UTF8.self) }, String(decoding: event.json, as: UTF8.self), "\(kind): WebSocket got the event with the clock standing still")

            var text = String(decoding: sse.buffer, as: UTF8.self)
            while !text.contains("id: 1\nevent: chat\n") {
                guard sse.readMore() else { break }
                text = String(decoding: sse.buffer, as: UTF8.self)
            }
            XCTAssertTrue(text.contains("id: 1\nevent: chat\ndata: \(String(decoding: event.json, as: UTF8.self))\n\n"),
                          "\(kind): SSE got the event with the clock standing still")

            let answer = try XCTUnwrap(lp.readResponse(), "\(kind): the long poll was not answered with the clock standing still")
            XCTAssertEqual(String(decoding: answer.body, as: UTF8.self),
                           "{\"events\":[\(String(decoding: event.json, as: UTF8.self))],\"next\":1,\"missed\":0}", "\(kind)")
            XCTAssertEqual(clock.nowNanos(), frozen, "nothing moved the clock")
        }
    }
}
