// The server over real sockets on 127.0.0.1, driven by a raw client that counts its bytes.
// Every test runs the server on both selector backends (epoll and poll).
import XCTest
import Foundation
import WireCodec
import WireLoop
@testable import WireServer

final class ServerIntegrationTests: XCTestCase {
    /// Every test here runs once per selector backend: the server's behaviour must not depend on
    /// which readiness API the loop uses. (Failures name the backend through `kind`.)
    private func onBothBackends(_ body: (SelectorKind) throws -> Void) rethrows {
        for kind in [SelectorKind.epoll, .poll] { try body(kind) }
    }

    /// "Both backends" must mean both: the server really runs the selector it was given.
    func testServerRunsTheSelectorItWasGiven() throws {
        let p = try TestServer(selector: .poll)
        XCTAssertTrue(p.server.workers.allSatisfy { $0.loop.selector is PollSelector })
        let e = try TestServer(selector: .epoll)
        XCTAssertTrue(e.server.workers.allSatisfy { $0.loop.selector is EpollSelector })
    }

    /// The loops share one listening socket (Server.swift): a connection wakes one loop that
    /// is waiting, the first on the socket's wait list, which is loop 0. So a light load, one
    /// connection at a time with the loops idle in between, gathers on loop 0, where the
    /// generator publishes from. (A SO_REUSEPORT listener per loop would hash about half of
    /// them to loop 1; registering in no fixed order would put them all on either loop.)
    func testALightLoadGathersOnLoopZeroWhereTheGeneratorRuns() throws {
        let s = try TestServer { $0.loops = 2 }
        var clients: [RawClient] = []
        for _ in 0..<20 {
            let c = try RawClient(port: s.port)
            XCTAssertEqual(c.get("/healthz")?.head.status, 200)
            clients.append(c)
            usleep(20_000)   // loop 0 is back in epoll_wait before the next connect
        }
        let counts = s.connectionsPerLoop()
        XCTAssertEqual(counts.reduce(0, +), 20, "\(counts)")
        XCTAssertGreaterThanOrEqual(counts[0], 16, "connections per loop: \(counts)")
    }

    private func json(_ bytes: [UInt8]) -> [String: Any] {
        (try? JSONSerialization.jsonObject(with: Data(bytes))) as? [String: Any] ?? [:]
    }

