// RFC 9113 §4.1 and §6 frame layouts, byte for byte: each frame type encoded by hand from the
// RFC's figures, decoded whole, byte by byte and split at every boundary (Splits.all), and
// re-encoded to the same bytes. Then every frame-level error of §4.2 and §6 with its code, and
// seeded random input: frames or a typed error, never a trap.
import XCTest
@testable import WireCodec

final class HTTP2FrameTests: XCTestCase {
    typealias Frame = HTTP2Frame

    /// Decodes `chunks` in order: the frames and the first error (a stream error does not stop it).
    static func decode(_ chunks: [[UInt8]], preface: Bool = false, maxFrameSize: Int = 16384) -> ([Frame], [HTTP2Error]) {
        var decoder = HTTP2FrameDecoder(expectPreface: preface, maxFrameSize: maxFrameSize)
        var frames: [Frame] = [], errors: [HTTP2Error] = []
        for chunk in chunks {
            decoder.feed(chunk)
            while true {
                do {
                    guard let frame = try decoder.nextFrame() else { break }
                    frames.append(frame)
                } catch {
                    errors.append(error)
                    if error.scope == .connection { return (frames, errors) }
                }
            }
        }
        return (frames, errors)
    }

    func assertDecodes(_ bytes: [UInt8], _ expected: [Frame], preface: Bool = false,
                       file: StaticString = #filePath, line: UInt = #line) {
        for chunks in Splits.all(bytes) {
            let (frames, errors) = Self.decode(chunks, preface: preface)
            XCTAssertEqual(frames, expected, "chunks \(chunks.map(\.count))", file: file, line: line)
            XCTAssertEqual(errors, [], file: file, line: line)
            if frames != expected { return }
        }
        // And back: the frames encode to the same bytes (preface aside).
        XCTAssertEqual(expected.flatMap(HTTP2FrameEncoder.encode), Array(bytes.dropFirst(preface ? 24 : 0)), file: file, line: line)
    }

    func assertError(_ bytes: [UInt8], _ code: HTTP2ErrorCode, _ scope: HTTP2Error.Scope = .connection,
                     maxFrameSize: Int = 16384, file: StaticString = #filePath, line: UInt = #line) {
        for chunks in Splits.all(bytes, randomCount: 5) {
            let (_, errors) = Self.decode(chunks, maxFrameSize: maxFrameSize)
            XCTAssertEqual(errors.first?.code, code, "chunks \(chunks.map(\.count)): \(errors)", file: file, line: line)
            XCTAssertEqual(errors.first?.scope, scope, file: file, line: line)
            if errors.first?.code != code { return }
        }
    }

    // MARK: - Layouts (§6.x figures)

    func testDATAPlainAndPadded() {
        // §6.1: length 5, type 0, flags END_STREAM, stream 1, "hello".
        assertDecodes(hex("000005 00 01 00000001 68656c6c6f"),
                      [Frame(streamID: 1, .data(Array("hello".utf8), endStream: true))])
        // PADDED: Pad Length 3, "hi", 3 zero octets; length = 1 + 2 + 3.
        assertDecodes(hex("000006 00 08 00000003 03 6869 000000"),
                      [Frame(streamID: 3, .data(Array("hi".utf8), endStream: false, padding: 3))])
    }

    func testHEADERSWithPriorityAndPadding() {
        // §6.2: PADDED|PRIORITY|END_HEADERS|END_STREAM, Pad Length 2, E=1 dependency 3,
        // weight 255, field block 82 (":method: GET"), padding 2.
        assertDecodes(hex("000009 01 2d 00000005 02 80000003 ff 82 0000"),
                      [Frame(streamID: 5, .headers(fieldBlock: [0x82], endStream: true, endHeaders: true,
                                                   priority: HTTP2Priority(exclusive: true, dependency: 3, weight: 255),
                                                   padding: 2))])
    }

