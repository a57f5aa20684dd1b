import XCTest
@testable import WireCodec

final class WebSocketFrameDecoderTests: XCTestCase {
    static let rfcKey = WebSocketFrameEncoderTests.rfcKey
    let hello = Array("Hello".utf8)

    // MARK: - Helpers

    /// Feed the chunks in order, collecting every frame.
    static func decode(_ chunks: [[UInt8]], requireMasked: Bool, maxPayload: Int = 1 << 20) throws -> [WebSocketFrame] {
        var decoder = WebSocketFrameDecoder(requireMasked: requireMasked, maxPayload: maxPayload)
        var frames: [WebSocketFrame] = []
        for chunk in chunks {
            decoder.feed(chunk)
            while let frame = try decoder.nextFrame() { frames.append(frame) }
        }
        XCTAssertEqual(decoder.bufferedByteCount, 0, "bytes left over")
        return frames
    }

    /// The bytes decode to `expected` whole, byte by byte, split at every boundary and at random splits.
    func assertDecodes(_ bytes: [UInt8], requireMasked: Bool, maxPayload: Int = 1 << 20,
                       to expected: [WebSocketFrame], file: StaticString = #filePath, line: UInt = #line) {
        for chunks in Splits.all(bytes) {
            XCTAssertEqual(try Self.decode(chunks, requireMasked: requireMasked, maxPayload: maxPayload), expected,
                           "chunks \(chunks.map(\.count))", file: file, line: line)
        }
    }

    /// The bytes are rejected with `code`, however they are split.
    func assertRejects(_ bytes: [UInt8], requireMasked: Bool, maxPayload: Int = 1 << 20,
                       with code: WebSocketCloseCode, file: StaticString = #filePath, line: UInt = #line) {
        for chunks in Splits.all(bytes) {
            XCTAssertThrowsError(try Self.decode(chunks, requireMasked: requireMasked, maxPayload: maxPayload),
                                 file: file, line: line) { error in
                XCTAssertEqual((error as? WebSocketError)?.closeCode, code, file: file, line: line)
            }
        }
    }

    // MARK: - RFC 6455 §5.7 examples

    func testDecodesSingleFrameUnmaskedText() {
        assertDecodes([0x81, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f], requireMasked: false,
                      to: [WebSocketFrame(opcode: .text, payload: hello)])
    }

    func testDecodesSingleFrameMaskedText() {
        assertDecodes([0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58], requireMasked: true,
                      to: [WebSocketFrame(opcode: .text, maskingKey: Self.rfcKey, payload: hello)])
    }

    func testDecodesFragmentedUnmaskedText() {
        assertDecodes([0x01, 0x03, 0x48, 0x65, 0x6c, 0x80, 0x02, 0x6c, 0x6f], requireMasked: false,
                      to: [WebSocketFrame(fin: false, opcode: .text, payload: Array("Hel".utf8)),
                           WebSocketFrame(opcode: .continuation, payload: Array("lo".utf8))])
    }

    func testDecodesUnmaskedPing() {
        assertDecodes([0x89, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f], requireMasked: false,
                      to: [WebSocketFrame(opcode: .ping, payload: hello)])
    }

    func testDecodesMaskedPong() {
        assertDecodes([0x8a, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58], requireMasked: true,
                      to: [WebSocketFrame(opcode: .pong, maskingKey: Self.rfcKey, payload: hello)])
    }

    func testDecodes256ByteBinaryWith16BitLength() {
        let payload = (0..<256).map { UInt8($0) }
        assertDecodes([0x82, 0x7E, 0x01, 0x00] + payload, requireMasked: false,
                      to: [WebSocketFrame(opcode: .binary, payload: payload)])
    }

    func testDecodes64KiBBinaryWith64BitLength() throws {
        var rng = WireCodecTestRNG(seed: 64)
        let payload = rng.bytes(65536)
        let bytes: [UInt8] = [0x82, 0x7F, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00] + payload
        let expected = [WebSocketFrame(opcode: .binary, payload: payload)]
        // Too long to split at every byte: whole, every cut inside the header, random splits.
        XCTAssertEqual(try Self.decode([bytes], requireMasked: false), expected)
        for cut in 0...12 {
            XCTAssertEqual(try Self.decode([Array(bytes[..<cut]), Array(bytes[cut...])], requireMasked: false), expected)
        }
        for chunks in Splits.random(bytes, seed: 65, count: 10) {
            XCTAssertEqual(try Self.decode(chunks, requireMasked: false), expected)
        }
    }

    // MARK: - Round trips

