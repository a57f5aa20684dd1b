// The HTTP/2 phase of the conversation in memory: WireCodec's HTTP2Connection in the client
// role talks to a conversation through `MemoryConnection` (ConversationTests.swift), no socket.
// What is checked: the preface (whole and byte by byte) turns the conversation into a session;
// streams answer like HTTP/1.1; events are the bytes built at publication inside DATA; every
// byte is charged to a stream's transport and client or to the "http2" object, exactly;
// a push stream whose window stays closed is dropped (PROTOCOL.md §9, §11), never held unbounded.
import XCTest
import WireCodec
import WireLoop
@testable import WireServer

/// An HTTP/2 client on a MemoryConnection.
final class MemoryHTTP2Client {
    let m: MemoryConnection
    var client: HTTP2Connection
    /// What the client wrote to the conversation, in total.
    var sent = 0
    /// How much of `m.written` the client has read.
    private var readOffset = 0
    var headers: [UInt32: [HPACKHeaderField]] = [:]
    var data: [UInt32: [[UInt8]]] = [:]
    var ended: Set<UInt32> = []
    var resets: [UInt32: HTTP2ErrorCode] = [:]

    init(_ m: MemoryConnection, configuration: HTTP2Connection.Configuration = .init(), byteByByte: Bool = false) {
        self.m = m
        client = HTTP2Connection(role: .client, configuration: configuration)
        for case .write(let bytes) in client.start() {
            if byteByByte { for b in bytes { send([b]) } } else { send(bytes) }
        }
        pump()
    }

    func send(_ bytes: [UInt8]) {
        sent += bytes.count
        m.receive(bytes)
    }

    /// Hands what the conversation wrote to the client, and the client's answers back, until quiet.
    func pump() {
        while readOffset < m.written.count {
            let chunk = Array(m.written[readOffset...])
            readOffset = m.written.count
            for action in client.receive(chunk) { take(action) }
        }
    }

    private func take(_ action: HTTP2Connection.Action) {
        switch action {
        case .write(let bytes): send(bytes)
        case .headers(let id, let fields, let end): headers[id] = fields; if end { ended.insert(id) }
        case .data(let id, let bytes, let end): data[id, default: []].append(bytes); if end { ended.insert(id) }
        case .streamReset(let id, let code, _): resets[id] = code
        default: break
        }
    }

    @discardableResult
    func request(_ path: String, method: String = "GET", extra: [HPACKHeaderField] = [], endStream: Bool = true) -> UInt32 {
        let id = client.openStream()
        let fields = [HPACKHeaderField(":method", method), HPACKHeaderField(":scheme", "http"),
                      HPACKHeaderField(":path", path), HPACKHeaderField(":authority", "t")] + extra
        for action in try! client.sendHeaders(streamID: id, fields: fields, endStream: endStream) { take(action) }
        pump()
        return id
    }

    func sendData(_ id: UInt32, _ bytes: [UInt8], endStream: Bool = false) {
        for action in try! client.sendData(streamID: id, bytes: bytes, endStream: endStream) { take(action) }
        pump()
    }

    func status(_ id: UInt32) -> String? { headers[id]?.first { $0.name == ":status" }?.value }
    func body(_ id: UInt32) -> [UInt8] { (data[id] ?? []).flatMap { $0 } }

    func publish(_ text: String) -> PublishedEvent {
        let e = m.feed.publish(topic: .chat, data: text)
        m.conversation.http2Session?.eventPublished(e)
        m.apply()
        pump()
        return e
    }
}

final class HTTP2SessionTests: XCTestCase {
    func testPrefaceWholeOrByteByByteStartsASession() {
        for byteByByte in [false, true] {
            let m = MemoryConnection()
            let h2 = MemoryHTTP2Client(m, byteByByte: byteByByte)
            guard case .http2 = m.conversation.state else { return XCTFail("not an HTTP/2 session (byteByByte \(byteByByte))") }
            // RFC 8441 §3: our SETTINGS allow extended CONNECT.
            XCTAssertTrue(h2.client.remoteSettings.enableConnectProtocol)
            XCTAssertEqual(h2.client.remoteSettings.maxConcurrentStreams, 100)
            let id = h2.request("/healthz")
            XCTAssertEqual(h2.status(id), "200")
            XCTAssertEqual(h2.body(id), Array("ok".utf8))
        }
    }

