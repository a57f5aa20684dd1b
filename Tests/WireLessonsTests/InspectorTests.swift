import XCTest
@testable import WireLessons

/// Golden output for fixed exchanges: what `wirelab inspect` prints must stay readable and exact.
final class InspectorTests: XCTestCase {
    func testAnnotatedPollExchangeMatchesGoldenOutput() {
        let request = Array("GET /poll?since=0 HTTP/1.1\r\nHost: 127.0.0.1:8080\r\n\r\n".utf8)
        XCTAssertEqual(Inspector.annotateHead(request, isRequest: true), [
            "    28 B  GET /poll?since=0 HTTP/1.1\\r\\n                  request line: method, target, version (RFC 9112 §3)",
            "    22 B  Host: 127.0.0.1:8080\\r\\n                        header field Host",
            "     2 B  \\r\\n                                            empty line: end of the head",
            "   = 52 B of head",
        ])
        let body = Array(#"{"events":[],"next":0,"missed":0}"#.utf8)
        XCTAssertEqual(Inspector.annotateBody(body), [
            #"    33 B  {"events":[],"next":0,"missed":0}               body"#,
        ])
    }

    func testMaskedFrameFromRFC6455Section57IsExplainedFieldByField() {
        // RFC 6455 §5.7: a single-frame masked text message "Hello".
        let frame: [UInt8] = [0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58]
        XCTAssertEqual(Inspector.annotateFrame(frame, direction: "client→server"), [
            "client→server frame, 11 B: header 6 B + payload 5 B",
            "  header bytes           81 85 37 fa 21 3d",
            "  FIN                    1  (final fragment)",
            "  RSV1 RSV2 RSV3         0 0 0  (0: no extension negotiated)",
            "  opcode                 0x1  (text)",
            "  MASK                   1  (client to server: always masked)",
            "  payload length         5  (7-bit length (0-125))",
            "  masking key            37 fa 21 3d",
            "  payload as sent        7f 9f 4d 51 58",
            "  unmasked (XOR key)     48 65 6c 6c 6f",
            "  payload (UTF-8)        Hello",
        ])
    }

    func testExtendedLengthFormsAreNamed() {
        // RFC 6455 §5.7: 256 bytes binary in a single unmasked frame: 0x82 0x7E 0x0100.
        let frame: [UInt8] = [0x82, 0x7E, 0x01, 0x00] + [UInt8](repeating: 0, count: 256)
        let lines = Inspector.annotateFrame(frame, direction: "server→client")
        XCTAssertTrue(lines.contains("  payload length         256  (126: 16-bit length follows (126-65535))"))
        XCTAssertTrue(lines.contains("  opcode                 0x2  (binary)"))
    }

    func testAcceptComputationUsesTheRFCExample() {
        // RFC 6455 §1.3.
        let lines = Inspector.acceptComputation(key: "dGhlIHNhbXBsZSBub25jZQ==")
        XCTAssertEqual(lines.last, "  Base64                 s3pPLMBiTxaQ9kYGzzhZRbK+xOo=")
        XCTAssertEqual(lines[2], "  key + GUID             dGhlIHNhbXBsZSBub25jZQ==258EAFA5-E914-47DA-95CA-C5AB0DC85B11")
    }

    func testSSEChunkIsSplitIntoChunkFramingAndFields() {
        let block = "id: 3\nevent: tick\ndata: {}\n\n"
        let chunk = Array((String(block.utf8.count, radix: 16) + "\r\n" + block + "\r\n").utf8)
        XCTAssertEqual(Inspector.annotateSSEChunks(chunk), [
            "     4 B  1c\\r\\n                                          chunk size: 0x1c = 28 B follow",
            "       6 B  id: 3\\n                                         field id: becomes Last-Event-ID on reconnect",
            "      12 B  event: tick\\n                                   field event: the listener name (topic)",
            "       9 B  data: {}\\n                                      field data: the event JSON (PROTOCOL.md §1)",
            "       1 B  \\n                                              blank line: dispatch the event",
            "     2 B  \\r\\n                                            end of chunk",
        ])
    }

    func testVisibleShowsLineEndsAndControlBytes() {
        XCTAssertEqual(Inspector.visible([0x41, 0x0D, 0x0A, 0x00, 0xFF]), "A\\r\\n\\x00\\xff")
    }
}