    func testControlFrames() {
        let bytes = hex("""
            000005 02 00 00000007 00000001 10
            000004 03 00 00000007 00000008
            00000c 04 00 00000000 0003 00000064 0004 0000ffff
            000000 04 01 00000000
            000008 06 00 00000000 0102030405060708
            000008 06 01 00000000 0102030405060708
            00000a 07 00 00000000 00000007 0000000b 6869
            000004 08 00 00000000 00010000
            000004 08 00 00000007 00000100
            000003 fa 07 00000001 616263
            """)
        assertDecodes(bytes, [
            Frame(streamID: 7, .priority(HTTP2Priority(exclusive: false, dependency: 1, weight: 16))),
            Frame(streamID: 7, .rstStream(.cancel)),
            Frame(streamID: 0, .settings([HTTP2Setting(.maxConcurrentStreams, 100), HTTP2Setting(.initialWindowSize, 65535)])),
            Frame(streamID: 0, .settings([], ack: true)),
            Frame(streamID: 0, .ping(0x0102030405060708)),
            Frame(streamID: 0, .ping(0x0102030405060708, ack: true)),
            Frame(streamID: 0, .goAway(lastStreamID: 7, error: .enhanceYourCalm, debugData: Array("hi".utf8))),
            Frame(streamID: 0, .windowUpdate(increment: 65536)),
            Frame(streamID: 7, .windowUpdate(increment: 256)),
            Frame(streamID: 1, .unknown(type: 0xFA, flags: 0x07, payload: Array("abc".utf8))),
        ])
    }

    func testPUSH_PROMISEAndCONTINUATION() {
        assertDecodes(hex("""
            000007 05 08 00000001 01 00000002 82 00
            000001 09 04 00000001 84
            """), [
            Frame(streamID: 1, .pushPromise(promisedStreamID: 2, fieldBlock: [0x82], endHeaders: false, padding: 1)),
            Frame(streamID: 1, .continuation(fieldBlock: [0x84], endHeaders: true)),
        ])
    }

    func testPrefaceThenSETTINGS() {
        assertDecodes(http2ClientPreface + hex("000006 04 00 00000000 0002 00000000"),
                      [Frame(streamID: 0, .settings([HTTP2Setting(.enablePush, 0)]))], preface: true)
    }

    func testReservedBitIsIgnored() {
        let (frames, _) = Self.decode([hex("000004 08 00 80000007 00000100")])
        XCTAssertEqual(frames, [Frame(streamID: 7, .windowUpdate(increment: 256))])
    }

    func testHeaderFramesSplitIntoCONTINUATION() {
        let block = (0..<40).map { UInt8($0) }
        let frames = HTTP2FrameEncoder.headerFrames(streamID: 1, fieldBlock: block, endStream: true, maxFrameSize: 16)
        XCTAssertEqual(frames.count, 3)
        XCTAssertEqual(frames[0], Frame(streamID: 1, .headers(fieldBlock: Array(block[0..<16]), endStream: true, endHeaders: false)))
        XCTAssertEqual(frames[2], Frame(streamID: 1, .continuation(fieldBlock: Array(block[32..<40]), endHeaders: true)))
    }

    // MARK: - Errors (§3.4, §4.2, §6)

    func testBadPreface() {
        var decoder = HTTP2FrameDecoder(expectPreface: true)
        decoder.feed(Array("GET / HTTP/1.1\r\n".utf8))
        XCTAssertThrowsError(try decoder.nextFrame()) { XCTAssertEqual(($0 as? HTTP2Error)?.code, .protocolError) }
        // A prefix of the preface is not an error yet.
        var partial = HTTP2FrameDecoder(expectPreface: true)
        partial.feed(Array(http2ClientPreface[..<10]))
        XCTAssertNil(try partial.nextFrame())
    }