    func testHTTP1StillWorksWhenTheFirstBytesAreNotThePreface() {
        let m = MemoryConnection()
        m.receive("PRX /healthz HTTP/1.1\r\n\r\n")       // starts like the preface, then is not
        XCTAssertEqual(m.statusCodes(), [405])
        XCTAssertNil(m.conversation.http2Session)
        let n = MemoryConnection()
        for b in "PRI * HTTP/1.1\r\n\r\n".utf8 { n.receive([b]) }   // differs at byte 10
        XCTAssertNil(n.conversation.http2Session)
        XCTAssertEqual(n.statusCodes().count, 1, "answered as HTTP/1.1")
    }

    func testPollStreamCountsEveryByteForItsClientOrTheConnection() {
        let m = MemoryConnection()
        _ = m.feed.publish(topic: .tick, data: "a")
        _ = m.feed.publish(topic: .tick, data: "b")
        let h2 = MemoryHTTP2Client(m)
        let poll = h2.request("/poll?since=0&client=h2c")
        let long = h2.request("/longpoll?since=2&timeout=30&client=h2c")
        let stats = h2.request("/stats")
        XCTAssertEqual(h2.status(poll), "200")
        let body = String(decoding: h2.body(poll), as: UTF8.self)
        XCTAssertTrue(body.hasPrefix("{\"events\":[{\"id\":1,"), body)
        XCTAssertNil(h2.status(long), "a long poll is parked on its stream")
        XCTAssertEqual(m.statsAsked, 1)
        // An event answers the parked stream.
        let e = h2.publish("wake")
        XCTAssertEqual(h2.status(long), "200")
        XCTAssertTrue(String(decoding: h2.body(long), as: UTF8.self).contains(String(decoding: e.json, as: UTF8.self)))
        XCTAssertTrue(h2.ended.contains(long))
        let snap = m.stats.snapshot()
        let mine = snap.clients["h2c"]!
        XCTAssertEqual(mine.requests, 2)
        XCTAssertEqual(mine.connections, 1)
        XCTAssertEqual(mine.eventsSent, 3)
        XCTAssertEqual(snap.http2.connections, 1)
        // Every loop's counters arrive: /stats answers on its stream, with the "http2" object.
        m.conversation.statsGathered(snap, uptime: 1)
        m.apply()
        h2.pump()
        XCTAssertEqual(h2.status(stats), "200")
        XCTAssertTrue(String(decoding: h2.body(stats), as: UTF8.self).contains("\"http2\":{\"connections\":1,"))
    }

    func testBytesInAddUpExactlyWithoutUntaggedStreams() {
        let m = MemoryConnection()
        _ = m.feed.publish(topic: .tick, data: "a")
        let h2 = MemoryHTTP2Client(m)
        for _ in 0..<3 { h2.request("/poll?since=0&client=exact") }
        let sse = h2.request("/sse?since=0&client=exact")
        _ = h2.publish("live")
        XCTAssertEqual(h2.data[sse]?.count, 2)
        for case .write(let bytes) in h2.client.ping(7) { h2.send(bytes) }
        h2.pump()
        let snap = m.stats.snapshot()
        let mine = snap.clients["exact"]!
        XCTAssertEqual(mine.bytesIn + snap.http2.bytesIn, h2.sent)
        XCTAssertEqual(mine.bytesOut + snap.http2.bytesOut, m.written.count)
        XCTAssertEqual(snap.transports[Transport.poll.rawValue].requests, 3)
        XCTAssertEqual(snap.transports[Transport.sse.rawValue].requests, 1)
        XCTAssertGreaterThan(snap.http2.bytesIn, http2ClientPreface.count)
    }