    func testBoundaryPayloadLengthsRoundTripMaskedAndUnmasked() throws {
        var rng = WireCodecTestRNG(seed: 126)
        for length in [0, 1, 125, 126, 127, 65535, 65536] {
            let payload = rng.bytes(length)
            for key in [nil, rng.bytes(4)] {
                let bytes = WebSocketFrameEncoder.encode(opcode: .binary, payload: payload, maskingKey: key)
                let expected = [WebSocketFrame(opcode: .binary, maskingKey: key, payload: payload)]
                let chunkings = length <= 127 ? Splits.all(bytes) : [[bytes]] + Splits.random(bytes, seed: 1, count: 5)
                for chunks in chunkings {
                    XCTAssertEqual(try Self.decode(chunks, requireMasked: key != nil), expected, "length \(length)")
                }
            }
        }
    }

    func testRandomFrameSequencesRoundTripAtRandomSplits() throws {
        var rng = WireCodecTestRNG(seed: 2024)
        for round in 0..<50 {
            var bytes: [UInt8] = []
            var expected: [WebSocketFrame] = []
            for _ in 0..<Int.random(in: 1...10, using: &rng) {
                let opcode: WebSocketOpcode = [.text, .binary, .continuation, .ping, .pong, .close].randomElement(using: &rng)!
                let length = opcode.isControl ? Int.random(in: 0...125, using: &rng) : Int.random(in: 0...300, using: &rng)
                let fin = opcode.isControl || Bool.random(using: &rng)
                let key = rng.bytes(4), payload = rng.bytes(length)
                bytes += WebSocketFrameEncoder.encode(opcode: opcode, payload: payload, fin: fin, maskingKey: key)
                expected.append(WebSocketFrame(fin: fin, opcode: opcode, maskingKey: key, payload: payload))
            }
            for chunks in Splits.random(bytes, seed: UInt64(round), count: 5) {
                XCTAssertEqual(try Self.decode(chunks, requireMasked: true), expected)
            }
        }
    }

    func testDecoderAcceptsUnsafeRawBufferPointerInput() throws {
        var decoder = WebSocketFrameDecoder(requireMasked: false, maxPayload: 100)
        let bytes: [UInt8] = [0x81, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f]
        bytes.withUnsafeBytes { decoder.feed($0) }
        XCTAssertEqual(try decoder.nextFrame(), WebSocketFrame(opcode: .text, payload: hello))
        XCTAssertNil(try decoder.nextFrame())
    }

    func testDecoderCompactsItsBufferAcrossManyFeeds() throws {
        var decoder = WebSocketFrameDecoder(requireMasked: false, maxPayload: 100)
        let frame: [UInt8] = [0x81, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f]
        var count = 0
        // Feed 1.5 frames at a time so a partial frame is always left in the buffer.
        let stream = Array((0..<3000).map { _ in frame }.joined())
        var i = 0
        while i < stream.count {
            decoder.feed(Array(stream[i..<min(stream.count, i + 10)]))
            i += 10
            while let decoded = try decoder.nextFrame() {
                XCTAssertEqual(decoded.payload, hello)
                count += 1
            }
            XCTAssertLessThan(decoder.bufferedByteCount, 10)
        }
        XCTAssertEqual(count, 3000)
    }

    // MARK: - Frame rules (each a 1002 or 1009)

    func testDecoderRejectsRSV1WithoutExtension() {
        assertRejects([0xC1, 0x00], requireMasked: false, with: .protocolError)
    }

    func testDecoderRejectsRSV2WithoutExtension() {
        assertRejects([0xA1, 0x00], requireMasked: false, with: .protocolError)
    }

    func testDecoderRejectsRSV3WithoutExtension() {
        assertRejects([0x91, 0x00], requireMasked: false, with: .protocolError)
    }

    func testDecoderRejectsReservedNonControlOpcodes() {
        for opcode: UInt8 in 0x3...0x7 { assertRejects([0x80 | opcode, 0x00], requireMasked: false, with: .protocolError) }
    }

    func testDecoderRejectsReservedControlOpcodes() {
        for opcode: UInt8 in 0xB...0xF { assertRejects([0x80 | opcode, 0x00], requireMasked: false, with: .protocolError) }
    }

    func testDecoderRejectsFragmentedControlFrames() {
        for opcode: UInt8 in [0x8, 0x9, 0xA] { assertRejects([opcode, 0x00], requireMasked: false, with: .protocolError) }
    }

