// RFC 6455 §7 closing handshake: the state both ends keep (WebSocketCloseState).
import XCTest
@testable import WireCodec

final class WebSocketCloseStateTests: XCTestCase {
    /// §7.1.2: we start closing, the peer answers, the handshake is complete.
    func testClosingWeStartEndsWhenThePeerAnswers() {
        var s = WebSocketCloseState.open
        XCTAssertEqual(s.sendClose(code: 1001), .sendClose(code: 1001))
        XCTAssertEqual(s, .closeSent(code: 1001))
        XCTAssertFalse(s.canSendData, "§5.5.1: no data frames after sending a Close")
        XCTAssertEqual(s.sendClose(code: 1000), .none, "a second Close is never sent")
        XCTAssertEqual(s.receivedClose(code: 1001), .closeConnection)
        XCTAssertEqual(s, .closed)
    }

    /// §5.5.1: "If an endpoint receives a Close frame and did not previously send a Close frame,
    /// the endpoint MUST send a Close frame in response" (PROTOCOL.md §2: the same code).
    func testPeerCloseIsAnsweredWithItsCode() {
        var s = WebSocketCloseState.open
        XCTAssertEqual(s.receivedClose(code: 4000), .sendClose(code: 4000))
        XCTAssertEqual(s, .closeReceived(code: 4000))
        XCTAssertFalse(s.canSendData, "nothing is echoed after a received Close")
        s.answeredClose()
        XCTAssertEqual(s, .closed)
        XCTAssertEqual(s.receivedClose(code: 1000), .none)
    }

    func testEmptyCloseIsAnsweredWith1000() {
        var s = WebSocketCloseState.open
        XCTAssertEqual(s.receivedClose(code: nil), .sendClose(code: 1000))
    }

    /// Wanting to close after the peer's Close arrived answers the peer's code.
    func testSendCloseAfterReceivedAnswersThePeersCode() {
        var s = WebSocketCloseState.closeReceived(code: 1000)
        XCTAssertEqual(s.sendClose(code: 1011), .sendClose(code: 1000))
        XCTAssertEqual(s, .closed)
    }

    /// PROTOCOL.md §9: a fragmented message completes within 1,000 frames (else 1009), however
    /// small they are (the attack: endless zero-byte continuation frames).
    func testEndlessZeroByteContinuationsFailWith1009() {
        var assembler = WebSocketMessageAssembler(maxMessage: 1 << 20, maxFragments: 1000)
        XCTAssertNoThrow(try assembler.receive(WebSocketFrame(fin: false, opcode: .text, payload: [])))
        for _ in 2...1000 {
            XCTAssertNoThrow(try assembler.receive(WebSocketFrame(fin: false, opcode: .continuation, payload: [])))
        }
        XCTAssertThrowsError(try assembler.receive(WebSocketFrame(fin: false, opcode: .continuation, payload: []))) {
            XCTAssertEqual(($0 as? WebSocketError)?.closeCode, .messageTooBig)
        }
    }

    func testThousandFramesIsStillAMessage() throws {
        var assembler = WebSocketMessageAssembler(maxMessage: 1 << 20, maxFragments: 1000)
        _ = try assembler.receive(WebSocketFrame(fin: false, opcode: .binary, payload: [1]))
        for _ in 2...999 { _ = try assembler.receive(WebSocketFrame(fin: false, opcode: .continuation, payload: [1])) }
        let m = try assembler.receive(WebSocketFrame(fin: true, opcode: .continuation, payload: [1]))
        XCTAssertEqual(m, .binary([UInt8](repeating: 1, count: 1000)))
        // The count starts over with the next message.
        _ = try assembler.receive(WebSocketFrame(fin: false, opcode: .binary, payload: []))
        XCTAssertEqual(assembler.fragmentCount, 1)
    }
}
