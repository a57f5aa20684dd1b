import XCTest
@testable import WireLessons
import WireServer
import WireLoop

/// `wirelab inspect` against a quiet server (`wirelab serve --rate 0`): the handshake, a ping and
/// its pong, and one sentence that no event came — never a hang, never "the connection ended
/// before a whole frame arrived". Golden output where the bytes are fixed (the key and masking
/// keys are fixed here; only the Host line carries the port).
final class InspectQuietServerTests: XCTestCase {
    var server: Server!

    override func setUpWithError() throws {
        var config = ServerConfig()
        config.port = 0
        config.rate = 0
        server = Server(config: config)
        try server.start()
    }

    override func tearDown() { server.shutdown(grace: 0.1) }

    func testQuietWebSocketShowsHandshakePingPongAndSaysNoEventCame() throws {
        let client = try BlockingClient(host: "127.0.0.1", port: server.port)
        var keys: [[UInt8]] = [[0x37, 0xfa, 0x21, 0x3d], [0x01, 0x02, 0x03, 0x04]]
        // RFC 6455 §1.3's sample key, so the Accept value is the RFC's own.
        let lines = try InspectSession.webSocket(client, host: "127.0.0.1:\(server.port)", wait: 0.3,
                                                 key: "dGhlIHNhbXBsZSBub25jZQ==", maskingKey: { keys.removeFirst() })
        let afterRequest = Array(lines.drop { $0 != "── handshake response, server → client ──" })
        XCTAssertEqual(afterRequest, [
            "── handshake response, server → client ──",
            "    34 B  HTTP/1.1 101 Switching Protocols\\r\\n            status line: version, status code, reason (RFC 9112 §4)",
            "    20 B  Upgrade: websocket\\r\\n                          header field Upgrade: the protocol to switch to (RFC 9110 §7.8)",
            "    21 B  Connection: Upgrade\\r\\n                         header field Connection: keep-alive, close or upgrade",
            "    52 B  Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\\r\\n\n"
                + "                                                          header field Sec-WebSocket-Accept: proof the server read the key (RFC 6455 §4.2.2)",
            "     2 B  \\r\\n                                            empty line: end of the head",
            "   = 129 B of head",
            "",
            "Sec-WebSocket-Accept, computed (RFC 6455 §4.2.2):",
            "  key                    dGhlIHNhbXBsZSBub25jZQ==",
            "  key + GUID             dGhlIHNhbXBsZSBub25jZQ==258EAFA5-E914-47DA-95CA-C5AB0DC85B11",
            "  SHA-1 (20 bytes)       b3 7a 4f 2c c0 62 4f 16 90 f6 46 06 cf 38 59 45 b2 be c4 ea",
            "  Base64                 s3pPLMBiTxaQ9kYGzzhZRbK+xOo=",
            "  matches the server's   yes",
            "",
            "── no event within 0.3 s ──",
            "No event came within 0.3 s: the server is quiet (started with --rate 0, or between slow events). The connection stays open; a ping shows it is alive.",
            "",
            "── a ping, client → server (clients mask every frame, RFC 6455 §5.3) ──",
            "client→server frame, 11 B: header 6 B + payload 5 B",
            "  header bytes           89 85 37 fa 21 3d",
            "  FIN                    1  (final fragment)",
            "  RSV1 RSV2 RSV3         0 0 0  (0: no extension negotiated)",
            "  opcode                 0x9  (ping: asks the peer for a pong, RFC 6455 §5.5.2)",
            "  MASK                   1  (client to server: always masked)",
            "  payload length         5  (7-bit length (0-125))",
            "  masking key            37 fa 21 3d",
            "  payload as sent        5f 9f 4d 51 58",
            "  unmasked (XOR key)     68 65 6c 6c 6f",
            "  payload (UTF-8)        hello",
            "",
            "── the pong, server → client ──",
            "server→client frame, 7 B: header 2 B + payload 5 B",
            "  header bytes           8a 05",
            "  FIN                    1  (final fragment)",
            "  RSV1 RSV2 RSV3         0 0 0  (0: no extension negotiated)",
            "  opcode                 0xa  (pong: answers a ping with its payload, RFC 6455 §5.5.3)",
            "  MASK                   0  (server to client: never masked)",
            "  payload length         5  (7-bit length (0-125))",
            "  payload (UTF-8)        hello",
            "  same payload as ping   yes  (RFC 6455 §5.5.3: a pong echoes the ping's application data)",
            "",
            "── closing handshake, client → server ──",
            "client→server frame, 11 B: header 6 B + payload 5 B",
            "  header bytes           88 85 01 02 03 04",
            "  FIN                    1  (final fragment)",
            "  RSV1 RSV2 RSV3         0 0 0  (0: no extension negotiated)",
            "  opcode                 0x8  (close: begins or answers the closing handshake, RFC 6455 §5.5.1)",
            "  MASK                   1  (client to server: always masked)",
            "  payload length         5  (7-bit length (0-125))",
            "  masking key            01 02 03 04",
            "  payload as sent        02 ea 61 7d 64",
            "  unmasked (XOR key)     03 e8 62 79 65",
            "  close code             1000  reason \"bye\"",
            "",
            "── the server's close ──",
            "server→client frame, 4 B: header 2 B + payload 2 B",
            "  header bytes           88 02",
            "  FIN                    1  (final fragment)",
            "  RSV1 RSV2 RSV3         0 0 0  (0: no extension negotiated)",
            "  opcode                 0x8  (close: begins or answers the closing handshake, RFC 6455 §5.5.1)",
            "  MASK                   0  (server to client: never masked)",
            "  payload length         2  (7-bit length (0-125))",
            "  close code             1000  reason \"\"",
        ])
    }

