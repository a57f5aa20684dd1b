// HTTP2Connection as a server facing a scripted client (raw frames, so every misbehaviour can
// be written), and a server and a client HTTP2Connection talking to each other. Each RFC 9113
// error is checked by the frame the server answers with: GOAWAY (connection error) or
// RST_STREAM (stream error), carrying the code the RFC names.
import XCTest
@testable import WireCodec

/// A scripted client: writes raw frames to a server HTTP2Connection and decodes what it answers.
struct H2ScriptedClient {
    typealias F = HPACKHeaderField
    var server: HTTP2Connection
    var encoder = HPACKEncoder()
    private var answers = HTTP2FrameDecoder(expectPreface: false, maxFrameSize: 1 << 24 - 1)
    /// Frames the server wrote, and its other actions, since the start.
    var frames: [HTTP2Frame] = []
    var events: [HTTP2Connection.Action] = []
    var now: UInt64 = 0

    init(_ configuration: HTTP2Connection.Configuration = .init(), preface: Bool = true) {
        server = HTTP2Connection(role: .server, configuration: configuration)
        take(server.start())
        if preface { send(http2ClientPreface + HTTP2FrameEncoder.encode(HTTP2Frame(streamID: 0, .settings([])))) }
    }

    mutating func take(_ actions: [HTTP2Connection.Action]) {
        for action in actions {
            if case .write(let bytes) = action {
                answers.feed(bytes)
                while let frame = try! answers.nextFrame() { frames.append(frame) }
            } else {
                events.append(action)
            }
        }
    }

    mutating func send(_ bytes: [UInt8]) { take(server.receive(bytes, now: now)) }
    mutating func send(_ frames: HTTP2Frame...) { send(frames.flatMap(HTTP2FrameEncoder.encode)) }

    static let get = [F(":method", "GET"), F(":scheme", "http"), F(":path", "/poll"), F(":authority", "localhost")]

    mutating func request(_ id: UInt32, _ fields: [F] = get, endStream: Bool = true) {
        send(HTTP2Frame(streamID: id, .headers(fieldBlock: encoder.encode(fields), endStream: endStream, endHeaders: true)))
    }

    /// The code of the server's GOAWAY, if it sent one.
    var goAwayCode: HTTP2ErrorCode? {
        for f in frames { if case .goAway(_, let code, _) = f.payload { return code } }
        return nil
    }
    func resetCode(_ id: UInt32) -> HTTP2ErrorCode? {
        for f in frames where f.streamID == id { if case .rstStream(let code) = f.payload { return code } }
        return nil
    }
    var requests: [UInt32] {
        events.compactMap { if case .headers(let id, _, _) = $0 { return id } else { return nil } }
    }
}

final class HTTP2ConnectionTests: XCTestCase {
    typealias F = HPACKHeaderField
    typealias Frame = HTTP2Frame

    // MARK: - Preface and SETTINGS

    func testServerPrefaceAndSettingsAck() {
        var c = H2ScriptedClient()
        // Our SETTINGS first (§3.4), then the ACK of the client's (§6.5.3).
        guard case .settings(let list, ack: false) = c.frames.first?.payload else { return XCTFail("\(c.frames)") }
        XCTAssertTrue(list.contains(HTTP2Setting(.maxConcurrentStreams, 100)))
        XCTAssertTrue(list.contains(HTTP2Setting(.enableConnectProtocol, 1)))
        XCTAssertTrue(list.contains(HTTP2Setting(.maxHeaderListSize, 16384)))
        XCTAssertTrue(c.frames.contains(Frame(streamID: 0, .settings([], ack: true))))
        c.send(Frame(streamID: 0, .ping(42)))
        XCTAssertEqual(c.frames.last, Frame(streamID: 0, .ping(42, ack: true)))   // §6.7
        XCTAssertNil(c.goAwayCode)
    }

    func testFirstFrameMustBeSettings() {
        var c = H2ScriptedClient(preface: false)
        c.send(http2ClientPreface + HTTP2FrameEncoder.encode(Frame(streamID: 0, .ping(1))))
        XCTAssertEqual(c.goAwayCode, .protocolError)
        XCTAssertTrue(c.server.isFailed)
    }