    /// Encode once: each stream's DATA payload is the event's SSE block or WebSocket frame,
    /// the very bytes built at publication; only the 9-byte frame header is per stream.
    func testEventsAreTheBytesBuiltAtPublication() {
        let m = MemoryConnection()
        let h2 = MemoryHTTP2Client(m)
        let sse = h2.request("/sse")
        let ws = h2.request("/ws", method: "CONNECT", extra: [HPACKHeaderField(":protocol", "websocket")], endStream: false)
        XCTAssertEqual(h2.status(sse), "200")
        XCTAssertEqual(h2.headers[sse]?.first { $0.name == "content-type" }?.value, "text/event-stream")
        XCTAssertEqual(h2.status(ws), "200", "RFC 8441 §5: extended CONNECT is answered 200")
        let e = h2.publish("same bytes")
        XCTAssertEqual(h2.data[sse]?.last, e.sseBlock)
        XCTAssertEqual(h2.data[ws]?.last, e.webSocketFrame)
        XCTAssertEqual(m.subscribed, .http2)
    }

    func testEchoOverExtendedConnectAndCloseEndsTheStreamOnly() {
        let m = MemoryConnection()
        let h2 = MemoryHTTP2Client(m)
        let ws = h2.request("/echo", method: "CONNECT", extra: [HPACKHeaderField(":protocol", "websocket")], endStream: false)
        let hello = WebSocketFrameEncoder.encode(opcode: .text, payload: Array("hello".utf8), maskingKey: [1, 2, 3, 4])
        h2.sendData(ws, hello)
        XCTAssertEqual(h2.data[ws]?.last, WebSocketFrameEncoder.encode(opcode: .text, payload: Array("hello".utf8)))
        h2.sendData(ws, WebSocketFrameEncoder.encode(opcode: .close, payload: [0x03, 0xE8], maskingKey: [5, 6, 7, 8]))
        XCTAssertEqual(h2.data[ws]?.dropLast().last, WebSocketFrameEncoder.encode(opcode: .close, payload: [0x03, 0xE8]))
        XCTAssertTrue(h2.ended.contains(ws), "END_STREAM after the closing handshake")
        XCTAssertFalse(m.closed, "the connection stays")
        XCTAssertEqual(h2.status(h2.request("/healthz")), "200")
    }

    /// PROTOCOL.md §9, §11: a push subscriber whose stream window stays closed is dropped like a slow
    /// reader; what waits for window never passes --max-queue.
    func testPushStreamWithClosedWindowIsDropped() {
        var config = ServerConfig()
        config.maxQueue = 4096
        let m = MemoryConnection(config: config)
        var clientConfig = HTTP2Connection.Configuration()
        clientConfig.initialWindowSize = 200     // the client reads almost nothing
        clientConfig.automaticWindowUpdates = false   // and never gives the window back
        let h2 = MemoryHTTP2Client(m, configuration: clientConfig)
        let sse = h2.request("/sse")
        var dropped = false
        for i in 0..<200 {
            _ = h2.publish(String(repeating: "x", count: 100) + "\(i)")
            XCTAssertLessThanOrEqual(m.conversation.http2Session!.pendingTotal, config.maxQueue + HTTP2Session.queueSlack)
            if h2.resets[sse] != nil || h2.ended.contains(sse) { dropped = true; break }
            if m.conversation.http2Session!.streams[sse] == nil { dropped = true; break }
        }
        XCTAssertTrue(dropped, "the stalled SSE stream was never dropped")
        XCTAssertFalse(m.closed, "only the stream is dropped, not the connection")
        XCTAssertEqual(h2.status(h2.request("/healthz")), "200")
    }

