import XCTest
@testable import WireCodec

/// RFC 6455 §5.7 examples, written literally, and the §5.3 masking transform.
final class WebSocketFrameEncoderTests: XCTestCase {
    /// The masking key used in all of §5.7's masked examples.
    static let rfcKey: [UInt8] = [0x37, 0xfa, 0x21, 0x3d]
    let hello = Array("Hello".utf8)

    func testEncodesSingleFrameUnmaskedText() {
        XCTAssertEqual(WebSocketFrameEncoder.encode(opcode: .text, payload: hello),
                       [0x81, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f])
    }

    func testEncodesSingleFrameMaskedText() {
        XCTAssertEqual(WebSocketFrameEncoder.encode(opcode: .text, payload: hello, maskingKey: Self.rfcKey),
                       [0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58])
    }

    func testEncodesFragmentedUnmaskedText() {
        XCTAssertEqual(WebSocketFrameEncoder.encode(opcode: .text, payload: Array("Hel".utf8), fin: false),
                       [0x01, 0x03, 0x48, 0x65, 0x6c])
        XCTAssertEqual(WebSocketFrameEncoder.encode(opcode: .continuation, payload: Array("lo".utf8)),
                       [0x80, 0x02, 0x6c, 0x6f])
    }

    func testEncodesUnmaskedPing() {
        XCTAssertEqual(WebSocketFrameEncoder.encode(opcode: .ping, payload: hello),
                       [0x89, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f])
    }

    func testEncodesMaskedPong() {
        XCTAssertEqual(WebSocketFrameEncoder.encode(opcode: .pong, payload: hello, maskingKey: Self.rfcKey),
                       [0x8a, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58])
    }

    func testEncodes256ByteBinaryWith16BitLength() {
        let frame = WebSocketFrameEncoder.encode(opcode: .binary, payload: [UInt8](repeating: 0xAB, count: 256))
        XCTAssertEqual(Array(frame[..<4]), [0x82, 0x7E, 0x01, 0x00])
        XCTAssertEqual(frame.count, 4 + 256)
    }

    func testEncodes64KiBBinaryWith64BitLength() {
        let frame = WebSocketFrameEncoder.encode(opcode: .binary, payload: [UInt8](repeating: 0xCD, count: 65536))
        XCTAssertEqual(Array(frame[..<10]), [0x82, 0x7F, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00])
        XCTAssertEqual(frame.count, 10 + 65536)
    }

    /// §5.2: "the minimal number of bytes MUST be used to encode the length".
    func testEncoderUsesMinimalLengthEncoding() {
        let expectedHeaderLength = [0: 2, 1: 2, 125: 2, 126: 4, 127: 4, 65535: 4, 65536: 10]
        for (length, headerLength) in expectedHeaderLength {
            XCTAssertEqual(WebSocketFrameEncoder.encodeHeader(opcode: .binary, payloadLength: length).count,
                           headerLength, "length \(length)")
            XCTAssertEqual(WebSocketFrameEncoder.encodeHeader(opcode: .binary, payloadLength: length,
                                                              mask: Self.rfcKey).count,
                           headerLength + 4, "masked length \(length)")
        }
    }

    func testEncodeHeaderIsThePrefixOfEncode() {
        var rng = WireCodecTestRNG(seed: 5)
        for length in [0, 1, 125, 126, 300, 70000] {
            let payload = rng.bytes(length)
            for key in [nil, Self.rfcKey] {
                let header = WebSocketFrameEncoder.encodeHeader(opcode: .binary, payloadLength: length,
                                                                fin: false, mask: key)
                let frame = WebSocketFrameEncoder.encode(opcode: .binary, payload: payload, fin: false, maskingKey: key)
                XCTAssertEqual(Array(frame[..<header.count]), header)
            }
        }
    }

    func testClosePayloadIsBigEndianCodeThenUTF8Reason() {
        XCTAssertEqual(WebSocketFrameEncoder.closePayload(code: 1000), [0x03, 0xE8])
        XCTAssertEqual(WebSocketFrameEncoder.closePayload(code: 1001, reason: "bye é"),
                       [0x03, 0xE9, 0x62, 0x79, 0x65, 0x20, 0xC3, 0xA9])
    }

    /// DEVIATION check: a reason that would overflow the 125-byte control frame limit is cut
    /// at a character boundary.
    func testClosePayloadCutsLongReasonAtACharacterBoundary() {
        let payload = WebSocketFrameEncoder.closePayload(code: 1000, reason: String(repeating: "é", count: 100))
        XCTAssertEqual(payload.count, 2 + 122)   // 61 two-byte characters fit in 123 bytes
        XCTAssertTrue(UTF8Validator.isValid(Array(payload[2...])))
    }

    func testMakeMaskingKeyIsFourBytes() {
        XCTAssertEqual(WebSocketFrameEncoder.makeMaskingKey().count, 4)
    }

    /// The reference: §5.3 "j = i MOD 4; transformed-octet-i = original-octet-i XOR masking-key-octet-j".
    static func naiveMask(_ bytes: [UInt8], key: [UInt8], offset: Int = 0) -> [UInt8] {
        bytes.enumerated().map { i, byte in byte ^ key[(i + offset) % 4] }
    }

    func testWordAtATimeMaskingMatchesNaiveMaskingOnRandomInputs() {
        var rng = WireCodecTestRNG(seed: 99)
        for _ in 0..<500 {
            let payload = rng.bytes(Int.random(in: 0...100, using: &rng))
            let key = rng.bytes(4)
            let offset = Int.random(in: 0...7, using: &rng)
            var fast = payload
            WebSocketFrameEncoder.applyMask(&fast, key: key, offset: offset)
            XCTAssertEqual(fast, Self.naiveMask(payload, key: key, offset: offset))
        }
    }

    /// Masking at an unaligned start address (a payload inside a larger buffer).
    func testMaskingWorksOnUnalignedSlices() {
        var rng = WireCodecTestRNG(seed: 100)
        let key = rng.bytes(4)
        for start in 0..<8 {
            var buffer = rng.bytes(64)
            let original = buffer
            buffer.withUnsafeMutableBytes { raw in
                WebSocketFrameEncoder.applyMask(UnsafeMutableRawBufferPointer(rebasing: raw[start..<start + 37]), key: key)
            }
            XCTAssertEqual(Array(buffer[start..<start + 37]), Self.naiveMask(Array(original[start..<start + 37]), key: key))
            XCTAssertEqual(Array(buffer[..<start]), Array(original[..<start]))
            XCTAssertEqual(Array(buffer[(start + 37)...]), Array(original[(start + 37)...]))
        }
    }

    func testMaskingTwiceRestoresThePayload() {
        var rng = WireCodecTestRNG(seed: 101)
        let payload = rng.bytes(1000), key = rng.bytes(4)
        var bytes = payload
        WebSocketFrameEncoder.applyMask(&bytes, key: key)
        XCTAssertNotEqual(bytes, payload)
        WebSocketFrameEncoder.applyMask(&bytes, key: key)
        XCTAssertEqual(bytes, payload)
    }
}