    func testHTTP1RequestIsRefusedAtThePreface() {
        var c = H2ScriptedClient(preface: false)
        c.send(Array("GET / HTTP/1.1\r\nHost: a\r\n\r\n".utf8))
        XCTAssertEqual(c.goAwayCode, .protocolError)
    }

    // MARK: - A request, fed every way

    func testRequestAcrossCONTINUATIONFedEveryWay() {
        var encoder = HPACKEncoder()
        let fields = H2ScriptedClient.get + [F("user-agent", "wirelab-test"), F("accept", "application/json")]
        let block = encoder.encode(fields)
        var bytes = http2ClientPreface + HTTP2FrameEncoder.encode(Frame(streamID: 0, .settings([])))
        for frame in HTTP2FrameEncoder.headerFrames(streamID: 1, fieldBlock: block, endStream: true, maxFrameSize: 7) {
            bytes += HTTP2FrameEncoder.encode(frame)
        }
        for chunks in Splits.all(bytes) {
            var server = HTTP2Connection(role: .server)
            _ = server.start()
            var events: [HTTP2Connection.Action] = []
            for chunk in chunks {
                events += server.receive(chunk).filter { if case .write = $0 { return false } else { return true } }
            }
            XCTAssertEqual(events, [.headers(streamID: 1, fields: fields, endStream: true)], "chunks \(chunks.map(\.count))")
            if events.count != 1 { return }
        }
    }

    /// The RFC 7541 §C.3.1 block cut between HEADERS and CONTINUATION at every byte, including
    /// inside integers and string literals: the server reassembles the block before decoding.
    func testFieldBlockCutAtEveryByteAcrossCONTINUATION() {
        let block = hex("8286 8441 0f77 7777 2e65 7861 6d70 6c65 2e63 6f6d")
        let expected = [F(":method", "GET"), F(":scheme", "http"), F(":path", "/"), F(":authority", "www.example.com")]
        for cut in 0...block.count {
            var c = H2ScriptedClient()
            c.send(Frame(streamID: 1, .headers(fieldBlock: Array(block[..<cut]), endStream: true, endHeaders: false)),
                   Frame(streamID: 1, .continuation(fieldBlock: Array(block[cut...]), endHeaders: true)))
            XCTAssertEqual(c.events, [.headers(streamID: 1, fields: expected, endStream: true)], "cut at \(cut)")
        }
    }

    // MARK: - Server and client connections together

