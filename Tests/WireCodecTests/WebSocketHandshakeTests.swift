import XCTest
@testable import WireCodec

final class WebSocketHandshakeTests: XCTestCase {
    /// RFC 6455 §1.3: "dGhlIHNhbXBsZSBub25jZQ==" -> "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=".
    func testAcceptValueMatchesRFC6455Section1_3() {
        XCTAssertEqual(WebSocketHandshake.acceptValue(forKey: "dGhlIHNhbXBsZSBub25jZQ=="),
                       "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=")
    }

    func testGUIDIsTheOneFromTheRFC() {
        XCTAssertEqual(WebSocketHandshake.guid, "258EAFA5-E914-47DA-95CA-C5AB0DC85B11")
    }

    func testKeyMustDecodeToSixteenBytes() {
        XCTAssertTrue(WebSocketHandshake.isValidKey("dGhlIHNhbXBsZSBub25jZQ=="))
        XCTAssertFalse(WebSocketHandshake.isValidKey(Base64.encode([UInt8](repeating: 1, count: 15))))
        XCTAssertFalse(WebSocketHandshake.isValidKey(Base64.encode([UInt8](repeating: 1, count: 17))))
        XCTAssertFalse(WebSocketHandshake.isValidKey(""))
    }

    func testKeyMustBeBase64() {
        XCTAssertFalse(WebSocketHandshake.isValidKey("dGhlIHNhbXBsZSBub25jZQ"))     // no padding
        XCTAssertFalse(WebSocketHandshake.isValidKey("dGhlIHNhbXBsZSBub25jZQ!="))
        XCTAssertFalse(WebSocketHandshake.isValidKey("not a key at all"))
    }

    func testKeyIgnoresSurroundingSpaces() {
        XCTAssertTrue(WebSocketHandshake.isValidKey("  dGhlIHNhbXBsZSBub25jZQ== "))
        XCTAssertTrue(WebSocketHandshake.isValidKey("\tdGhlIHNhbXBsZSBub25jZQ==\t"))
        XCTAssertFalse(WebSocketHandshake.isValidKey("dGhlIHNhbXBs ZSBub25jZQ=="))
    }

    func testMakeKeyIsValidAndFresh() {
        let keys = (0..<20).map { _ in WebSocketHandshake.makeKey() }
        for key in keys { XCTAssertTrue(WebSocketHandshake.isValidKey(key), key) }
        XCTAssertEqual(Set(keys).count, keys.count)
    }
}
