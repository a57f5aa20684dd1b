// HTTPResponseParser: body length rules of RFC 9112 §6.3, streaming, pipelining, upgrade.
// Vectors go through httpAssertResponses, which feeds them whole, byte by byte, split at every
// boundary and in seeded random pieces, and merges adjacent body parts before comparing.
import XCTest
@testable import WireCodec

final class HTTPResponseParserTests: XCTestCase {

    func testContentLengthBodyEndsAfterExactlyThatManyBytes() {
        let raw = httpBytes("HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Type: text/plain\r\n\r\nhelloEXTRA")
        httpAssertResponses(raw, HTTPResponseOutcome(parts: [
            httpHead(200, "OK", [("Content-Length", "5"), ("Content-Type", "text/plain")]),
            .body(httpBytes("hello")), .end,
        ], leftover: httpBytes("EXTRA")))   // the start of a next response, still incomplete
    }

    func testChunkedBodyIsDechunkedAtEverySplit() {
        let raw = httpBytes("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
                            + "4;ext=1\r\nWiki\r\n5\r\npedia\r\nE\r\n in\r\n\r\nchunks.\r\n0\r\nX-T: 1\r\n\r\n")
        httpAssertResponses(raw, HTTPResponseOutcome(parts: [
            httpHead(200, "OK", [("Transfer-Encoding", "chunked")]),
            .body(httpBytes("Wikipedia in\r\n\r\nchunks.")), .end,
        ]))
    }

    func testChunkDataIsYieldedBeforeTheChunkIsComplete() throws {
        var parser = HTTPResponseParser()
        parser.feed(httpBytes("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n10\r\nabc"))
        XCTAssertEqual(try parser.nextPart(), httpHead(200, "OK", [("Transfer-Encoding", "chunked")]))
        XCTAssertEqual(try parser.nextPart(), .body(httpBytes("abc")))   // SSE clients need this
        XCTAssertNil(try parser.nextPart())
    }

    func testCloseDelimitedBodyEndsAtCloseInput() {
        let raw = httpBytes("HTTP/1.0 200 OK\r\nContent-Type: text/event-stream\r\n\r\ndata: 1\n\ndata: 2\n\n")
        httpAssertResponses(raw, close: true, HTTPResponseOutcome(parts: [
            httpHead(200, "OK", [("Content-Type", "text/event-stream")], version: .http1_0),
            .body(httpBytes("data: 1\n\ndata: 2\n\n")), .end,
        ]))
        // Without closeInput() the body simply has not ended yet.
        httpAssertResponses(raw, HTTPResponseOutcome(parts: [
            httpHead(200, "OK", [("Content-Type", "text/event-stream")], version: .http1_0),
            .body(httpBytes("data: 1\n\ndata: 2\n\n")),
        ]))
    }

    func testUnknownTransferCodingMeansCloseDelimited() {
        httpAssertResponses(httpBytes("HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\nxyz"), close: true,
                            HTTPResponseOutcome(parts: [httpHead(200, "OK", [("Transfer-Encoding", "gzip")]),
                                                        .body(httpBytes("xyz")), .end]))
    }