    func testServerAndClientExchangeWithFlowControl() throws {
        var server = HTTP2Connection(role: .server)
        var client = HTTP2Connection(role: .client)
        var serverEvents: [HTTP2Connection.Action] = [], clientEvents: [HTTP2Connection.Action] = []
        var toServer: [UInt8] = [], toClient: [UInt8] = []
        func route(_ actions: [HTTP2Connection.Action], _ wire: inout [UInt8], _ events: inout [HTTP2Connection.Action]) {
            for a in actions { if case .write(let b) = a { wire += b } else { events.append(a) } }
        }
        var wireToServer = 0, wireToClient = 0
        func pump() {
            while !toServer.isEmpty || !toClient.isEmpty {
                let s = toServer; toServer = []
                wireToServer += s.count
                route(server.receive(s), &toClient, &serverEvents)
                let c = toClient; toClient = []
                wireToClient += c.count
                route(client.receive(c), &toServer, &clientEvents)
            }
        }
        route(server.start(), &toClient, &serverEvents)
        route(client.start(), &toServer, &clientEvents)
        pump()
        let id = client.openStream()
        XCTAssertEqual(id, 1)
        route(try client.sendHeaders(streamID: id, fields: H2ScriptedClient.get, endStream: true), &toServer, &clientEvents)
        pump()
        XCTAssertEqual(serverEvents, [.headers(streamID: 1, fields: H2ScriptedClient.get, endStream: true)])
        // 200 KB body: more than the client's 65,535-byte stream window, so it flows only as the
        // client's WINDOW_UPDATEs arrive (§6.9).
        let body = (0..<200_000).map { UInt8(truncatingIfNeeded: $0 &* 7) }
        route(try server.sendHeaders(streamID: 1, fields: [F(":status", "200")], endStream: false), &toClient, &serverEvents)
        route(try server.sendData(streamID: 1, bytes: body, endStream: true), &toClient, &serverEvents)
        XCTAssertEqual(server.pendingDataCount(streamID: 1), 200_000 - 65_535)
        pump()
        var received: [UInt8] = [], ended = false
        for e in clientEvents {
            if case .data(1, let bytes, let end) = e { received += bytes; ended = ended || end }
        }
        XCTAssertEqual(clientEvents.first, .headers(streamID: 1, fields: [F(":status", "200")], endStream: false))
        XCTAssertEqual(received, body)
        XCTAssertTrue(ended)
        XCTAssertEqual(server.activeStreamCount, 0)
        XCTAssertEqual(client.activeStreamCount, 0)
        // Byte accounting: per stream and for the connection, both ends agree, and the sums
        // equal every byte that crossed the "socket" (nothing is left buffered here).
        let sc = server.takeByteCounts(), cc = client.takeByteCounts()
        XCTAssertEqual(Set(sc.keys), [0, 1])
        for id in sc.keys {
            XCTAssertEqual(sc[id]!.sent, cc[id]!.received, "stream \(id)")
            XCTAssertEqual(sc[id]!.received, cc[id]!.sent, "stream \(id)")
        }
        XCTAssertGreaterThan(sc[1]!.sent, body.count)
        XCTAssertEqual(sc.values.reduce(0) { $0 + $1.sent }, wireToClient)
        XCTAssertEqual(cc.values.reduce(0) { $0 + $1.sent }, wireToServer)
        XCTAssertEqual(cc[0]!.sent - 24, sc[0]!.received - 24)   // the preface is the connection's
        // The second request reuses the HPACK tables: it is much smaller on the wire.
        let before = toServer.count
        XCTAssertEqual(before, 0)
        let second = client.openStream()
        var bytes: [UInt8] = []
        route(try client.sendHeaders(streamID: second, fields: H2ScriptedClient.get, endStream: true), &bytes, &clientEvents)
        XCTAssertEqual(bytes.count, 9 + 4)   // four 1-byte indexed fields
    }

    /// §6.9.2: the peer's new SETTINGS_INITIAL_WINDOW_SIZE moves stream windows (even below
    /// zero) and releases waiting DATA; its SETTINGS_HEADER_TABLE_SIZE makes our next block
    /// open with a size update (RFC 7541 §4.2).
    func testPeerSettingsMoveWindowsAndTableSize() throws {
        var c = H2ScriptedClient()
        c.send(Frame(streamID: 0, .settings([HTTP2Setting(.initialWindowSize, 10), HTTP2Setting(.headerTableSize, 0)])))
        c.request(1)
        c.take(try c.server.sendHeaders(streamID: 1, fields: [F(":status", "200")], endStream: false))
        guard case .headers(let block, _, _, _, _)? = c.frames.last?.payload else { return XCTFail() }
        XCTAssertEqual(block, [0x20, 0x88])   // size update to 0, then indexed :status 200
        c.take(try c.server.sendData(streamID: 1, bytes: Array(repeating: 7, count: 25), endStream: true))
        XCTAssertEqual(c.frames.last, Frame(streamID: 1, .data(Array(repeating: 7, count: 10), endStream: false)))
        c.send(Frame(streamID: 0, .settings([HTTP2Setting(.initialWindowSize, 5)])))    // window 0 → -5
        XCTAssertEqual(c.server.pendingDataCount(streamID: 1), 15)
        c.send(Frame(streamID: 1, .windowUpdate(increment: 10)))                        // -5 + 10 = 5
        XCTAssertEqual(c.frames.last, Frame(streamID: 1, .data(Array(repeating: 7, count: 5), endStream: false)))
        c.send(Frame(streamID: 0, .settings([HTTP2Setting(.initialWindowSize, 100)])))  // +95
        XCTAssertEqual(c.frames.last, Frame(streamID: 1, .data(Array(repeating: 7, count: 10), endStream: true)))
        XCTAssertEqual(c.server.activeStreamCount, 0)
        XCTAssertNil(c.goAwayCode)
    }

    // MARK: - Connection errors (GOAWAY with the code)