    func testPollAnswersOnBothSelectorBackends() throws {
        for kind in [SelectorKind.epoll, .poll] {
            let s = try TestServer(selector: kind)
            for _ in 1...3 { s.server.feed.publish(topic: .tick, data: "abc") }
            let c = try RawClient(port: s.port)
            let r = try XCTUnwrap(c.get("/poll?since=1"))
            XCTAssertEqual(r.head.status, 200)
            XCTAssertEqual(r.head.header("Content-Type"), "application/json")
            let body = json(r.body)
            XCTAssertEqual((body["events"] as? [[String: Any]])?.compactMap { $0["id"] as? Int }, [2, 3], "\(kind)")
            XCTAssertEqual(body["next"] as? Int, 3)
            XCTAssertEqual(body["missed"] as? Int, 0)
            // Keep-alive: the same connection answers again.
            let again = try XCTUnwrap(c.get("/poll"))
            XCTAssertEqual(String(decoding: again.body, as: UTF8.self), #"{"events":[],"next":3,"missed":0}"#)
        }
    }

    /// An answer far larger than the sockets' buffers (1000 events of 16 KiB, about 16 MB): the
    /// server writes what the socket takes, then must be told when it can write again (EPOLLOUT,
    /// POLLOUT). The small answers of the other tests always fit at once, so without this a
    /// backend that never reported writability still passed "runs on both backends".
    func testAnAnswerLargerThanTheSocketBuffersArrivesWholeOnBothBackends() throws {
        for kind in [SelectorKind.epoll, .poll] {
            let s = try TestServer(selector: kind) { $0.maxQueue = 64 << 20 }
            let data = String(repeating: "x", count: 16 * 1024)
            for _ in 1...1000 { s.server.feed.publish(topic: .chat, data: data) }
            let c = try RawClient(port: s.port)
            let r = try XCTUnwrap(c.get("/poll?since=0"), "\(kind): the answer never completed")
            XCTAssertEqual(r.head.status, 200, "\(kind)")
            XCTAssertGreaterThan(r.body.count, 16 * 1024 * 1000, "\(kind)")
            let body = json(r.body)
            XCTAssertEqual((body["events"] as? [[String: Any]])?.count, 1000, "\(kind)")
            XCTAssertEqual(body["next"] as? Int, 1000, "\(kind)")
        }
    }

    func testPipelinedRequestsAreAnsweredInOrder() throws {
        try onBothBackends { kind in
            let s = try TestServer(selector: kind)
            s.server.feed.publish(topic: .tick, data: "x")
            let c = try RawClient(port: s.port)
            c.send("GET /healthz HTTP/1.1\r\nHost: t\r\n\r\nGET /poll HTTP/1.1\r\nHost: t\r\n\r\nGET /nope HTTP/1.1\r\nHost: t\r\n\r\n")
            XCTAssertEqual(c.readResponse().map { String(decoding: $0.body, as: UTF8.self) }, "ok")
            XCTAssertEqual(c.readResponse().map { String(decoding: $0.body, as: UTF8.self) }, #"{"events":[],"next":1,"missed":0}"#)
            XCTAssertEqual(c.readResponse()?.head.status, 404)
        }
    }

    func testStatsCountPollBytesExactlyAsTheClientSawThem() throws {
        try onBothBackends { kind in
            let s = try TestServer(selector: kind)
            s.server.feed.publish(topic: .tick, data: "hello")
            let c = try RawClient(port: s.port)
            for since in [0, 1, 0] { XCTAssertEqual(c.get("/poll?since=\(since)&client=exact-poll")?.head.status, 200) }
            let stats = try s.statsJSON(client: "exact-poll")
            XCTAssertEqual(stats["bytes_in"] as? Int, c.sent)
            XCTAssertEqual(stats["bytes_out"] as? Int, c.received)
            XCTAssertEqual(stats["requests"] as? Int, 3)
            XCTAssertEqual(stats["connections"] as? Int, 1)
            XCTAssertEqual(stats["events_sent"] as? Int, 2)
        }
    }

    func testWebSocketDeliversEventsAndCountsEveryFrameByte() throws {
        for kind in [SelectorKind.epoll, .poll] {
            let s = try TestServer(selector: kind)
            let c = try RawClient(port: s.port)
            // RFC 6455 §1.3's sample key and accept value.
            c.send("GET /ws?client=exact-ws HTTP/1.1\r\nHost: t\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                   + "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n")
            while !String(decoding: c.buffer, as: UTF8.self).contains("\r\n\r\n") { XCTAssertTrue(c.readMore()) }
            let head = String(decoding: c.buffer, as: UTF8.self)
            XCTAssertTrue(head.hasPrefix("HTTP/1.1 101 Switching Protocols\r\n"), "\(kind)")
            XCTAssertTrue(head.contains("Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n"))
            c.buffer = Array(c.buffer[(head.range(of: "\r\n\r\n")!.upperBound.utf16Offset(in: head))...])

            let event = s.server.feed.publish(topic: .tick, data: "payload")
            var decoder = WebSocketFrameDecoder(requireMasked: false, maxPayload: 1 << 20)
            func nextFrame() -> WebSocketFrame? {
                while true {
                    decoder.feed(c.buffer); c.buffer = []
                    if let f = try? decoder.nextFrame() { return f }
                    guard c.readMore() else { return nil }
                }
            }
            let frame = try XCTUnwrap(nextFrame())
            XCTAssertEqual(frame.opcode, .text)
            XCTAssertEqual(frame.payload, event.json)

            // Close handshake: the server answers with the same code, then closes.
            c.send(WebSocketFrameEncoder.encode(opcode: .close, payload: WebSocketFrameEncoder.closePayload(code: 4000),
                                                maskingKey: [1, 2, 3, 4]))
            let reply = try XCTUnwrap(nextFrame())
            XCTAssertEqual(reply.opcode, .close)
            XCTAssertEqual(Array(reply.payload.prefix(2)), [0x0F, 0xA0])   // 4000
            _ = c.readToEnd()
            // The server may still be counting the last bytes: wait for the counts, not a sleep.
            let stats = try s.waitForStats(client: "exact-ws") {
                ($0["bytes_in"] as? Int) == c.sent && ($0["bytes_out"] as? Int) == c.received
            }
            XCTAssertEqual(stats["bytes_in"] as? Int, c.sent, "\(kind)")
            XCTAssertEqual(stats["bytes_out"] as? Int, c.received, "\(kind)")
            XCTAssertEqual(stats["requests"] as? Int, 1)
            XCTAssertEqual(stats["events_sent"] as? Int, 1)
        }
    }

    func testLongPollIsAnsweredByTheNextEvent() throws {
        try onBothBackends { kind in
            let s = try TestServer(selector: kind)
            let c = try RawClient(port: s.port)
            c.send("GET /longpoll?since=0&timeout=5&client=lp-wake HTTP/1.1\r\nHost: t\r\n\r\n")
            try s.waitForStats(client: "lp-wake") { ($0["requests"] as? Int) == 1 }     // parked
            s.server.feed.publish(topic: .chat, data: "wake")
            let r = try XCTUnwrap(c.readResponse())
            let events = json(r.body)["events"] as? [[String: Any]]
            XCTAssertEqual(events?.first?["data"] as? String, "wake")
        }
    }

    func testLongPollTimesOutWithNoEvents() throws {
        try onBothBackends { kind in
            let s = try TestServer(selector: kind)
            let c = try RawClient(port: s.port)
            let r = try XCTUnwrap(c.get("/longpoll?since=0&timeout=1"))
            XCTAssertEqual(String(decoding: r.body, as: UTF8.self), #"{"events":[],"next":0,"missed":0}"#)
        }
    }

    func testSSEReplaysAfterLastEventIDThenStreams() throws {
        try onBothBackends { kind in
            let s = try TestServer(selector: kind)
            for _ in 1...3 { s.server.feed.publish(topic: .tick, data: "x") }
            let c = try RawClient(port: s.port)
            c.send("GET /sse?since=0 HTTP/1.1\r\nHost: t\r\nLast-Event-ID: 2\r\n\r\n")
            var text = ""
            while !text.contains("id: 3\n") { XCTAssertTrue(c.readMore()); text = String(decoding: c.buffer, as: UTF8.self) }
            XCTAssertFalse(text.contains("id: 1\n"), "Last-Event-ID wins over since")
            XCTAssertTrue(text.contains("Content-Type: text/event-stream\r\n"))
            XCTAssertTrue(text.contains("Transfer-Encoding: chunked\r\n"))
            s.server.feed.publish(topic: .chat, data: "live")
            while !text.contains("id: 4\nevent: chat\n") { XCTAssertTrue(c.readMore()); text = String(decoding: c.buffer, as: UTF8.self) }
        }
    }

    func testHeadOnSSEGivesTheHeadAndKeepsTheConnection() throws {
        try onBothBackends { kind in
            let s = try TestServer(selector: kind)
            let c = try RawClient(port: s.port)
            c.send("HEAD /sse HTTP/1.1\r\nHost: t\r\n\r\n")
            while !String(decoding: c.buffer, as: UTF8.self).contains("\r\n\r\n") { XCTAssertTrue(c.readMore()) }
            let head = String(decoding: c.buffer, as: UTF8.self)
            XCTAssertTrue(head.hasPrefix("HTTP/1.1 200 OK\r\n"))
            XCTAssertTrue(head.contains("Content-Type: text/event-stream\r\n"))
            XCTAssertTrue(head.hasSuffix("\r\n\r\n"), "no body after the head")
            c.buffer = []
            XCTAssertEqual(c.get("/healthz").map { String(decoding: $0.body, as: UTF8.self) }, "ok")
        }
    }

    // MARK: PROTOCOL.md §3: bad input gets a clear answer, and nothing else breaks

    private func statusLine(_ bytes: [UInt8]) -> String {
        String(String(decoding: bytes, as: UTF8.self).split(separator: "\r\n").first ?? "")
    }

    func testBadInputIsAnsweredAndOtherConnectionsCarryOn() throws {
        try onBothBackends { kind in
            let s = try TestServer(selector: kind)
            let watcher = try RawClient(port: s.port)
            watcher.send("GET /sse HTTP/1.1\r\nHost: t\r\n\r\n")
            let cases: [(String, [UInt8])] = [
                ("HTTP/1.1 400", Array("NOT A REQUEST\r\n\r\n".utf8)),
                ("HTTP/1.1 400", Array("GET / HTTP/1.1\r\nBad Header\r\n\r\n".utf8)),
                ("HTTP/1.1 431", Array("GET / HTTP/1.1\r\nX: \(String(repeating: "a", count: 17_000))\r\n\r\n".utf8)),
                ("HTTP/1.1 413", Array("POST /publish HTTP/1.1\r\nContent-Length: 65537\r\n\r\n".utf8)),
                ("HTTP/1.1 400", Array("GET /poll?since=-1 HTTP/1.1\r\n\r\n".utf8)),
                ("HTTP/1.1 400", Array("GET /longpoll?timeout=x HTTP/1.1\r\n\r\n".utf8)),
                ("HTTP/1.1 400", Array("GET /poll?limit=1.5 HTTP/1.1\r\n\r\n".utf8)),
                ("HTTP/1.1 400", Array("GET /sse?client=a%20b HTTP/1.1\r\n\r\n".utf8)),
                ("HTTP/1.1 404", Array("GET /nowhere HTTP/1.1\r\n\r\n".utf8)),
                ("HTTP/1.1 405", Array("DELETE /poll HTTP/1.1\r\n\r\n".utf8)),
                ("HTTP/1.1 426", Array("GET /ws HTTP/1.1\r\n\r\n".utf8)),
                ("HTTP/1.1 400", Array("GET /ws HTTP/1.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: short\r\n\r\n".utf8)),
                ("HTTP/1.1 426", Array("GET /ws HTTP/1.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 8\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n".utf8)),
            ]
            for (expected, input) in cases {
                let c = try RawClient(port: s.port)
                c.send(input)
                c.readMore()
                XCTAssertTrue(statusLine(c.buffer).hasPrefix(expected), "\(String(decoding: input.prefix(40), as: UTF8.self)) -> \(statusLine(c.buffer))")
            }
            // The watcher still streams.
            s.server.feed.publish(topic: .chat, data: "still here")
            var text = ""
            while !text.contains("still here") { XCTAssertTrue(watcher.readMore()); text = String(decoding: watcher.buffer, as: UTF8.self) }
        }
    }

    func testErrorsNameTheParameter() throws {
        try onBothBackends { kind in
            let s = try TestServer(selector: kind)
            let c = try RawClient(port: s.port)
            for name in ["since", "timeout", "limit"] {
                let r = try XCTUnwrap(c.get("/longpoll?\(name)=abc"))
                XCTAssertEqual(r.head.status, 400)
                XCTAssertTrue((json(r.body)["error"] as? String ?? "").contains(name))
            }
            let r = try XCTUnwrap(c.get("/poll?client=" + String(repeating: "a", count: 65)))
            XCTAssertTrue((json(r.body)["error"] as? String ?? "").contains("client"))
            let allow = try XCTUnwrap(RawClient(port: s.port).get("/poll", headers: ""))
            XCTAssertEqual(allow.head.status, 200)
        }
    }

    func testWrongMethodNamesTheAllowedOnes() throws {
        try onBothBackends { kind in
            let s = try TestServer(selector: kind)
            let c = try RawClient(port: s.port)
            c.send("GET /publish HTTP/1.1\r\nHost: t\r\n\r\n")
            let r = try XCTUnwrap(c.readResponse())
            XCTAssertEqual(r.head.status, 405)
            XCTAssertEqual(r.head.header("Allow"), "POST")
        }
    }

    func testIncompleteHeadGets408() throws {
        try onBothBackends { kind in
            let s = try TestServer(selector: kind) { $0.headTimeout = 0.3 }
            let c = try RawClient(port: s.port)
            c.send("GET /poll HTTP/1.1\r\nHost:")
            let all = c.readToEnd()
            XCTAssertTrue(statusLine(all).hasPrefix("HTTP/1.1 408"), statusLine(all))
        }
    }

    func testWebSocketProtocolErrorsCloseWithTheRightCode() throws {
        try onBothBackends { kind in
            let s = try TestServer(selector: kind) { $0.maxMessage = 1000 }
            let cases: [(UInt16, [UInt8])] = [
                (1002, [0x81, 0x01, 0x41]),                                     // unmasked client frame
                (1002, [0xC1, 0x81, 1, 2, 3, 4, 0x41 ^ 1]),                       // RSV1 without extension
                (1002, [0x83, 0x80, 1, 2, 3, 4]),                                // reserved opcode 3
                (1002, [0x09, 0x80, 1, 2, 3, 4]),                                // fragmented ping
                (1002, [0x80, 0x80, 1, 2, 3, 4]),                                // continuation without start
                (1007, [0x81, 0x82, 0, 0, 0, 0, 0xC0, 0xAF]),                    // invalid UTF-8 (overlong)
                (1009, [0x82, 0xFE, 0x04, 0x00, 1, 2, 3, 4]),                    // 1024 > --max-message 1000
            ]
            for (code, frame) in cases {
                let c = try RawClient(port: s.port)
                c.send("GET /echo HTTP/1.1\r\nHost: t\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                       + "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n")
                c.send(frame)
                let all = c.readToEnd()
                let text = String(decoding: all, as: UTF8.self)
                guard let end = text.range(of: "\r\n\r\n") else { XCTFail("no handshake"); continue }
                let rest = Array(all[end.upperBound.utf16Offset(in: text)...])
                XCTAssertGreaterThanOrEqual(rest.count, 4, "frame \(frame)")
                guard rest.count >= 4 else { continue }
                XCTAssertEqual(rest[0], 0x88, "a close frame")
                XCTAssertEqual(UInt16(rest[2]) << 8 | UInt16(rest[3]), code, "frame \(frame)")
            }
        }
    }

    // MARK: POST /control and /publish

    func testControlNeedsLoopbackOrTheToken() throws {
        try onBothBackends { kind in
            let s = try TestServer(selector: kind) { $0.trustLoopback = false; $0.controlToken = "secret" }
            let c = try RawClient(port: s.port)
            let body = #"{"rate":7}"#
            c.send("POST /control HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\nContent-Length: \(body.utf8.count)\r\n\r\n\(body)")
            XCTAssertEqual(c.readResponse()?.head.status, 403)
            c.send("POST /control HTTP/1.1\r\nHost: t\r\nAuthorization: Bearer wrong\r\nContent-Length: \(body.utf8.count)\r\n\r\n\(body)")
            XCTAssertEqual(c.readResponse()?.head.status, 403, "a wrong token is refused")
            c.send("POST /control HTTP/1.1\r\nHost: t\r\nAuthorization: secret\r\nContent-Length: \(body.utf8.count)\r\n\r\n\(body)")
            XCTAssertEqual(c.readResponse()?.head.status, 403, "the token without the Bearer scheme is refused")
            XCTAssertEqual(s.server.feed.rate, 0, "nothing changed before the right token")
            c.send("POST /control HTTP/1.1\r\nHost: t\r\nAuthorization: Bearer secret\r\nContent-Length: \(body.utf8.count)\r\n\r\n\(body)")
            let ok = try XCTUnwrap(c.readResponse())
            XCTAssertEqual(ok.head.status, 200)
            XCTAssertEqual(s.server.feed.rate, 7)
        }
    }

    func testPublishRejectsInvalidInputAndPublishesNothing() throws {
        try onBothBackends { kind in
            let s = try TestServer(selector: kind)
            let c = try RawClient(port: s.port)
            func post(_ body: [UInt8], json: Bool) -> Int? {
                c.send("POST /publish HTTP/1.1\r\nHost: t\r\nContent-Type: \(json ? "application/json" : "text/plain")\r\nContent-Length: \(body.count)\r\n\r\n")
                c.send(body)
                return c.readResponse()?.head.status
            }
            XCTAssertEqual(post([0xFF, 0xFE], json: false), 400)
            XCTAssertEqual(post(Array("{not json".utf8), json: true), 400)
            XCTAssertEqual(post(Array(#"{"data":5}"#.utf8), json: true), 400)
            XCTAssertEqual(s.server.feed.latestID, 0)
            XCTAssertEqual(post(Array(#"{"data":"hi"}"#.utf8), json: true), 200)
            XCTAssertEqual(post(Array("plain".utf8), json: false), 200)
            XCTAssertEqual(s.server.feed.events(after: 0, limit: 10).events.map { String(decoding: $0.json, as: UTF8.self).contains("\"topic\":\"chat\"") }, [true, true])
        }
    }
}
