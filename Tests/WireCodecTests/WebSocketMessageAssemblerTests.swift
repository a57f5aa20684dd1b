import XCTest
@testable import WireCodec

final class WebSocketMessageAssemblerTests: XCTestCase {
    // MARK: - Helpers

    static func frame(_ opcode: WebSocketOpcode, _ payload: [UInt8], fin: Bool = true) -> WebSocketFrame {
        WebSocketFrame(fin: fin, opcode: opcode, payload: payload)
    }

    static func close(_ code: UInt16, _ reason: [UInt8] = []) -> WebSocketFrame {
        frame(.close, [UInt8(code >> 8), UInt8(code & 0xFF)] + reason)
    }

    /// Feed the frames; the last one must throw `code`, every earlier one must not.
    func assertFails(_ frames: [WebSocketFrame], maxMessage: Int = 1 << 20, with code: WebSocketCloseCode,
                     file: StaticString = #filePath, line: UInt = #line) {
        var assembler = WebSocketMessageAssembler(maxMessage: maxMessage)
        for frame in frames.dropLast() {
            XCTAssertNoThrow(try assembler.receive(frame), "an earlier frame failed", file: file, line: line)
        }
        XCTAssertThrowsError(try assembler.receive(frames.last!), file: file, line: line) { error in
            XCTAssertEqual((error as? WebSocketError)?.closeCode, code, file: file, line: line)
        }
    }

    // MARK: - Messages

    /// RFC 6455 §5.7 "A fragmented unmasked text message", from the wire to one message.
    func testAssemblesRFCFragmentedTextMessage() throws {
        let frames = try WebSocketFrameDecoderTests.decode([[0x01, 0x03, 0x48, 0x65, 0x6c, 0x80, 0x02, 0x6c, 0x6f]],
                                                           requireMasked: false)
        var assembler = WebSocketMessageAssembler(maxMessage: 100)
        XCTAssertNil(try assembler.receive(frames[0]))
        XCTAssertTrue(assembler.isAssembling)
        XCTAssertEqual(try assembler.receive(frames[1]), .text(Array("Hello".utf8)))
        XCTAssertFalse(assembler.isAssembling)
    }

    func testUnfragmentedMessagesAreReturnedAtOnce() throws {
        var assembler = WebSocketMessageAssembler(maxMessage: 100)
        XCTAssertEqual(try assembler.receive(Self.frame(.text, Array("hi".utf8))), .text(Array("hi".utf8)))
        XCTAssertEqual(try assembler.receive(Self.frame(.binary, [0xFF, 0x00])), .binary([0xFF, 0x00]))
        XCTAssertEqual(try assembler.receive(Self.frame(.text, [])), .text([]))
    }

    func testBinaryMessagesAreNotValidatedAsUTF8() throws {
        var assembler = WebSocketMessageAssembler(maxMessage: 100)
        XCTAssertNil(try assembler.receive(Self.frame(.binary, [0xC0], fin: false)))
        XCTAssertEqual(try assembler.receive(Self.frame(.continuation, [0xAF])), .binary([0xC0, 0xAF]))
    }

    func testPingAndPongPayloadsAreReturnedAsIs() throws {
        var assembler = WebSocketMessageAssembler(maxMessage: 100)
        XCTAssertEqual(try assembler.receive(Self.frame(.ping, [0xFF, 1, 2])), .ping([0xFF, 1, 2]))
        XCTAssertEqual(try assembler.receive(Self.frame(.pong, [])), .pong([]))
    }

    /// §5.4: "Control frames (see Section 5.5) MAY be injected in the middle of a fragmented message."
    func testControlFramesMayBeInterleavedInAFragmentedMessage() throws {
        var assembler = WebSocketMessageAssembler(maxMessage: 100)
        XCTAssertNil(try assembler.receive(Self.frame(.text, Array("Hel".utf8), fin: false)))
        XCTAssertEqual(try assembler.receive(Self.frame(.ping, [1])), .ping([1]))
        XCTAssertNil(try assembler.receive(Self.frame(.continuation, Array("l".utf8), fin: false)))
        XCTAssertEqual(try assembler.receive(Self.frame(.pong, [2])), .pong([2]))
        XCTAssertEqual(try assembler.receive(Self.close(1000)), .close(code: 1000, reason: ""))
        XCTAssertEqual(try assembler.receive(Self.frame(.continuation, Array("o".utf8))), .text(Array("Hello".utf8)))
    }

    func testEmptyFragmentsAreAllowed() throws {
        var assembler = WebSocketMessageAssembler(maxMessage: 100)
        XCTAssertNil(try assembler.receive(Self.frame(.text, [], fin: false)))
        XCTAssertNil(try assembler.receive(Self.frame(.continuation, [], fin: false)))
        XCTAssertEqual(try assembler.receive(Self.frame(.continuation, [])), .text([]))
    }

    // MARK: - Fragmentation rules (1002)

    func testContinuationWithoutAMessageInProgressIs1002() {
        assertFails([Self.frame(.continuation, [0x41])], with: .protocolError)
        // ... also right after a message finished.
        assertFails([Self.frame(.text, [0x41]), Self.frame(.continuation, [0x41])], with: .protocolError)
    }

    func testNewTextFrameInsideAFragmentedMessageIs1002() {
        assertFails([Self.frame(.text, [0x41], fin: false), Self.frame(.text, [0x42])], with: .protocolError)
    }