    func testConnectionErrorsCarryTheirCodes() {
        func expect(_ code: HTTP2ErrorCode, _ line: UInt = #line, _ script: (inout H2ScriptedClient) -> Void) {
            var c = H2ScriptedClient()
            script(&c)
            XCTAssertEqual(c.goAwayCode, code, "\(c.frames.suffix(2))", line: line)
            XCTAssertTrue(c.server.isFailed, line: line)
            XCTAssertEqual(c.server.receive(HTTP2FrameEncoder.encode(Frame(streamID: 0, .ping(1)))), [], "silent after GOAWAY", line: line)
        }
        expect(.protocolError) { $0.send(Frame(streamID: 1, .data([1], endStream: false))) }          // DATA on idle (§5.1)
        expect(.protocolError) { $0.send(Frame(streamID: 3, .rstStream(.cancel))) }                   // RST_STREAM on idle (§6.4)
        expect(.protocolError) { $0.send(Frame(streamID: 5, .windowUpdate(increment: 1))) }           // WINDOW_UPDATE on idle
        expect(.protocolError) { $0.request(2) }                                                      // even stream from a client
        expect(.protocolError) { $0.send(Frame(streamID: 1, .continuation(fieldBlock: [0x82], endHeaders: true))) }
        expect(.protocolError) { c in                                                                // interleaved frame in a block
            c.send(Frame(streamID: 1, .headers(fieldBlock: [0x82], endStream: true, endHeaders: false)))
            c.send(Frame(streamID: 0, .ping(1)))
        }
        expect(.protocolError) { c in                                                                // CONTINUATION of another stream
            c.send(Frame(streamID: 1, .headers(fieldBlock: [0x82], endStream: true, endHeaders: false)))
            c.send(Frame(streamID: 3, .continuation(fieldBlock: [0x84], endHeaders: true)))
        }
        expect(.protocolError) { $0.send(Frame(streamID: 1, .pushPromise(promisedStreamID: 2, fieldBlock: [], endHeaders: true))) }
        expect(.protocolError) { $0.send(Frame(streamID: 0, .settings([HTTP2Setting(.enablePush, 2)]))) }
        expect(.protocolError) { $0.send(Frame(streamID: 0, .settings([HTTP2Setting(.maxFrameSize, 100)]))) }
        expect(.flowControlError) { $0.send(Frame(streamID: 0, .settings([HTTP2Setting(.initialWindowSize, 1 << 31)]))) }
        expect(.flowControlError) { $0.send(Frame(streamID: 0, .windowUpdate(increment: 0x7FFF_FFFF))) }   // 65,535 + that > 2^31-1
        expect(.compressionError) { $0.send(Frame(streamID: 1, .headers(fieldBlock: [0x80], endStream: true, endHeaders: true))) }
        expect(.frameSizeError) { $0.send(hex("004001 00 00 00000001")) }                             // 16,385 > our max
        expect(.streamClosed) { c in                                                                 // HEADERS on a finished stream
            c.request(3)
            c.request(1)
        }
    }

    /// A peer that ignores the windows. With automatic updates off, nothing is given back until
    /// the application consumes it, so the limits are exact.
    func testFlowControlViolations() {
        var config = HTTP2Connection.Configuration()
        config.automaticWindowUpdates = false
        config.connectionWindowSize = 100_000
        var c = H2ScriptedClient(config)
        let chunk = [UInt8](repeating: 0, count: 16_000)
        c.request(1, endStream: false)
        for _ in 0..<4 { c.send(Frame(streamID: 1, .data(chunk, endStream: false))) }   // 64,000 ≤ 65,535
        XCTAssertNil(c.resetCode(1))
        c.send(Frame(streamID: 1, .data(chunk, endStream: false)))                      // 80,000 > 65,535
        XCTAssertEqual(c.resetCode(1), .flowControlError)
        XCTAssertNil(c.goAwayCode)
        c.request(3, endStream: false)
        c.send(Frame(streamID: 3, .data(chunk, endStream: false)))                      // connection: 96,000 ≤ 100,000
        XCTAssertNil(c.goAwayCode)
        // The rejected frame's 16,000 bytes were given back at once (the window was below half);
        // the 64,000 handed to the application come back when it has consumed them.
        XCTAssertTrue(c.frames.contains { $0.streamID == 0 && $0.payload == .windowUpdate(increment: 16_000) })
        c.take(c.server.consumed(streamID: 1, count: 64_000))
        XCTAssertEqual(c.frames.last, Frame(streamID: 0, .windowUpdate(increment: 64_000)))
        // A peer that exceeds the connection window gets GOAWAY FLOW_CONTROL_ERROR.
        var d = H2ScriptedClient(config)
        for id in [UInt32(1), 3] { d.request(id, endStream: false) }
        for _ in 0..<4 { d.send(Frame(streamID: 1, .data(chunk, endStream: false))) }
        for _ in 0..<3 { d.send(Frame(streamID: 3, .data(chunk, endStream: false))) }     // 112,000 > 100,000
        XCTAssertEqual(d.goAwayCode, .flowControlError)
    }

