// `wirelab inspect h2`: the annotation of one HTTP/2 poll exchange, pinned line by line (a golden
// test, like InspectorTests), on bytes our own codec makes in both roles with fixed fields; then
// the live command against a server: the second request's header block is indexes only.
import XCTest
@testable import WireLessons
import WireCodec
import WireServer

final class InspectH2GoldenTests: XCTestCase {
    /// Client bytes for one GET /poll on stream 1, and the server's answer, with fixed values.
    static func exchange() throws -> (up: [UInt8], down: [UInt8]) {
        var client = HTTP2Connection(role: .client)
        var server = HTTP2Connection(role: .server)
        var up: [UInt8] = [], down: [UInt8] = []
        func writes(_ actions: [HTTP2Connection.Action], into out: inout [UInt8]) {
            for case .write(let b) in actions { out += b }
        }
        writes(client.start(), into: &up)
        let id = client.openStream()
        writes(try client.sendHeaders(streamID: id, fields: [
            HPACKHeaderField(":method", "GET"), HPACKHeaderField(":scheme", "http"),
            HPACKHeaderField(":authority", "127.0.0.1:8080"), HPACKHeaderField(":path", "/poll?since=0&client=c"),
            HPACKHeaderField("accept", "application/json")], endStream: true), into: &up)
        writes(server.start(), into: &down)
        writes(server.receive(up), into: &down)
        let body = Array(#"{"events":[],"next":0,"missed":0}"#.utf8)
        writes(try server.sendHeaders(streamID: id, fields: [
            HPACKHeaderField(":status", "200"), HPACKHeaderField("content-type", "application/json"),
            HPACKHeaderField("content-length", "\(body.count)")], endStream: false), into: &down)
        writes(try server.sendData(streamID: id, bytes: body, endStream: true), into: &down)
        return (up, down)
    }

    func testOnePollExchangeFrameByFrame() throws {
        let (up, down) = try Self.exchange()
        var serverSide = HPACKDecoder(), clientSide = HPACKDecoder()
        let lines = Inspector.annotateHTTP2(up, preface: true, hpack: &serverSide)
            + ["--"] + Inspector.annotateHTTP2(down, preface: false, hpack: &clientSide)
        let golden = #"""
            24 B  PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n                connection preface (RFC 9113 §3.4)
            27 B  00 00 12 04 00 00 00 00 00                      SETTINGS, 3 parameters
             6 B  SETTINGS_ENABLE_PUSH = 0                          parameter (§6.5.2)
             6 B  SETTINGS_MAX_CONCURRENT_STREAMS = 100             parameter (§6.5.2)
             6 B  SETTINGS_MAX_HEADER_LIST_SIZE = 16384             parameter (§6.5.2)
            13 B  00 00 04 08 00 00 00 00 00                      WINDOW_UPDATE stream 0, +983041
            54 B  00 00 2d 01 05 00 00 00 01                      HEADERS stream 1, block 45 B, END_STREAM, END_HEADERS
             1 B    82                                              indexed 2 (static) → :method: GET
             1 B    86                                              indexed 6 (static) → :scheme: http
            12 B    41 8a 08 9d 5c 0b 81 70 dc 78 0f 03             literal, incremental indexing, name index 1, value Huffman → :authority: 127.0.0.1:8080 [added as 62]
            18 B    44 90 62 b3 d1 47 f8 83 54 42 c0 0f …           literal, incremental indexing, name index 4, value Huffman → :path: /poll?since=0&client=c [added as 62]
            13 B    53 8b 1d 75 d0 62 0d 26 3d 4c 74 41 …           literal, incremental indexing, name index 19, value Huffman → accept: application/json [added as 62]
           = 45 B of header block for 5 fields; dynamic table 3 entries, 169 B
        --
            27 B  00 00 12 04 00 00 00 00 00                      SETTINGS, 3 parameters
             6 B  SETTINGS_MAX_CONCURRENT_STREAMS = 100             parameter (§6.5.2)
             6 B  SETTINGS_MAX_HEADER_LIST_SIZE = 16384             parameter (§6.5.2)
             6 B  SETTINGS_ENABLE_CONNECT_PROTOCOL = 1              parameter (§6.5.2)
            13 B  00 00 04 08 00 00 00 00 00                      WINDOW_UPDATE stream 0, +983041
             9 B  00 00 00 04 01 00 00 00 00                      SETTINGS ACK
            27 B  00 00 12 01 04 00 00 00 01                      HEADERS stream 1, block 18 B, END_HEADERS
             1 B    88                                              indexed 8 (static) → :status: 200
            13 B    5f 8b 1d 75 d0 62 0d 26 3d 4c 74 41 …           literal, incremental indexing, name index 31, value Huffman → content-type: application/json [added as 62]
             4 B    5c 02 33 33                                     literal, incremental indexing, name index 28, value raw → content-length: 33 [added as 62]
           = 18 B of header block for 3 fields; dynamic table 2 entries, 108 B
            42 B  00 00 21 00 01 00 00 00 01                      DATA stream 1, 33 B, END_STREAM
            33 B  {"events":[],"next":0,"missed":0}                 data
        """#
        if ProcessInfo.processInfo.environment["WIRELAB_PRINT_GOLDEN"] != nil { print(lines.joined(separator: "\n")) }
        XCTAssertEqual(lines.joined(separator: "\n"), golden)
    }

    func testLiveSecondRequestIsIndexesOnly() throws {
        var config = ServerConfig()
        config.port = 0
        config.rate = 0
        let server = Server(config: config)
        try server.start()
        defer { server.shutdown(grace: 0.2) }
        let lines = try InspectSession.run(.h2, host: "127.0.0.1", port: server.port)
        let text = lines.joined(separator: "\n")
        XCTAssertTrue(text.contains("connection preface (RFC 9113 §3.4)"), text)
        XCTAssertTrue(text.contains("SETTINGS_ENABLE_CONNECT_PROTOCOL = 1"), text)   // the server's RFC 8441 setting
        XCTAssertTrue(text.contains("HEADERS stream 3, block 6 B, END_STREAM, END_HEADERS"), text)
        XCTAssertTrue(text.contains("indexed 64 (dynamic) → :path: /poll?since=0&limit=1&client=inspect-h2"), text)
        XCTAssertTrue(text.contains("literal, incremental indexing, name index 4, value Huffman → :path:"), text)
        XCTAssertTrue(text.contains("DATA stream 3"), text)
        let summary = try XCTUnwrap(lines.last)
        XCTAssertTrue(summary.hasPrefix("HPACK: the first request's header block took "), summary)
        XCTAssertTrue(summary.contains("the second 6 B"), summary)
    }
}