    /// PROTOCOL.md §11: --max-queue is per connection on HTTP/2 too: poll answers that wait for a
    /// window the peer never opens stay within it (each new answer holds at least one event).
    func testAnswersWaitingForWindowAreBoundedPerConnection() {
        var config = ServerConfig()
        config.maxQueue = 4096
        let m = MemoryConnection(config: config)
        for i in 0..<50 { _ = m.feed.publish(topic: .tick, data: String(repeating: "e", count: 100) + "\(i)") }
        var clientConfig = HTTP2Connection.Configuration()
        clientConfig.initialWindowSize = 0
        clientConfig.automaticWindowUpdates = false
        let h2 = MemoryHTTP2Client(m, configuration: clientConfig)
        for _ in 0..<100 { h2.request("/poll?since=0") }
        let session = m.conversation.http2Session!
        let oneEventAnswer = 40 + 200
        XCTAssertGreaterThan(session.pendingTotal, 0, "nothing can leave: the window is 0")
        XCTAssertLessThanOrEqual(session.pendingTotal, config.maxQueue + HTTP2Session.queueSlack + 100 * oneEventAnswer)
        XCTAssertLessThan(session.pendingTotal, 100 * config.maxQueue / 4, "answers did not shrink to the room left")
    }

    func testStreamFloodIsRefusedAndLimitsAreTheCodecs() {
        let m = MemoryConnection()
        let h2 = MemoryHTTP2Client(m)
        var ids: [UInt32] = []
        for _ in 0..<101 { ids.append(h2.request("/longpoll?timeout=60")) }
        XCTAssertEqual(h2.resets[ids[100]], .refusedStream)
        XCTAssertNil(h2.resets[ids[0]])
        XCTAssertEqual(m.conversation.http2Session!.streams.count, 100)
        _ = h2.publish("one for all")
        XCTAssertEqual(ids.prefix(100).filter { h2.status($0) == "200" }.count, 100)
        XCTAssertTrue(m.conversation.http2Session!.streams.isEmpty)
    }

    /// PROTOCOL.md §11: request bodies of all streams together are bounded (a stream
    /// past twice the body limit is refused), and so are WebSockets per connection.
    func testBodiesAndWebSocketsPerConnectionAreBounded() {
        let m = MemoryConnection()
        let h2 = MemoryHTTP2Client(m)
        let chunk = [UInt8](repeating: 0x61, count: 60_000)
        let posts = (0..<3).map { _ in h2.request("/publish", method: "POST", endStream: false) }
        for id in posts { h2.sendData(id, chunk) }
        XCTAssertNil(h2.resets[posts[0]])
        XCTAssertNil(h2.resets[posts[1]])
        XCTAssertEqual(h2.resets[posts[2]], .refusedStream)
        h2.sendData(posts[0], Array("!".utf8), endStream: true)
        XCTAssertEqual(h2.status(posts[0]), "200")
        var statuses: [String?] = []
        for _ in 0..<(HTTP2Session.maxWebSockets + 1) {
            statuses.append(h2.status(h2.request("/echo", method: "CONNECT", extra: [HPACKHeaderField(":protocol", "websocket")], endStream: false)))
        }
        XCTAssertEqual(statuses.filter { $0 == "200" }.count, HTTP2Session.maxWebSockets)
        XCTAssertEqual(statuses.last, "429")
    }

    func testConnectionErrorSendsGoAwayAndCloses() {
        let m = MemoryConnection()
        let h2 = MemoryHTTP2Client(m)
        // DATA on stream 0: §6.1 PROTOCOL_ERROR, a connection error.
        h2.send(HTTP2FrameEncoder.encode(HTTP2Frame(streamID: 0, .data([1], endStream: false))))
        var goAway: HTTP2ErrorCode?
        let frames = HTTP2FrameCounter.runs(ofFrames: m.written)
        XCTAssertFalse(frames.isEmpty)
        // The last frame written is GOAWAY PROTOCOL_ERROR (type 7, code at payload bytes 4..<8).
        let last = frames.last!.range
        var i = last.lowerBound
        while i < last.upperBound {
            let length = Int(m.written[i]) << 16 | Int(m.written[i + 1]) << 8 | Int(m.written[i + 2])
            if m.written[i + 3] == HTTP2FrameType.goAway {
                goAway = HTTP2ErrorCode(rawValue: UInt32(m.written[i + 13]) << 24 | UInt32(m.written[i + 14]) << 16 | UInt32(m.written[i + 15]) << 8 | UInt32(m.written[i + 16]))
            }
            i += 9 + length
        }
        XCTAssertEqual(goAway, .protocolError)
        m.drain()
        XCTAssertTrue(m.halfClosed, "lingering close after GOAWAY")
    }
}