    // MARK: - Stream errors (RST_STREAM with the code; the connection goes on)

    func testStreamErrorsCarryTheirCodes() {
        var c = H2ScriptedClient()
        c.request(1)                                                                     // half-closed (remote)
        c.send(Frame(streamID: 1, .data([1], endStream: false)))
        XCTAssertEqual(c.resetCode(1), .streamClosed)                                    // §5.1 half-closed (remote)
        c.send(Frame(streamID: 3, .priority(HTTP2Priority(dependency: 3))))
        XCTAssertEqual(c.resetCode(3), .protocolError)                                   // depends on itself (§5.3.1)
        c.request(5, [F(":method", "GET"), F(":scheme", "http"), F(":path", "/"), F("Upper", "x")])
        XCTAssertEqual(c.resetCode(5), .protocolError)                                   // upper-case name (§8.2.1)
        c.request(7, [F(":method", "GET"), F(":path", "/")])
        XCTAssertEqual(c.resetCode(7), .protocolError)                                   // no :scheme (§8.3.1)
        c.request(9, [F(":method", "GET"), F(":protocol", "websocket"), F(":scheme", "http"), F(":path", "/ws"), F(":authority", "a")])
        XCTAssertEqual(c.resetCode(9), .protocolError)                                   // :protocol without CONNECT (RFC 8441 §4)
        c.request(11, H2ScriptedClient.get + [F("connection", "keep-alive")])
        XCTAssertEqual(c.resetCode(11), .protocolError)                                  // connection-specific (§8.2.2)
        c.request(15, endStream: false)
        c.send(Frame(streamID: 15, .windowUpdate(increment: 0x7FFF_FFFF)))
        XCTAssertEqual(c.resetCode(15), .flowControlError)                               // stream window > 2^31-1
        c.send(Frame(streamID: 15, .data([1], endStream: true)))                         // after our reset: ignored (§5.1)
        XCTAssertNil(c.goAwayCode)
        let post = [F(":method", "POST"), F(":scheme", "http"), F(":path", "/publish"), F("content-length", "5")]
        c.request(19, post, endStream: false)
        c.send(Frame(streamID: 19, .data(Array("hello!".utf8), endStream: true)))
        XCTAssertEqual(c.resetCode(19), .protocolError)                                  // content-length ≠ DATA (§8.1.1)
        c.request(21, post, endStream: false)
        c.send(Frame(streamID: 21, .data(Array("hello".utf8), endStream: true)))
        XCTAssertNil(c.resetCode(21))
        c.request(23)
        XCTAssertEqual(c.requests, [1, 15, 19, 21, 23])
        XCTAssertNil(c.goAwayCode)
    }

    func testMaxConcurrentStreamsRefusesTheExtraStream() {
        var config = HTTP2Connection.Configuration()
        config.maxConcurrentStreams = 2
        var c = H2ScriptedClient(config)
        c.request(1, endStream: false)
        c.request(3, endStream: false)
        c.request(5, endStream: false)
        XCTAssertEqual(c.resetCode(5), .refusedStream)                                   // §5.1.2
        XCTAssertEqual(c.requests, [1, 3])
        _ = c.server.resetStream(streamID: 1, code: .cancel)
        c.request(7)
        XCTAssertEqual(c.requests, [1, 3, 7])
        XCTAssertNil(c.goAwayCode)
    }