    func testNewBinaryFrameInsideAFragmentedMessageIs1002() {
        assertFails([Self.frame(.binary, [0x41], fin: false), Self.frame(.binary, [0x42])], with: .protocolError)
    }

    // MARK: - UTF-8 (1007)

    func testInvalidUTF8InASingleTextFrameIs1007() {
        assertFails([Self.frame(.text, [0x48, 0xC0, 0xAF])], with: .invalidFramePayloadData)
    }

    /// Fail fast: the first fragment is already invalid, so it fails before FIN arrives.
    func testInvalidUTF8FailsOnTheFragmentWhereItAppears() {
        assertFails([Self.frame(.text, [0x48, 0xED, 0xA0, 0x80], fin: false)], with: .invalidFramePayloadData)
    }

    /// A character split between fragments is fine when it is valid ...
    func testUTF8CharacterSplitAcrossFragmentsIsValid() throws {
        var assembler = WebSocketMessageAssembler(maxMessage: 100)
        XCTAssertNil(try assembler.receive(Self.frame(.text, [0x41, 0xE2, 0x82], fin: false)))
        XCTAssertEqual(try assembler.receive(Self.frame(.continuation, [0xAC])), .text([0x41, 0xE2, 0x82, 0xAC]))
    }

    /// ... and invalid UTF-8 split across fragments fails on the fragment that breaks it.
    func testInvalidUTF8SplitAcrossFragmentsIs1007() {
        assertFails([Self.frame(.text, [0x41, 0xE2, 0x82], fin: false),
                     Self.frame(.continuation, [0x41], fin: false)], with: .invalidFramePayloadData)
        assertFails([Self.frame(.text, [0xF4], fin: false),
                     Self.frame(.continuation, [0x90], fin: false)], with: .invalidFramePayloadData)
    }

    func testIncompleteUTF8AtTheFinalFragmentIs1007() {
        assertFails([Self.frame(.text, [0x41, 0xE2], fin: false), Self.frame(.continuation, [0x82])],
                    with: .invalidFramePayloadData)
        assertFails([Self.frame(.text, [0xF0, 0x9F, 0x98])], with: .invalidFramePayloadData)
    }

    // MARK: - Size (1009)

    func testMessageLargerThanMaxMessageIs1009() {
        assertFails([Self.frame(.binary, [UInt8](repeating: 0, count: 11))], maxMessage: 10, with: .messageTooBig)
    }

    func testFragmentedMessageLargerThanMaxMessageIs1009() {
        let six = [UInt8](repeating: 0x41, count: 6)
        assertFails([Self.frame(.text, six, fin: false), Self.frame(.continuation, six, fin: false)],
                    maxMessage: 10, with: .messageTooBig)
    }

    func testMessageOfExactlyMaxMessageIsAccepted() throws {
        var assembler = WebSocketMessageAssembler(maxMessage: 10)
        let five = [UInt8](repeating: 0x41, count: 5)
        XCTAssertNil(try assembler.receive(Self.frame(.text, five, fin: false)))
        XCTAssertEqual(try assembler.receive(Self.frame(.continuation, five)), .text(five + five))
    }

    // MARK: - Close frames

    func testEmptyClosePayloadHasNoCode() throws {
        var assembler = WebSocketMessageAssembler(maxMessage: 100)
        XCTAssertEqual(try assembler.receive(Self.frame(.close, [])), .close(code: nil, reason: ""))
    }

    func testCloseCodeAndReasonAreDecoded() throws {
        var assembler = WebSocketMessageAssembler(maxMessage: 100)
        XCTAssertEqual(try assembler.receive(Self.frame(.close, WebSocketFrameEncoder.closePayload(code: 1001, reason: "bye é"))),
                       .close(code: 1001, reason: "bye é"))
    }

    func testClosePayloadOfOneByteIs1002() {
        assertFails([Self.frame(.close, [0x03])], with: .protocolError)
    }

    func testValidCloseCodesAreAccepted() throws {
        var assembler = WebSocketMessageAssembler(maxMessage: 100)
        for code: UInt16 in [1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 1012, 1013, 1014, 3000, 3999, 4000, 4999] {
            XCTAssertEqual(try assembler.receive(Self.close(code)), .close(code: code, reason: ""), "code \(code)")
        }
    }

    func testCloseCode999Is1002() { assertFails([Self.close(999)], with: .protocolError) }
    func testCloseCode0Is1002() { assertFails([Self.close(0)], with: .protocolError) }
    func testCloseCode1004Is1002() { assertFails([Self.close(1004)], with: .protocolError) }
    func testCloseCode1005Is1002() { assertFails([Self.close(1005)], with: .protocolError) }
    func testCloseCode1006Is1002() { assertFails([Self.close(1006)], with: .protocolError) }
    func testCloseCode1015Is1002() { assertFails([Self.close(1015)], with: .protocolError) }
    func testCloseCode1016Is1002() { assertFails([Self.close(1016)], with: .protocolError) }
    func testCloseCode2999Is1002() { assertFails([Self.close(2999)], with: .protocolError) }
    func testCloseCode5000Is1002() { assertFails([Self.close(5000)], with: .protocolError) }
    func testCloseCode65535Is1002() { assertFails([Self.close(65535)], with: .protocolError) }

    func testInvalidUTF8CloseReasonIs1007() {
        assertFails([Self.close(1000, [0x62, 0xC0, 0xAF])], with: .invalidFramePayloadData)
        assertFails([Self.close(1000, [0xE2, 0x82])], with: .invalidFramePayloadData)
    }
}