    func testDecoderRejectsControlFramesLongerThan125Bytes() {
        let payload = [UInt8](repeating: 0x41, count: 126)
        for opcode: UInt8 in [0x88, 0x89, 0x8A] {
            assertRejects([opcode, 0x7E, 0x00, 0x7E] + payload, requireMasked: false, with: .protocolError)
            assertRejects([opcode, 0x7F, 0, 0, 0, 0, 0, 0, 0, 0x7E] + payload, requireMasked: false, with: .protocolError)
        }
    }

    /// A control frame of exactly 125 bytes is allowed, even with a non-minimal 16-bit length.
    func testDecoderAcceptsControlFrameOf125Bytes() {
        let payload = [UInt8](repeating: 0x41, count: 125)
        assertDecodes([0x89, 0x7D] + payload, requireMasked: false, to: [WebSocketFrame(opcode: .ping, payload: payload)])
        assertDecodes([0x89, 0x7E, 0x00, 0x7D] + payload, requireMasked: false,
                      to: [WebSocketFrame(opcode: .ping, payload: payload)])
    }

    func testServerDecoderRejectsUnmaskedFrames() {
        assertRejects([0x81, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f], requireMasked: true, with: .protocolError)
    }

    func testClientDecoderRejectsMaskedFrames() {
        assertRejects([0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58], requireMasked: false,
                      with: .protocolError)
    }

    func testDecoderRejects64BitLengthWithMostSignificantBitSet() {
        assertRejects([0x82, 0x7F, 0x80, 0, 0, 0, 0, 0, 0, 0x01], requireMasked: false, maxPayload: .max,
                      with: .protocolError)
    }

    /// DEVIATION (tolerance): the minimal-length rule binds senders; receivers accept.
    func testDecoderAcceptsNonMinimalLengthEncoding() {
        assertDecodes([0x82, 0x7E, 0x00, 0x05] + hello, requireMasked: false,
                      to: [WebSocketFrame(opcode: .binary, payload: hello)])
        assertDecodes([0x82, 0x7F, 0, 0, 0, 0, 0, 0, 0, 0x05] + hello, requireMasked: false,
                      to: [WebSocketFrame(opcode: .binary, payload: hello)])
    }

    func testDecoderRejectsPayloadOverMaxPayloadAsSoonAsTheHeaderIsRead() {
        // Only the header is fed: the error must not wait for the payload.
        assertRejects([0x82, 0x7E, 0x01, 0x01], requireMasked: false, maxPayload: 256, with: .messageTooBig)
        assertRejects([0x82, 0x7F, 0x7F, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF], requireMasked: false,
                      maxPayload: 1 << 20, with: .messageTooBig)
        assertRejects([0x82, 0x0B], requireMasked: false, maxPayload: 10, with: .messageTooBig)
    }

    func testDecoderAcceptsPayloadOfExactlyMaxPayload() {
        let payload = [UInt8](repeating: 7, count: 10)
        assertDecodes([0x82, 0x0A] + payload, requireMasked: false, maxPayload: 10,
                      to: [WebSocketFrame(opcode: .binary, payload: payload)])
    }

    func testDecoderKeepsThrowingAfterFailure() {
        var decoder = WebSocketFrameDecoder(requireMasked: false, maxPayload: 100)
        decoder.feed([0xC1, 0x00])
        XCTAssertThrowsError(try decoder.nextFrame())
        decoder.feed([0x81, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f])   // a valid frame is ignored now
        XCTAssertThrowsError(try decoder.nextFrame()) { error in
            XCTAssertEqual(error as? WebSocketError, WebSocketError(.protocolError, "reserved bits set without a negotiated extension"))
        }
        XCTAssertThrowsError(try decoder.nextFrame())
    }

    // MARK: - Robustness

    func testRandomBytesNeverTrapTheDecoder() {
        var rng = WireCodecTestRNG(seed: 6455)
        let plausibleFirstBytes: [UInt8] = [0x01, 0x02, 0x00, 0x81, 0x82, 0x80, 0x88, 0x89, 0x8A]
        for i in 0..<2000 {
            var bytes = rng.bytes(Int.random(in: 0...64, using: &rng))
            // Half the inputs start like a real frame so the later states are reached too.
            if i % 2 == 0, !bytes.isEmpty { bytes[0] = plausibleFirstBytes.randomElement(using: &rng)! }
            for requireMasked in [true, false] {
                var decoder = WebSocketFrameDecoder(requireMasked: requireMasked, maxPayload: 1024)
                for chunk in Splits.random(bytes, seed: UInt64(i), count: 1).first ?? [] {
                    decoder.feed(chunk)
                    do { while try decoder.nextFrame() != nil {} } catch { break }
                }
            }
        }
    }
}