    func testExtendedCONNECTForWebSocket() {
        var c = H2ScriptedClient()
        let connect = [F(":method", "CONNECT"), F(":protocol", "websocket"), F(":scheme", "http"), F(":path", "/ws"),
                       F(":authority", "localhost"), F("sec-websocket-version", "13")]
        c.request(1, connect, endStream: false)
        XCTAssertEqual(c.events, [.headers(streamID: 1, fields: connect, endStream: false)])
        // Without our SETTINGS_ENABLE_CONNECT_PROTOCOL the same request is malformed.
        var config = HTTP2Connection.Configuration()
        config.enableConnectProtocol = false
        var d = H2ScriptedClient(config)
        d.request(1, connect, endStream: false)
        XCTAssertEqual(d.resetCode(1), .protocolError)
    }

    func testHPACKBombGets431AndTheConnectionGoesOn() {
        var c = H2ScriptedClient()
        let big = F("x-big", String(repeating: "b", count: 4000))
        c.request(1, H2ScriptedClient.get + [big])                                       // 4 KB: fine
        // Five references to the 4 KB entry (index 62, the newest): 20 KB decoded from 5 bytes.
        let block = [UInt8](repeating: 0xBE, count: 5)
        c.send(Frame(streamID: 3, .headers(fieldBlock: block, endStream: true, endHeaders: true)))
        let answer = c.frames.first { if case .headers = $0.payload { return $0.streamID == 3 } else { return false } }
        guard case .headers(let responseBlock, true, true, _, _)? = answer?.payload else { return XCTFail("\(c.frames)") }
        var decoder = HPACKDecoder()
        XCTAssertEqual(try decoder.decode(responseBlock), [F(":status", "431")])
        c.request(5)
        XCTAssertEqual(c.requests, [1, 5])
        XCTAssertNil(c.goAwayCode)
    }

    func testRapidResetIsBounded() {
        var config = HTTP2Connection.Configuration()
        config.maxResetsPerWindow = 50
        // Spread over time (one window per 40 resets): never over the budget.
        var calm = H2ScriptedClient(config)
        for n in 0..<200 {
            calm.now = UInt64(n / 40) * 1_000_000_000
            let id = UInt32(2 * n + 1)
            calm.request(id, endStream: false)
            calm.send(Frame(streamID: id, .rstStream(.cancel)))
        }
        XCTAssertNil(calm.goAwayCode)
        // All at once: GOAWAY ENHANCE_YOUR_CALM after the 51st.
        var rapid = H2ScriptedClient(config)
        for n in 0..<200 {
            let id = UInt32(2 * n + 1)
            rapid.request(id, endStream: false)
            rapid.send(Frame(streamID: id, .rstStream(.cancel)))
        }
        XCTAssertEqual(rapid.goAwayCode, .enhanceYourCalm)
        XCTAssertEqual(rapid.requests.count, 51)
    }

    func testContinuationFloodIsBounded() {
        var c = H2ScriptedClient()
        c.send(Frame(streamID: 1, .headers(fieldBlock: [0x82], endStream: true, endHeaders: false)))
        for _ in 0..<40 { c.send(Frame(streamID: 1, .continuation(fieldBlock: [], endHeaders: false))) }
        XCTAssertEqual(c.goAwayCode, .enhanceYourCalm)
        var d = H2ScriptedClient()
        d.send(Frame(streamID: 1, .headers(fieldBlock: [0x82], endStream: true, endHeaders: false)))
        for _ in 0..<5 { d.send(Frame(streamID: 1, .continuation(fieldBlock: [UInt8](repeating: 0x82, count: 16_000), endHeaders: false))) }
        XCTAssertEqual(d.goAwayCode, .enhanceYourCalm)   // over 64 KiB of field block
    }

    func testRandomBytesAfterThePrefaceNeverTrap() {
        var rng = WireCodecTestRNG(seed: 0x48_32_43)
        var goaways = 0
        for _ in 0..<300 {
            var c = H2ScriptedClient()
            var bytes = rng.bytes(Int(rng.next() % 300))
            if bytes.count > 9 { bytes[0] = 0; bytes[1] = 0; bytes[2] %= 64; bytes[3] %= 10 }
            c.send(bytes)
            if c.goAwayCode != nil { goaways += 1 }
            // Every byte fed is counted once, or still waits in the decoder for its frame.
            let counted = c.server.takeByteCounts().values.reduce(0) { $0 + $1.received }
            XCTAssertEqual(counted + c.server.decoder.bufferedByteCount, 24 + 9 + bytes.count)
        }
        XCTAssertGreaterThan(goaways, 0)
    }
}
