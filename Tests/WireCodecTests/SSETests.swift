import XCTest
@testable import WireCodec

final class SSETests: XCTestCase {
    // MARK: - Helpers

    static func decode(_ chunks: [[UInt8]]) -> (events: [SSEEvent], decoder: SSEDecoder) {
        var decoder = SSEDecoder()
        var events: [SSEEvent] = []
        for chunk in chunks {
            decoder.feed(chunk)
            while let event = decoder.nextEvent() { events.append(event) }
        }
        return (events, decoder)
    }

    /// The stream gives `expected` whole, byte by byte, split at every boundary and at random splits.
    func assertStream(_ text: String, gives expected: [SSEEvent], lastEventID: String? = nil, comments: Int? = nil,
                      file: StaticString = #filePath, line: UInt = #line) {
        assertStream(Array(text.utf8), gives: expected, lastEventID: lastEventID, comments: comments, file: file, line: line)
    }

    func assertStream(_ bytes: [UInt8], gives expected: [SSEEvent], lastEventID: String? = nil, comments: Int? = nil,
                      file: StaticString = #filePath, line: UInt = #line) {
        for chunks in Splits.all(bytes) {
            let (events, decoder) = Self.decode(chunks)
            XCTAssertEqual(events, expected, "chunks \(chunks.map(\.count))", file: file, line: line)
            if let lastEventID { XCTAssertEqual(decoder.lastEventID, lastEventID, file: file, line: line) }
            if let comments { XCTAssertEqual(decoder.comments, comments, file: file, line: line) }
        }
    }

    // MARK: - Encoder, exact bytes

    func testEncoderWritesIdEventAndData() {
        XCTAssertEqual(SSEEncoder.encode(id: "42", event: "tick", data: "hello"),
                       Array("id: 42\nevent: tick\ndata: hello\n\n".utf8))
    }

    func testEncoderOmitsNilIdAndEvent() {
        XCTAssertEqual(SSEEncoder.encode(id: nil, event: nil, data: "hello"), Array("data: hello\n\n".utf8))
        XCTAssertEqual(SSEEncoder.encode(id: "7", event: nil, data: "x"), Array("id: 7\ndata: x\n\n".utf8))
    }

    func testEncoderWritesOneDataLinePerLine() {
        XCTAssertEqual(SSEEncoder.encode(id: nil, event: nil, data: "a\nb\r\nc\rd"),
                       Array("data: a\ndata: b\ndata: c\ndata: d\n\n".utf8))
        XCTAssertEqual(SSEEncoder.encode(id: nil, event: nil, data: "a\n"), Array("data: a\ndata: \n\n".utf8))
        XCTAssertEqual(SSEEncoder.encode(id: nil, event: nil, data: ""), Array("data: \n\n".utf8))
    }

    func testEncoderWritesComments() {
        XCTAssertEqual(SSEEncoder.comment("heartbeat"), Array(": heartbeat\n\n".utf8))
    }

    func testEncoderOutputRoundTripsThroughTheDecoder() {
        let bytes = SSEEncoder.encode(id: "9", event: "news", data: "line 1\r\nline 2\n\nline 4 é")
            + SSEEncoder.comment("ping") + SSEEncoder.encode(id: nil, event: nil, data: "")
        assertStream(bytes, gives: [SSEEvent(id: "9", event: "news", data: "line 1\nline 2\n\nline 4 é"),
                                    SSEEvent(id: "9", data: "")],
                     lastEventID: "9", comments: 1)
    }

    // MARK: - WHATWG §9.2 examples

    /// "data: YHOO\ndata: +2\ndata: 10\n\n" is one event whose data is "YHOO\n+2\n10".
    func testMultiLineDataIsJoinedWithLineFeeds() {
        assertStream("data: YHOO\ndata: +2\ndata: 10\n\n", gives: [SSEEvent(data: "YHOO\n+2\n10")])
    }

    /// The spec's four-block example: a comment, an event with id 1, an `id` line with no
    /// value that resets the last event ID, and a value whose second leading space is kept.
    func testCommentsIdsAndLeadingSpace() {
        let stream = ": test stream\n\ndata: first event\nid: 1\n\ndata:second event\nid\n\ndata:  third event\n"
        assertStream(stream + "\n", gives: [SSEEvent(id: "1", data: "first event"),
                                            SSEEvent(id: nil, data: "second event"),
                                            SSEEvent(id: nil, data: " third event")],
                     lastEventID: "", comments: 1)
    }

    /// "data\n\ndata\ndata\n\ndata:" : a field with no colon is the field name with an empty
    /// value, so the first event is "" and the second "\n"; the last block never ends.
    func testDataFieldWithNoColonAppendsAnEmptyLine() {
        assertStream("data\n\ndata\ndata\n\ndata:", gives: [SSEEvent(data: ""), SSEEvent(data: "\n")])
    }

    /// "data:test\n\ndata: test\n\n": one space after the colon is optional.
    func testOneLeadingSpaceIsRemoved() {
        assertStream("data:test\n\ndata: test\n\n", gives: [SSEEvent(data: "test"), SSEEvent(data: "test")])
    }