    func testSwitchingProtocolsLeavesFollowingBytesForTheNewProtocol() {
        let frame: [UInt8] = [0x81, 0x05, 0x48, 0x65, 0x6C, 0x6C, 0x6F]   // RFC 6455 §5.7 unmasked "Hello"
        let raw = httpBytes("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                            + "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n") + frame
        httpAssertResponses(raw, HTTPResponseOutcome(parts: [
            httpHead(101, "Switching Protocols", [("Upgrade", "websocket"), ("Connection", "Upgrade"),
                                                  ("Sec-WebSocket-Accept", "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=")]),
        ], leftover: frame))
    }

    func testPipelinedResponsesFollowEachOther() {
        let raw = httpBytes("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nhi"
                            + "HTTP/1.1 404 Not Found\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nnope\r\n0\r\n\r\n"
                            + "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n")
        httpAssertResponses(raw, HTTPResponseOutcome(parts: [
            httpHead(200, "OK", [("Content-Length", "2")]), .body(httpBytes("hi")), .end,
            httpHead(404, "Not Found", [("Transfer-Encoding", "chunked")]), .body(httpBytes("nop")),
        ], errorStatus: 502))   // "nope" is 4 bytes in a 3-byte chunk: no CRLF after the data
        let good = httpBytes("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nhi"
                             + "HTTP/1.1 404 Not Found\r\nTransfer-Encoding: chunked\r\n\r\n4\r\nnope\r\n0\r\n\r\n"
                             + "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n")
        httpAssertResponses(good, HTTPResponseOutcome(parts: [
            httpHead(200, "OK", [("Content-Length", "2")]), .body(httpBytes("hi")), .end,
            httpHead(404, "Not Found", [("Transfer-Encoding", "chunked")]), .body(httpBytes("nope")), .end,
            httpHead(200, "OK", [("Content-Length", "0")]), .end,
        ]))
    }

    func testNoContentAndNotModifiedHaveNoBodyWhateverTheHeadersSay() {
        let raw = httpBytes("HTTP/1.1 204 No Content\r\n\r\nHTTP/1.1 304 Not Modified\r\nContent-Length: 10\r\n\r\n"
                            + "HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\n!")
        httpAssertResponses(raw, HTTPResponseOutcome(parts: [
            httpHead(204, "No Content"), .end,
            httpHead(304, "Not Modified", [("Content-Length", "10")]), .end,
            httpHead(200, "OK", [("Content-Length", "1")]), .body(httpBytes("!")), .end,
        ]))
    }

    func testResponseToHEADHasNoBody() {
        httpAssertResponses(httpBytes("HTTP/1.1 200 OK\r\nContent-Length: 1234\r\n\r\n"), expectHEAD: true,
                            HTTPResponseOutcome(parts: [httpHead(200, "OK", [("Content-Length", "1234")]), .end]))
    }

    func testInterimResponsesAreSkipped() {
        let raw = httpBytes("HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: </s.css>\r\n\r\n"
                            + "HTTP/1.1 201 Created\r\nContent-Length: 0\r\n\r\n")
        httpAssertResponses(raw, HTTPResponseOutcome(parts: [httpHead(201, "Created", [("Content-Length", "0")]), .end]))
    }

    func testStatusLineWithoutReasonAndBareLFAreAccepted() {
        httpAssertResponses(httpBytes("HTTP/1.1 200\nContent-Length: 1\n\nx"),
                            HTTPResponseOutcome(parts: [httpHead(200, "", [("Content-Length", "1")]), .body([0x78]), .end]))
    }

    func testMalformedResponsesAre502() {
        let cases = [
            "HTTP/1.1 2000 OK\r\n\r\n", "HTTP/1.1 20 OK\r\n\r\n", "HTTP/2 200 OK\r\n\r\n", "HTTP/2.0 200 OK\r\n\r\n",
            "ICY 200 OK\r\n\r\n", "HTTP/1.1 200 OK\r\nBad Name: x\r\n\r\n", "HTTP/1.1 200 OK\r\nX: a\u{0}\r\n\r\n",
            "HTTP/1.1 200 OK\r\nContent-Length: 1x\r\n\r\n", "HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n",
        ]
        for raw in cases { httpAssertResponses(httpBytes(raw), close: true, HTTPResponseOutcome(errorStatus: 502)) }
        httpAssertResponses(httpBytes("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nxyz\r\n"), close: true,
                            HTTPResponseOutcome(parts: [httpHead(200, "OK", [("Transfer-Encoding", "chunked")])], errorStatus: 502))
    }

    func testCloseBeforeBodyIsCompleteIs502() {
        httpAssertResponses(httpBytes("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhel"), close: true,
                            HTTPResponseOutcome(parts: [httpHead(200, "OK", [("Content-Length", "5")]), .body(httpBytes("hel"))],
                                                errorStatus: 502))
        httpAssertResponses(httpBytes("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhel"), close: true,
                            HTTPResponseOutcome(parts: [httpHead(200, "OK", [("Transfer-Encoding", "chunked")]),
                                                        .body(httpBytes("hel"))], errorStatus: 502))
        httpAssertResponses(httpBytes("HTTP/1.1 200 OK\r\nContent-"), close: true, HTTPResponseOutcome(errorStatus: 502))
    }

    func testHeaderLookupIsCaseInsensitive() {
        let h = HTTPResponseHeadValue(status: 200, reason: "OK", version: .http1_1,
                                      headers: [HTTPHeaderField(name: "Content-Type", value: "text/plain")])
        XCTAssertEqual(h.header("content-type"), "text/plain")
        XCTAssertEqual(h.header("CONTENT-TYPE"), "text/plain")
        XCTAssertNil(h.header("Content-Typ"))
    }

    func testResponseHeadOverLimitIs502() throws {
        var parser = HTTPResponseParser(maxHeadBytes: 100)
        parser.feed(httpBytes("HTTP/1.1 200 OK\r\nX: " + String(repeating: "x", count: 100)))
        XCTAssertThrowsError(try parser.nextPart()) { XCTAssertEqual(($0 as? HTTPError)?.status, 502) }
    }
}