    func testFrameSizeErrors() {
        assertError(hex("004001 00 00 00000001") + [UInt8](repeating: 0, count: 16385), .frameSizeError)   // > 16384
        assertError(hex("000003 03 00 00000001 000000"), .frameSizeError)            // RST_STREAM ≠ 4
        assertError(hex("000005 04 00 00000000 0001000000"), .frameSizeError)        // SETTINGS not 6n
        assertError(hex("000006 04 01 00000000 000100000000"), .frameSizeError)      // SETTINGS ACK with payload
        assertError(hex("000007 06 00 00000000 01020304050607"), .frameSizeError)    // PING ≠ 8
        assertError(hex("000007 07 00 00000000 00000000000000"), .frameSizeError)    // GOAWAY < 8
        assertError(hex("000003 08 00 00000000 000001"), .frameSizeError)            // WINDOW_UPDATE ≠ 4
        assertError(hex("000004 02 00 00000003 00000001"), .frameSizeError, .stream(3))   // PRIORITY ≠ 5: stream error
        assertError(hex("000004 01 20 00000001 00000000"), .frameSizeError)          // HEADERS+PRIORITY, < 5
        assertError(hex("000000 00 08 00000001"), .frameSizeError)                   // PADDED with no Pad Length
    }

    func testStreamZeroAndNonZeroRules() {
        for type: UInt8 in [0, 1, 3, 5, 9] {   // DATA, HEADERS, RST_STREAM, PUSH_PROMISE, CONTINUATION on stream 0
            assertError(hex("000004") + [type, 0] + hex("00000000 00000000"), .protocolError)
        }
        assertError(hex("000005 02 00 00000000 0000000110"), .protocolError)          // PRIORITY on 0
        assertError(hex("000000 04 00 00000001"), .protocolError)                     // SETTINGS on 1
        assertError(hex("000008 06 00 00000001 0000000000000000"), .protocolError)    // PING on 1
        assertError(hex("000008 07 00 00000003 0000000000000000"), .protocolError)    // GOAWAY on 3
    }

    func testPaddingAndPriorityAndWindowRules() {
        assertError(hex("000003 00 08 00000001 03 6869"), .protocolError)            // Pad Length ≥ payload
        assertError(hex("000002 01 0c 00000001 02 82"), .protocolError)               // HEADERS padding too long
        assertError(hex("000005 02 00 00000003 00000003 10"), .protocolError, .stream(3))   // depends on itself
        assertError(hex("000004 08 00 00000000 00000000"), .protocolError)            // WINDOW_UPDATE 0 on connection
        assertError(hex("000004 08 00 00000005 00000000"), .protocolError, .stream(5))   // ... on a stream
    }

    func testStreamErrorLeavesDecoderUsable() {
        let (frames, errors) = Self.decode([hex("000004 08 00 00000005 00000000  000008 06 00 00000000 0000000000000001")])
        XCTAssertEqual(errors.map(\.scope), [.stream(5)])
        XCTAssertEqual(frames, [Frame(streamID: 0, .ping(1))])
    }

    func testConnectionErrorIsSticky() {
        var decoder = HTTP2FrameDecoder(expectPreface: false)
        decoder.feed(hex("000000 04 00 00000001"))
        XCTAssertThrowsError(try decoder.nextFrame())
        decoder.feed(hex("000000 04 01 00000000"))
        XCTAssertThrowsError(try decoder.nextFrame()) { XCTAssertEqual(($0 as? HTTP2Error)?.code, .protocolError) }
    }

    func testRandomInputGivesFramesOrTypedError() {
        var rng = WireCodecTestRNG(seed: 0x4832)
        var sawFrame = false, sawError = false
        for n in 0..<2000 {
            var bytes = rng.bytes(Int(rng.next() % 200))
            // Make most headers plausible so the payload rules get exercised, not just the size check.
            if bytes.count >= 9 { bytes[0] = 0; bytes[1] = 0; bytes[2] = UInt8(bytes[2] % 40); bytes[3] %= 12 }
            let chunks = n % 3 == 0 ? bytes.map { [$0] } : [bytes]
            let (frames, errors) = Self.decode(chunks)
            sawFrame = sawFrame || !frames.isEmpty
            sawError = sawError || !errors.isEmpty
            for frame in frames { XCTAssertLessThanOrEqual(frame.wireSize, bytes.count) }
        }
        XCTAssertTrue(sawFrame)
        XCTAssertTrue(sawError)
    }
}
