// `wirelab inspect h2`-style annotation: RFC 7541 §C.4 requests over HTTP/2 frames, each field
// labelled with its HPACK representation, and the second request shown to shrink to indexes.
import XCTest
@testable import WireLessons
@testable import WireCodec

final class InspectHTTP2Tests: XCTestCase {
    func hexBytes(_ s: String) -> [UInt8] {
        let d = Array(s.filter { !$0.isWhitespace })
        return stride(from: 0, to: d.count, by: 2).map { UInt8(String(d[$0...$0 + 1]), radix: 16)! }
    }

    func testAnnotatesRFC7541C4RequestsFrameByFrame() {
        let first = hexBytes("8286 8441 8cf1 e3c2 e5f2 3a6b a0ab 90f4 ff")
        let second = hexBytes("8286 84be 5886 a8eb 1064 9cbf")
        var bytes = http2ClientPreface + HTTP2FrameEncoder.encode(HTTP2Frame(streamID: 0, .settings([HTTP2Setting(.enablePush, 0)])))
        bytes += HTTP2FrameEncoder.encode(HTTP2Frame(streamID: 1, .headers(fieldBlock: first, endStream: true, endHeaders: true)))
        bytes += HTTP2FrameEncoder.encode(HTTP2Frame(streamID: 3, .headers(fieldBlock: second, endStream: true, endHeaders: true)))
        var hpack = HPACKDecoder()
        let lines = Inspector.annotateHTTP2(bytes, preface: true, hpack: &hpack)
        let text = lines.joined(separator: "\n")
        XCTAssertTrue(lines[0].contains("connection preface"), text)
        XCTAssertTrue(text.contains("SETTINGS_ENABLE_PUSH = 0"), text)
        XCTAssertTrue(text.contains("HEADERS stream 1, block 17 B, END_STREAM, END_HEADERS"), text)
        XCTAssertTrue(text.contains("indexed 2 (static) → :method: GET"), text)
        XCTAssertTrue(text.contains("literal, incremental indexing, name index 1, value Huffman → :authority: www.example.com"), text)
        XCTAssertTrue(text.contains("indexed 62 (dynamic) → :authority: www.example.com"), text)
        XCTAssertTrue(text.contains("cache-control: no-cache"), text)
        XCTAssertTrue(text.contains("dynamic table 2 entries, 110 B"), text)
        // Each field line carries the exact bytes: the Huffman :authority is 41 8c f1 e3 ...
        XCTAssertTrue(text.contains("41 8c f1 e3 c2 e5 f2 3a 6b a0 ab 90 …"), text)
    }

    func testNeverIndexedAndSizeUpdateAreNamed() {
        var hpack = HPACKDecoder()
        let lines = Inspector.annotateHPACKBlock([0x20] + hexBytes("1008 7061 7373 776f 7264 0673 6563 7265 74"), decoder: &hpack)
        XCTAssertTrue(lines[0].contains("dynamic table size update → 0 B"), "\(lines)")
        XCTAssertTrue(lines[1].contains("literal never indexed, literal name, value raw → password: secret"), "\(lines)")
    }
}