    func testWebSocketShowsTheEventWhenOneComesWithinTheWait() throws {
        // Without since, a new WebSocket gets the events published after it opens: publish one
        // while inspect waits (the wait is long; the event ends it early).
        let feed = server.feed
        DispatchQueue.global().asyncAfter(deadline: .now() + 0.3) { feed.publish(topic: .tick, data: "abc") }
        let lines = try InspectSession.run(.ws, host: "127.0.0.1", port: server.port, wait: 10)
        let all = lines.joined(separator: "\n")
        XCTAssertTrue(lines.contains("── an event, server → client ──"), all)
        XCTAssertTrue(all.contains(#""topic":"tick","data":"abc"}"#), all)
        XCTAssertFalse(all.contains("No event came"), all)
        XCTAssertTrue(lines.contains("── the pong, server → client ──"), all)
    }

    func testQuietSSEShowsTheHeadAndSaysNoEventCame() throws {
        let lines = try InspectSession.run(.sse, host: "127.0.0.1", port: server.port, wait: 0.3)
        XCTAssertTrue(lines.contains { $0.contains("HTTP/1.1 200 OK") }, lines.joined(separator: "\n"))
        XCTAssertTrue(lines.contains { $0.contains("Content-Type: text/event-stream") })
        XCTAssertTrue(lines.contains("── the stream: nothing within 0.3 s ──"), lines.joined(separator: "\n"))
        XCTAssertEqual(lines.last, Inspector.quietSentence(.sse, wait: 0.3, closed: false))
    }

    func testQuietLongPollEndsAtItsTimeoutWithAnEmptyAnswer() throws {
        let lines = try InspectSession.run(.longpoll, host: "127.0.0.1", port: server.port, wait: 0.3)
        // The server's timeout is whole seconds: 0.3 asks for timeout=1.
        XCTAssertTrue(lines.contains { $0.contains("GET /longpoll?timeout=1&client=inspect-longpoll HTTP/1.1") })
        XCTAssertTrue(lines.contains { $0.contains(#"{"events":[],"next":0,"missed":0}"#) }, lines.joined(separator: "\n"))
        XCTAssertEqual(lines.last, "No event came within 1 s: the server answered at its timeout (timeout=1) with no events; a client would ask again at once.")
    }

    func testQuietPollSaysTheAnswerWasEmpty() throws {
        let lines = try InspectSession.run(.poll, host: "127.0.0.1", port: server.port, wait: 0.3)
        XCTAssertTrue(lines.last?.hasPrefix("The answer holds no event") ?? false, lines.joined(separator: "\n"))
    }

    func testBoundedReadSaysQuietOrClosed() throws {
        let client = try BlockingClient(host: "127.0.0.1", port: server.port)
        XCTAssertEqual(client.read(until: { !$0.isEmpty }, within: 0.1), .quiet)
        // A request the server answers and then closes (HTTP/1.0 without keep-alive).
        client.send(Array("GET /healthz HTTP/1.0\r\n\r\n".utf8))
        XCTAssertEqual(client.read(until: { _ in false }, within: 5), .closed)
        XCTAssertTrue(String(decoding: client.buffer, as: UTF8.self).hasSuffix("ok"))
    }

    func testPongCheckComparesPayloads() {
        XCTAssertTrue(Inspector.pongCheck([0x8a, 0x02, 0x68, 0x69], pingPayload: Array("hi".utf8)).contains("yes"))
        XCTAssertTrue(Inspector.pongCheck([0x8a, 0x00], pingPayload: Array("hi".utf8)).contains("NO"))
    }
}

/// A quiet server whose heartbeat comes within the wait: the heartbeat is shown, and named.
final class InspectHeartbeatTests: XCTestCase {
    func testQuietSSEShowsTheHeartbeatWhenOneComes() throws {
        var config = ServerConfig()
        config.port = 0
        config.rate = 0
        config.heartbeat = 0.2
        let server = Server(config: config)
        try server.start()
        defer { server.shutdown(grace: 0.1) }
        let lines = try InspectSession.run(.sse, host: "127.0.0.1", port: server.port, wait: 5)
        let all = lines.joined(separator: "\n")
        XCTAssertTrue(lines.contains { $0.contains(": hb\\n") && $0.contains("comment") }, all)
        XCTAssertTrue(all.contains("A heartbeat came, no event"), all)
    }
}

/// Finding 13 as a new user met it: `wirelab inspect ws --url` against `wirelab serve --rate 0`.
final class InspectCommandQuietTests: XCTestCase {
    func run(_ args: [String]) throws -> (status: Int32, stdout: String, stderr: String) {
        let bundle = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        let candidates = [bundle, URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath().deletingLastPathComponent()]
        guard let bin = candidates.map({ $0.appendingPathComponent("wirelab") })
                .first(where: { FileManager.default.isExecutableFile(atPath: $0.path) }) else {
            throw XCTSkip("wirelab binary not built next to the tests")
        }
        // ChildProcess, not Foundation's Process: see ChildProcess.swift (a missed exit can hang).
        let r = try ChildProcess.run(bin.path, ["inspect"] + args)
        XCTAssertFalse(r.timedOut, "wirelab inspect \(args) did not exit")
        return (r.status, String(decoding: r.stdout, as: UTF8.self), String(decoding: r.stderr, as: UTF8.self))
    }

    func testInspectWebSocketAgainstAQuietServerExitsZeroWithHandshakeAndPong() throws {
        var config = ServerConfig()
        config.port = 0
        config.rate = 0
        let server = Server(config: config)
        try server.start()
        defer { server.shutdown(grace: 0.1) }
        let r = try run(["ws", "--url", "http://127.0.0.1:\(server.port)", "--wait", "0.5"])
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertFalse(r.stderr.contains("before a whole frame"), r.stderr)
        XCTAssertTrue(r.stdout.contains("HTTP/1.1 101 Switching Protocols"), r.stdout)
        XCTAssertTrue(r.stdout.contains("No event came within 0.5 s"), r.stdout)
        XCTAssertTrue(r.stdout.contains("same payload as ping   yes"), r.stdout)
    }

    func testWaitMustBeAPositiveNumber() throws {
        let r = try run(["ws", "--wait", "0"])
        XCTAssertEqual(r.status, 2)
        XCTAssertTrue(r.stderr.contains("--wait"), r.stderr)
    }
}
