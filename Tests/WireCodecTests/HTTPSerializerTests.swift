// HTTPSerializer: exact bytes. Expected values are written out literally, never produced by the
// function under test, so a wrong space or CRLF cannot slip through on both sides.
import XCTest
@testable import WireCodec

final class HTTPSerializerTests: XCTestCase {

    func testResponseAddsContentLengthAfterCallerHeaders() {
        let out = HTTPSerializer.response(status: 200, headers: HTTPHeaders([("Content-Type", "text/plain")]),
                                          body: Array("hello".utf8))
        XCTAssertEqual(String(decoding: out, as: UTF8.self),
                       "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 5\r\n\r\nhello")
    }

    func testResponseKeepsCallerContentLength() {
        let out = HTTPSerializer.response(status: 404, headers: HTTPHeaders([("content-length", "0")]), body: [])
        XCTAssertEqual(String(decoding: out, as: UTF8.self), "HTTP/1.1 404 Not Found\r\ncontent-length: 0\r\n\r\n")
    }

    func testResponseUsesRequestedVersion() {
        let out = HTTPSerializer.response(status: 503, headers: HTTPHeaders(), body: [], version: .http1_0)
        XCTAssertEqual(String(decoding: out, as: UTF8.self), "HTTP/1.0 503 Service Unavailable\r\nContent-Length: 0\r\n\r\n")
    }

    func testNoContentLengthIsAddedTo204Or1xx() {
        XCTAssertEqual(String(decoding: HTTPSerializer.response(status: 204, headers: HTTPHeaders(), body: []), as: UTF8.self),
                       "HTTP/1.1 204 No Content\r\n\r\n")
        let upgrade = HTTPSerializer.response(status: 101, headers: HTTPHeaders([("Upgrade", "websocket"), ("Connection", "Upgrade")]), body: [])
        XCTAssertEqual(String(decoding: upgrade, as: UTF8.self),
                       "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n")
    }

    func testResponseHeadWritesStatusLineHeadersAndEmptyLine() {
        let head = HTTPResponseHead(status: 200, reason: "OK",
                                    headers: HTTPHeaders([("Content-Type", "text/event-stream"), ("Cache-Control", "no-store")]))
        XCTAssertEqual(String(decoding: HTTPSerializer.responseHead(head), as: UTF8.self),
                       "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nCache-Control: no-store\r\n\r\n")
        let old = HTTPResponseHead(version: .http1_0, status: 431, reason: "Request Header Fields Too Large", headers: HTTPHeaders())
        XCTAssertEqual(Array(HTTPSerializer.responseHead(old)), Array("HTTP/1.0 431 Request Header Fields Too Large\r\n\r\n".utf8))
    }

    func testChunkIsLowercaseHexSizeCRLFDataCRLF() {
        XCTAssertEqual(HTTPSerializer.chunk([0x61]), [0x31, 0x0D, 0x0A, 0x61, 0x0D, 0x0A])
        let data = [UInt8](repeating: 0x7A, count: 255)
        XCTAssertEqual(HTTPSerializer.chunk(data), [0x66, 0x66, 0x0D, 0x0A] + data + [0x0D, 0x0A])   // "ff"
        let big = [UInt8](repeating: 0, count: 4096)
        XCTAssertEqual(Array(HTTPSerializer.chunk(big).prefix(6)), Array("1000\r\n".utf8))
        XCTAssertEqual(HTTPSerializer.lastChunk, [0x30, 0x0D, 0x0A, 0x0D, 0x0A])
    }

    func testEmptyChunkIsNothingNotTheLastChunk() {
        XCTAssertEqual(HTTPSerializer.chunk([]), [])
    }

    func testRequestAddsContentLengthForBodyOrPost() {
        let get = HTTPSerializer.request(method: "GET", target: "/poll?since=3", headers: HTTPHeaders([("Host", "localhost")]))
        XCTAssertEqual(String(decoding: get, as: UTF8.self), "GET /poll?since=3 HTTP/1.1\r\nHost: localhost\r\n\r\n")
        let post = HTTPSerializer.request(method: "POST", target: "/publish", headers: HTTPHeaders([("Host", "h")]))
        XCTAssertEqual(String(decoding: post, as: UTF8.self), "POST /publish HTTP/1.1\r\nHost: h\r\nContent-Length: 0\r\n\r\n")
        let put = HTTPSerializer.request(method: "PUT", target: "/x", headers: HTTPHeaders(), body: Array("{}".utf8))
        XCTAssertEqual(String(decoding: put, as: UTF8.self), "PUT /x HTTP/1.1\r\nContent-Length: 2\r\n\r\n{}")
    }

    func testReasonPhrasesFollowRFC9110() {
        let expected: [Int: String] = [
            101: "Switching Protocols", 200: "OK", 204: "No Content", 301: "Moved Permanently", 304: "Not Modified",
            400: "Bad Request", 403: "Forbidden", 404: "Not Found", 405: "Method Not Allowed", 408: "Request Timeout",
            413: "Content Too Large", 426: "Upgrade Required", 431: "Request Header Fields Too Large",
            500: "Internal Server Error", 501: "Not Implemented", 503: "Service Unavailable",
            505: "HTTP Version Not Supported",
        ]
        for (status, phrase) in expected { XCTAssertEqual(HTTPSerializer.reasonPhrase(status), phrase, "\(status)") }
        XCTAssertEqual(HTTPSerializer.reasonPhrase(599), "")
    }

    func testSerializedResponseRoundTripsThroughResponseParser() throws {
        var parser = HTTPResponseParser()
        parser.feed(HTTPSerializer.responseHead(HTTPResponseHead(status: 200, reason: "OK",
                                                                 headers: HTTPHeaders([("Transfer-Encoding", "chunked")]))))
        parser.feed(HTTPSerializer.chunk(Array("abc".utf8)) + HTTPSerializer.chunk([]) + HTTPSerializer.lastChunk)
        XCTAssertEqual(try parser.nextPart(), httpHead(200, "OK", [("Transfer-Encoding", "chunked")]))
        XCTAssertEqual(try parser.nextPart(), .body(Array("abc".utf8)))
        XCTAssertEqual(try parser.nextPart(), .end)
        XCTAssertNil(try parser.nextPart())
    }

    func testHeadersLookupIsCaseInsensitiveAndTokenAware() {
        let h = HTTPHeaders([("Connection", "keep-alive, Upgrade"), ("X-A", "1"), ("x-a", "2")])
        XCTAssertEqual(h["connection"], "keep-alive, Upgrade")
        XCTAssertEqual(h.values("X-A"), ["1", "2"])
        XCTAssertTrue(h.contains(token: "upgrade", in: "CONNECTION"))
        XCTAssertFalse(h.contains(token: "upgrad", in: "Connection"))
        XCTAssertNil(h["Connectio"])
    }
}