    func testEventFieldSetsTheType() {
        assertStream("event: add\ndata: 73857293\n\nevent: remove\ndata: 2153\n\ndata: x\n\n",
                     gives: [SSEEvent(event: "add", data: "73857293"), SSEEvent(event: "remove", data: "2153"),
                             SSEEvent(data: "x")])
    }

    // MARK: - Line endings, BOM, UTF-8

    func testCRLFAndCRLineEndings() {
        let expected = [SSEEvent(id: "1", data: "a\nb"), SSEEvent(id: "1", data: "c")]
        assertStream("id: 1\r\ndata: a\r\ndata: b\r\n\r\ndata: c\r\n\r\n", gives: expected)
        assertStream("id: 1\rdata: a\rdata: b\r\rdata: c\r\r", gives: expected)
        assertStream("id: 1\ndata: a\r\ndata: b\r\rdata: c\n\r\n", gives: expected)
    }

    /// "\r\r" is two line endings (a blank line), and "\r" then "\n" in the next chunk is one.
    func testCRThenLFInTheNextChunkIsOneLineEnding() {
        let (events, _) = Self.decode([Array("data: a\r".utf8), Array("\ndata: b\r".utf8), Array("\n\r".utf8), Array("\n".utf8)])
        XCTAssertEqual(events, [SSEEvent(data: "a\nb")])
    }

    func testLeadingBOMIsSkipped() {
        assertStream([0xEF, 0xBB, 0xBF] + Array("data: hi\n\n".utf8), gives: [SSEEvent(data: "hi")])
    }

    /// Only one BOM, only at the start: a second one makes the field name "\u{FEFF}data", which is ignored.
    func testOnlyOneLeadingBOMIsSkipped() {
        assertStream([0xEF, 0xBB, 0xBF, 0xEF, 0xBB, 0xBF] + Array("data: hi\n\ndata: ok\n\n".utf8),
                     gives: [SSEEvent(data: "ok")])
    }

    func testMultiByteCharactersSplitAcrossChunks() {
        assertStream("data: 世界 🎉\n\n", gives: [SSEEvent(data: "世界 🎉")])
    }

    func testInvalidUTF8BecomesReplacementCharacter() {
        assertStream([0x64, 0x61, 0x74, 0x61, 0x3A, 0xFF, 0x0A, 0x0A], gives: [SSEEvent(data: "\u{FFFD}")])
    }

    // MARK: - Fields and dispatch

    /// An id without data sets the last event ID but dispatches nothing.
    func testIdWithoutDataSetsLastEventIDWithoutAnEvent() {
        assertStream("id: 5\n\n", gives: [], lastEventID: "5")
        assertStream("id: 5\n\ndata: x\n\n", gives: [SSEEvent(id: "5", data: "x")], lastEventID: "5")
    }

    func testIdContainingNULIsIgnored() {
        assertStream("id: 1\n\nid: a\u{0}b\ndata: x\n\n", gives: [SSEEvent(id: "1", data: "x")], lastEventID: "1")
    }

    func testEventTypeIsResetEvenWhenNothingIsDispatched() {
        assertStream("event: lost\n\ndata: x\n\n", gives: [SSEEvent(data: "x")])
    }

    func testUnknownFieldsAreIgnored() {
        assertStream("foo: bar\ndata: x\nDATA: y\n\n", gives: [SSEEvent(data: "x")])
    }

    func testRetryAcceptsDigitsOnly() {
        assertStream("retry: 3000\ndata: x\n\n", gives: [SSEEvent(data: "x", retry: 3000)])
        assertStream("retry: 3s\ndata: x\n\nretry: -1\ndata: y\n\nretry:\ndata: z\n\n",
                     gives: [SSEEvent(data: "x"), SSEEvent(data: "y"), SSEEvent(data: "z")])
        var decoder = SSEDecoder()
        decoder.feed(Array("retry: 1500\n\nretry: x\n\n".utf8))
        XCTAssertNil(decoder.nextEvent())
        XCTAssertEqual(decoder.reconnectionTime, 1500)
    }

    func testCommentsAreCounted() {
        assertStream(":\n: heartbeat\n:x\n\n", gives: [], comments: 3)
    }

    func testIncompleteEventAtEndOfStreamIsNotDispatched() {
        assertStream("data: complete\n\ndata: incomplete\n", gives: [SSEEvent(data: "complete")])
    }

    // MARK: - Robustness

    func testRandomBytesNeverTrapTheDecoder() {
        var rng = WireCodecTestRNG(seed: 9_2)
        let alphabet = Array("data:id:event:retry: \r\n\n:0123456789".utf8) + [0x00, 0xEF, 0xBB, 0xBF, 0xFF, 0xC3]
        for i in 0..<2000 {
            let bytes = (0..<Int.random(in: 0...80, using: &rng)).map { _ in
                i % 2 == 0 ? alphabet.randomElement(using: &rng)! : UInt8.random(in: 0...255, using: &rng)
            }
            var decoder = SSEDecoder()
            for chunk in Splits.random(bytes, seed: UInt64(i), count: 1).first ?? [] {
                decoder.feed(chunk)
                while decoder.nextEvent() != nil {}
            }
        }
    }
}