final class HTTP2FrameCounterTests: XCTestCase {
    /// The preface, SETTINGS, HEADERS on 1 without END_HEADERS, CONTINUATION, DATA on 3.
    static let sample: [UInt8] = http2ClientPreface
        + HTTP2FrameEncoder.encode(HTTP2Frame(streamID: 0, .settings([])))
        + HTTP2FrameEncoder.encode(HTTP2Frame(streamID: 1, .headers(fieldBlock: [0x82, 0x86], endStream: true, endHeaders: false)))
        + HTTP2FrameEncoder.encode(HTTP2Frame(streamID: 1, .continuation(fieldBlock: [0x84], endHeaders: true)))
        + HTTP2FrameEncoder.encode(HTTP2Frame(streamID: 3, .data(Array(repeating: 7, count: 20), endStream: false)))

    func totals(_ runs: [HTTP2FrameCounter.Run]) -> [UInt32: Int] {
        runs.reduce(into: [:]) { $0[$1.streamID, default: 0] += $1.count }
    }

    func testRunsWholeByteByByteAndAtEverySplit() {
        let want: [UInt32: Int] = [0: 24 + 9, 1: 9 + 2 + 9 + 1, 3: 9 + 20]
        let bytes = Self.sample
        for split in [nil] + Array(1..<bytes.count).map(Optional.some) {
            var counter = HTTP2FrameCounter()
            var runs: [HTTP2FrameCounter.Run] = []
            if let k = split {
                runs += bytes[..<k].withUnsafeBytes { counter.scan($0) }
                runs += bytes[k...].withUnsafeBytes { counter.scan($0) }
            } else {
                runs = bytes.withUnsafeBytes { counter.scan($0) }
            }
            XCTAssertEqual(totals(runs), want, "split at \(split ?? -1)")
            XCTAssertEqual(counter.heldHeaderBytes, 0)
        }
        var counter = HTTP2FrameCounter()
        var runs: [HTTP2FrameCounter.Run] = []
        for b in bytes { runs += [b].withUnsafeBytes { counter.scan($0) } }
        XCTAssertEqual(totals(runs), want, "byte by byte")
    }

    func testOpenFieldBlockAndPartialFrameAreKnown() {
        var counter = HTTP2FrameCounter()
        let cut = 24 + 9 + 9 + 2        // after the HEADERS frame without END_HEADERS
        _ = Self.sample[..<cut].withUnsafeBytes { counter.scan($0) }
        XCTAssertEqual(counter.openFieldBlock, 1)
        _ = Self.sample[cut..<(cut + 9 + 1 + 9 + 5)].withUnsafeBytes { counter.scan($0) }
        XCTAssertNil(counter.openFieldBlock)
        XCTAssertEqual(counter.partialFrameStream, 3)
    }

    func testRunsOfFramesWeSend() {
        let out = HTTP2FrameEncoder.encode(HTTP2Frame(streamID: 0, .settings([], ack: true)))
            + HTTP2FrameEncoder.encode(HTTP2Frame(streamID: 5, .data([1, 2, 3], endStream: false)))
            + HTTP2FrameEncoder.encode(HTTP2Frame(streamID: 5, .data([4], endStream: true)))
        let runs = HTTP2FrameCounter.runs(ofFrames: out)
        XCTAssertEqual(runs.map(\.streamID), [0, 5])
        XCTAssertEqual(runs.map { $0.range.count }, [9, 12 + 10])
    }
}
