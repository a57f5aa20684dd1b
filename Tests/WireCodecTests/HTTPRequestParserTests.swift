// HTTPRequestParser: each test is named after the rule it enforces. Every vector goes through
// httpAssertRequests / httpAssertRejected, which feed it whole, byte by byte, split at every
// boundary and in seeded random pieces (HTTPTestSupport.swift).
import XCTest
@testable import WireCodec

final class HTTPRequestParserTests: XCTestCase {

    // MARK: - Well-formed requests

    func testSimpleGetHasEmptyBodyWithoutContentLength() {
        httpAssertRequests("GET /index.html HTTP/1.1\r\nHost: example.org\r\nAccept: */*\r\n\r\n", [
            HTTPReqSummary("GET", "/index.html", headers: [["Host", "example.org"], ["Accept", "*/*"]]),
        ])
    }

    func testFieldValueOptionalWhitespaceIsTrimmed() {
        httpAssertRequests("GET / HTTP/1.1\r\nHost:example.org\r\nX-A: \t padded value \t\r\nX-Empty:\r\n\r\n", [
            HTTPReqSummary("GET", "/", headers: [["Host", "example.org"], ["X-A", "padded value"], ["X-Empty", ""]]),
        ])
    }

    func testPathIsTargetUpToQuestionMark() {
        let r = HTTPRequest(method: "GET", target: "/poll?since=3", version: .http1_1, headers: HTTPHeaders())
        XCTAssertEqual(r.path, "/poll")
        XCTAssertEqual(HTTPRequest(method: "GET", target: "/a%20b", version: .http1_1, headers: HTTPHeaders()).path, "/a%20b")
        XCTAssertEqual(HTTPRequest(method: "GET", target: "/x?", version: .http1_1, headers: HTTPHeaders()).query, [:])
    }

    func testQueryIsPercentDecodedWithPlusAsSpaceAndFirstValueWins() throws {
        var parser = HTTPRequestParser()
        parser.feed(httpBytes("GET /poll?since=3&name=a%20b+c&since=9&flag&empty=&bad=%zz%4&utf=%C3%A9&&k%3D=v%26 HTTP/1.1\r\n\r\n"))
        let r = try XCTUnwrap(parser.nextRequest())
        XCTAssertEqual(r.path, "/poll")
        XCTAssertEqual(r.query, ["since": "3", "name": "a b c", "flag": "", "empty": "", "bad": "%zz%4",
                                 "utf": "é", "k=": "v&"])
    }

    func testKeepAliveIsDefaultInHTTP11UnlessConnectionClose() throws {
        XCTAssertTrue(try parseOne("GET / HTTP/1.1\r\n\r\n").keepAlive)
        XCTAssertFalse(try parseOne("GET / HTTP/1.1\r\nConnection: close\r\n\r\n").keepAlive)
        XCTAssertFalse(try parseOne("GET / HTTP/1.1\r\nConnection: Upgrade, CLOSE\r\n\r\n").keepAlive)
        XCTAssertFalse(try parseOne("GET / HTTP/1.1\r\nConnection: keep-alive\r\nConnection: close\r\n\r\n").keepAlive)
        XCTAssertTrue(try parseOne("GET / HTTP/1.1\r\nConnection: closed, enclose\r\n\r\n").keepAlive)
    }

    func testKeepAliveInHTTP10OnlyWithConnectionKeepAlive() throws {
        XCTAssertFalse(try parseOne("GET / HTTP/1.0\r\n\r\n").keepAlive)
        XCTAssertTrue(try parseOne("GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n").keepAlive)
        XCTAssertTrue(try parseOne("GET / HTTP/1.0\r\nConnection: foo ,keep-alive\r\n\r\n").keepAlive)
        XCTAssertFalse(try parseOne("GET / HTTP/1.0\r\nConnection: keep-alive, close\r\n\r\n").keepAlive)
    }

    func testPipelinedRequestsComeOutOneAtATime() throws {
        let raw = "GET /a HTTP/1.1\r\nHost: h\r\n\r\nPOST /b HTTP/1.1\r\nContent-Length: 5\r\n\r\nhello"
            + "GET /c?x=1 HTTP/1.0\r\n\r\n"
        httpAssertRequests(raw, [
            HTTPReqSummary("GET", "/a", headers: [["Host", "h"]]),
            HTTPReqSummary("POST", "/b", headers: [["Content-Length", "5"]], body: httpBytes("hello")),
            HTTPReqSummary("GET", "/c?x=1", version: .http1_0),
        ])
        var parser = HTTPRequestParser()
        parser.feed(httpBytes(raw))
        XCTAssertEqual(try parser.nextRequest()?.target, "/a")
        XCTAssertEqual(try parser.nextRequest()?.target, "/b")
        XCTAssertEqual(try parser.nextRequest()?.target, "/c?x=1")
        XCTAssertNil(try parser.nextRequest())
        XCTAssertFalse(parser.hasPartialRequest)
    }

    func testContentLengthDelimitsBody() {
        httpAssertRequests("POST /send HTTP/1.1\r\ncontent-length: 11\r\n\r\nhello world", [
            HTTPReqSummary("POST", "/send", headers: [["content-length", "11"]], body: httpBytes("hello world")),
        ])
    }

    func testZeroContentLengthAndIdenticalRepeatedContentLengthAreAccepted() {
        httpAssertRequests("POST / HTTP/1.1\r\nContent-Length: 0\r\n\r\nPOST / HTTP/1.1\r\nContent-Length: 2\r\nContent-Length: 2\r\n\r\nok", [
            HTTPReqSummary("POST", "/", headers: [["Content-Length", "0"]]),
            HTTPReqSummary("POST", "/", headers: [["Content-Length", "2"], ["Content-Length", "2"]], body: httpBytes("ok")),
        ])
    }

    func testChunkedBodyIsDecodedIgnoringExtensionsAndTrailers() {
        let raw = "POST /up HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n"
            + "5;name=value\r\nhello\r\n" + "6 ; x=\"q\"\r\n world\r\n" + "A\r\n0123456789\r\n"
            + "000;last\r\nX-Trailer: yes\r\nX-Other: 2\r\n\r\n"
            + "GET /next HTTP/1.1\r\n\r\n"
        httpAssertRequests(raw, [
            HTTPReqSummary("POST", "/up", headers: [["Transfer-Encoding", "chunked"]], body: httpBytes("hello world0123456789")),
            HTTPReqSummary("GET", "/next"),
        ])
    }

    func testTransferEncodingChunkedIsCaseInsensitive() {
        httpAssertRequests("POST / HTTP/1.1\r\nTransfer-Encoding: Chunked\r\n\r\n2\r\nhi\r\n0\r\n\r\n", [
            HTTPReqSummary("POST", "/", headers: [["Transfer-Encoding", "Chunked"]], body: httpBytes("hi")),
        ])
    }

    func testBareLFIsAcceptedAsLineTerminator() {
        httpAssertRequests("GET / HTTP/1.1\nHost: h\n\nPOST / HTTP/1.1\nTransfer-Encoding: chunked\n\n3\nabc\n0\n\n", [
            HTTPReqSummary("GET", "/", headers: [["Host", "h"]]),
            HTTPReqSummary("POST", "/", headers: [["Transfer-Encoding", "chunked"]], body: httpBytes("abc")),
        ])
    }

    func testFewLeadingEmptyLinesAreIgnored() {
        httpAssertRequests("\r\n\nGET / HTTP/1.1\r\n\r\n\r\nGET /2 HTTP/1.1\r\n\r\n", [
            HTTPReqSummary("GET", "/"), HTTPReqSummary("GET", "/2"),
        ])
    }

    func testMissingHostInHTTP11IsAcceptedAsDocumentedDeviation() {
        httpAssertRequests("GET / HTTP/1.1\r\n\r\n", [HTTPReqSummary("GET", "/")])
    }

    func testOtherHTTP1MinorVersionIsAccepted() {
        httpAssertRequests("GET / HTTP/1.2\r\n\r\n", [HTTPReqSummary("GET", "/", version: HTTPVersion(major: 1, minor: 2))])
    }

    func testObsTextInValueAndTargetIsPassedThrough() {
        httpAssertRequests("GET /caf\u{E9} HTTP/1.1\r\nX-Name: Ren\u{E9}e\r\n\r\n", [
            HTTPReqSummary("GET", "/caf\u{E9}", headers: [["X-Name", "Ren\u{E9}e"]]),
        ])
    }

    // MARK: - 400 Bad Request

    func testMethodMustBeAToken() { httpAssertRejected("G@T / HTTP/1.1\r\n\r\n", 400) }
    func testRequestLineNeedsSingleSpaces() { httpAssertRejected("GET  / HTTP/1.1\r\n\r\n", 400) }
    func testRequestLineWithoutVersionIs400() { httpAssertRejected("GET /\r\n\r\n", 400) }
    func testTrailingSpaceAfterVersionIs400() { httpAssertRejected("GET / HTTP/1.1 \r\n\r\n", 400) }
    func testTargetMustNotContainControlCharacters() {
        httpAssertRejected("GET /a\u{1}b HTTP/1.1\r\n\r\n", 400)
        httpAssertRejected("GET /a\u{7F} HTTP/1.1\r\n\r\n", 400)
        httpAssertRejected("GET /a\tb HTTP/1.1\r\n\r\n", 400)
    }
    func testMalformedVersionIs400() {
        for v in ["HTTP/1.1x", "http/1.1", "HTTP/11", "HTTP/1.", "HTTP/a.b", "HTTP/1,1", "FOO/1.1"] {
            httpAssertRejected("GET / \(v)\r\n\r\n", 400)
        }
    }
    func testBareCRInRequestLineIs400() { httpAssertRejected("GET / HTTP/1.1\r\r\n\r\n", 400) }
    func testStrayCRBeforeRequestLineIs400() { httpAssertRejected("\rGET / HTTP/1.1\r\n\r\n", 400) }
    /// RFC 9112 §3: a request line starts with a method token. A first byte that cannot start
    /// one is refused at once: a TLS ClientHello (`curl https://` to this plain port, RFC 8446
    /// §5.1 record header 16 03 01) never sends a CRLF and used to wait for the 10 s timeout.
    func testFirstByteThatCannotStartAMethodIs400AtOnce() {
        for first: [UInt8] in [[0x16, 0x03, 0x01, 0x00, 0xA5, 0x01], [0x00], [0x80, 0x81], [UInt8(ascii: " ")], [UInt8(ascii: "{")]] {
            var parser = HTTPRequestParser()
            parser.feed(first)
            XCTAssertThrowsError(try parser.nextRequest(), "\(first)") { XCTAssertEqual(($0 as? HTTPError)?.status, 400) }
        }
        for prefix in ["G", "\r\n", "\n", "\r", "PRI"] {   // may still become a request: wait
            var parser = HTTPRequestParser()
            parser.feed(httpBytes(prefix))
            XCTAssertNil(try parser.nextRequest(), prefix)
        }
    }
    /// A request line is judged when its LF arrives, not when the head is complete: `GET /`
    /// (HTTP/0.9, no version) is 400 at once instead of after the head timeout.
    func testACompleteRequestLineThatIsNotOneIs400BeforeTheHeadEnds() {
        for line in ["GET /\r\n", "GET /\n", "GET\r\n", "GET / HTTP/1.1 extra\r\n", "GET / http/1.1\r\n", "GET  / HTTP/1.1\r\n"] {
            var parser = HTTPRequestParser()
            parser.feed(httpBytes(line))
            XCTAssertThrowsError(try parser.nextRequest(), line) { XCTAssertEqual(($0 as? HTTPError)?.status, 400, line) }
        }
        // Byte by byte: nothing before the LF (it may still become a request), 400 with it.
        var parser = HTTPRequestParser()
        for b in httpBytes("GET /poll") {
            parser.feed([b])
            XCTAssertNil(try parser.nextRequest())
        }
        parser.feed(httpBytes("\r\n"))
        XCTAssertThrowsError(try parser.nextRequest()) { XCTAssertEqual(($0 as? HTTPError)?.status, 400) }
        // A good request line with the head still open waits, and the request comes whole, also
        // when a second one is pipelined behind it (its line is checked afresh).
        var good = HTTPRequestParser()
        good.feed(httpBytes("GET /poll HTTP/1.1\r\n"))
        XCTAssertNil(try good.nextRequest())
        good.feed(httpBytes("Host: x\r\n"))
        XCTAssertNil(try good.nextRequest())
        good.feed(httpBytes("\r\nGET /\r\n"))
        XCTAssertEqual(try good.nextRequest()?.target, "/poll")
        XCTAssertThrowsError(try good.nextRequest()) { XCTAssertEqual(($0 as? HTTPError)?.status, 400) }
    }
    func testTooManyLeadingEmptyLinesIs400() { httpAssertRejected("\r\n\r\n\r\n\r\n\r\nGET / HTTP/1.1\r\n\r\n", 400) }
    func testObsoleteLineFoldingIs400() {
        httpAssertRejected("GET / HTTP/1.1\r\nX-A: one\r\n two\r\n\r\n", 400)
        httpAssertRejected("GET / HTTP/1.1\r\nX-A: one\r\n\ttwo\r\n\r\n", 400)
        httpAssertRejected("GET / HTTP/1.1\r\n Host: h\r\n\r\n", 400)   // whitespace after the request line
    }
    func testWhitespaceBeforeColonIs400() {
        httpAssertRejected("GET / HTTP/1.1\r\nHost : h\r\n\r\n", 400)
        httpAssertRejected("GET / HTTP/1.1\r\nHost\t: h\r\n\r\n", 400)
    }
    func testFieldLineWithoutColonIs400() { httpAssertRejected("GET / HTTP/1.1\r\nHost h\r\n\r\n", 400) }
    func testEmptyFieldNameIs400() { httpAssertRejected("GET / HTTP/1.1\r\n: h\r\n\r\n", 400) }
    func testFieldNameMustBeAToken() { httpAssertRejected("GET / HTTP/1.1\r\nX(y): h\r\n\r\n", 400) }
    func testControlCharacterInFieldValueIs400() {
        httpAssertRejected("GET / HTTP/1.1\r\nX-A: a\u{0}b\r\n\r\n", 400)
        httpAssertRejected("GET / HTTP/1.1\r\nX-A: a\rb\r\n\r\n", 400)
        httpAssertRejected("GET / HTTP/1.1\r\nX-A: a\u{7F}\r\n\r\n", 400)
        httpAssertRejected("GET / HTTP/1.1\r\nX-A: a\u{1B}[31m\r\n\r\n", 400)
    }
    func testHTABInFieldValueIsAllowed() {
        httpAssertRequests("GET / HTTP/1.1\r\nX-A: a\tb\r\n\r\n", [HTTPReqSummary("GET", "/", headers: [["X-A", "a\tb"]])])
    }
    func testContentLengthMustBeDigits() {
        for v in ["5a", "-1", "+5", "", "5 5", "0x10", "5,5"] {
            httpAssertRejected("POST / HTTP/1.1\r\nContent-Length: \(v)\r\n\r\nhello", 400)
        }
    }
    func testDifferingContentLengthsAre400() {
        httpAssertRejected("POST / HTTP/1.1\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello!", 400)
    }
    func testContentLengthWithTransferEncodingIs400() {
        httpAssertRejected("POST / HTTP/1.1\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n", 400)
        httpAssertRejected("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n5\r\nhello\r\n0\r\n\r\n", 400)
    }
    func testTransferEncodingNotEndingInChunkedIs400() {
        httpAssertRejected("POST / HTTP/1.1\r\nTransfer-Encoding: gzip\r\n\r\n", 400)
        httpAssertRejected("POST / HTTP/1.1\r\nTransfer-Encoding: chunked, gzip\r\n\r\n", 400)
        httpAssertRejected("POST / HTTP/1.1\r\nTransfer-Encoding:\r\n\r\n", 400)
    }
    func testChunkedAppliedTwiceIs400() {
        httpAssertRejected("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", 400)
    }
    func testTransferEncodingInHTTP10Is400() {
        httpAssertRejected("POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", 400)
    }
    func testMoreThanOneHostIs400() { httpAssertRejected("GET / HTTP/1.1\r\nHost: a\r\nhost: b\r\n\r\n", 400) }
    func testMalformedChunkedFramingIs400() {
        let head = "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n"
        httpAssertRejected(head + "zz\r\nhello\r\n0\r\n\r\n", 400)          // size not hex
        httpAssertRejected(head + "\r\nhello\r\n0\r\n\r\n", 400)            // size missing
        httpAssertRejected(head + "5\r\nhelloXX0\r\n\r\n", 400)             // no CRLF after data
        httpAssertRejected(head + "5\r\nhello\rX0\r\n\r\n", 400)            // CR without LF after data
        httpAssertRejected(head + "5 x\r\nhello\r\n0\r\n\r\n", 400)         // junk after size
        httpAssertRejected(head + "5;a\rb\r\nhello\r\n0\r\n\r\n", 400)      // bare CR in extension
        httpAssertRejected(head + "-5\r\nhello\r\n0\r\n\r\n", 400)          // sign
        httpAssertRejected(head + "0\r\nBad Trailer: x\r\n\r\n", 400)       // malformed trailer
    }

    // MARK: - Limits: 431, 413, 505

    /// A request whose head (request line through the final CRLFCRLF) is exactly `size` bytes.
    private func request(headBytes size: Int) -> String {
        let fixed = "GET / HTTP/1.1\r\nX-Pad: \r\n\r\n".utf8.count
        return "GET / HTTP/1.1\r\nX-Pad: " + String(repeating: "a", count: size - fixed) + "\r\n\r\n"
    }

    func testHeadExactlyAtLimitIsAccepted() {
        let raw = request(headBytes: 16384)
        XCTAssertEqual(raw.utf8.count, 16384)
        let pad = String(repeating: "a", count: 16384 - 27)
        httpAssertRequests(raw, [HTTPReqSummary("GET", "/", headers: [["X-Pad", pad]])])
    }

    func testHeadOneByteOverLimitIs431() {
        httpAssertRejected(request(headBytes: 16385), 431)
    }

    func testHeadOverLimitIs431BeforeTerminatorArrives() {
        var parser = HTTPRequestParser(maxHeadBytes: 16384)
        parser.feed(httpBytes("GET / HTTP/1.1\r\nX-Pad: " + String(repeating: "a", count: 16384 - 23)))
        XCTAssertNil(try parser.nextRequest())            // 16384 bytes, no terminator yet: keep waiting
        parser.feed(httpBytes("a"))                        // 16385: the head can no longer fit
        XCTAssertThrowsError(try parser.nextRequest()) { XCTAssertEqual(($0 as? HTTPError)?.status, 431) }
    }

    func testLeadingEmptyLinesDoNotCountTowardsHeadLimit() {
        let raw = "\r\n" + request(headBytes: 16384)
        httpAssertRequests(httpBytes(raw), [HTTPReqSummary("GET", "/", headers: [["X-Pad", String(repeating: "a", count: 16384 - 27)]])])
    }

    func testContentLengthOverLimitIs413WithoutWaitingForBody() {
        httpAssertRejected("POST / HTTP/1.1\r\nContent-Length: 65537\r\n\r\n", 413)
        httpAssertRejected("POST / HTTP/1.1\r\nContent-Length: 99999999999999999999999999\r\n\r\n", 413)
    }

    func testContentLengthAtLimitIsAccepted() {
        let body = [UInt8](repeating: UInt8(ascii: "b"), count: 65536)
        httpAssertRequests(httpBytes("PUT /x HTTP/1.1\r\nContent-Length: 65536\r\n\r\n") + body,
                           [HTTPReqSummary("PUT", "/x", headers: [["Content-Length", "65536"]], body: body)])
    }

    func testChunkedBodyOverLimitIs413() {
        let half = String(repeating: "c", count: 32768)
        let head = "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n"
        let atLimit = head + "8000\r\n\(half)\r\n8000\r\n\(half)\r\n0\r\n\r\n"
        httpAssertRequests(httpBytes(atLimit), [HTTPReqSummary("POST", "/", headers: [["Transfer-Encoding", "chunked"]],
                                                           body: httpBytes(half + half))])
        httpAssertRejected(head + "8000\r\n\(half)\r\n8000\r\n\(half)\r\n1\r\nX\r\n0\r\n\r\n", 413)
        httpAssertRejected(head + "ffffffffffffffffffffffff\r\n", 413)
    }

    func testTrailerSectionOverLimitIs431() {
        let raw = "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n0\r\nX-T: " + String(repeating: "t", count: 16384) + "\r\n\r\n"
        httpAssertRejected(raw, 431)
    }

    func testWellFormedUnsupportedVersionIs505() {
        httpAssertRejected("GET / HTTP/2.0\r\n\r\n", 505)
        httpAssertRejected("GET / HTTP/0.9\r\n\r\n", 505)
    }

    func testUnknownTransferCodingBeforeChunkedIs501() {
        httpAssertRejected("POST / HTTP/1.1\r\nTransfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n", 501)
    }

    // MARK: - Buffer handling

    func testRequestBeforeAnErrorIsStillReturned() {
        httpAssertRequests("GET /ok HTTP/1.1\r\n\r\nGET /bad HTTP/9.9\r\n\r\n", [HTTPReqSummary("GET", "/ok")], thenError: 505)
    }

    func testTakeBufferedBytesReturnsBytesAfterUpgradeRequest() throws {
        let upgrade = "GET /ws HTTP/1.1\r\nHost: h\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            + "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
        let frame: [UInt8] = [0x81, 0x85, 0x37, 0xFA, 0x21, 0x3D, 0x7F, 0x9F, 0x4D, 0x51, 0x58]   // RFC 6455 §5.7 "Hello"
        for feeding in httpFeedings(of: httpBytes(upgrade) + frame) {
            var parser = HTTPRequestParser()
            var request: HTTPRequest?
            for chunk in feeding.chunks {
                parser.feed(chunk)
                if request == nil { request = try parser.nextRequest() }   // stop parsing HTTP once upgraded
            }
            XCTAssertEqual(request?.target, "/ws", feeding.name)
            XCTAssertTrue(request?.headers.contains(token: "upgrade", in: "connection") ?? false)
            XCTAssertEqual(parser.takeBufferedBytes(), frame, feeding.name)
            XCTAssertEqual(parser.takeBufferedBytes(), [], feeding.name)
        }
    }

    func testHasPartialRequestTracksIncompleteRequests() throws {
        var parser = HTTPRequestParser()
        XCTAssertFalse(parser.hasPartialRequest)
        parser.feed(httpBytes("G"))
        XCTAssertNil(try parser.nextRequest())
        XCTAssertTrue(parser.hasPartialRequest)
        parser.feed(httpBytes("ET / HTTP/1.1\r\nContent-Length: 3\r\n\r\nab"))
        XCTAssertNil(try parser.nextRequest())
        XCTAssertTrue(parser.hasPartialRequest)            // head done, body incomplete
        parser.feed(httpBytes("cGET /2 HTTP/1.1\r\n"))
        XCTAssertEqual(try parser.nextRequest()?.body, httpBytes("abc"))
        XCTAssertTrue(parser.hasPartialRequest)            // the pipelined second head has begun
        parser.feed(httpBytes("\r\n"))
        XCTAssertEqual(try parser.nextRequest()?.target, "/2")
        XCTAssertFalse(parser.hasPartialRequest)
        XCTAssertNil(try parser.nextRequest())
    }

    func testBufferCompactionKeepsManySmallRequestsCorrect() throws {
        // Many requests fed in odd-sized pieces exercise the resume-scan and compaction paths.
        let one = httpBytes("GET /n HTTP/1.1\r\nHost: h\r\n\r\n")
        let all = Array((0..<500).map { _ in one }.joined())
        var parser = HTTPRequestParser()
        var count = 0, i = 0
        while i < all.count {
            let n = min(all.count - i, 37)
            parser.feed(Array(all[i..<(i + n)]))
            i += n
            while let r = try parser.nextRequest() { XCTAssertEqual(r.path, "/n"); count += 1 }
        }
        XCTAssertEqual(count, 500)
        XCTAssertFalse(parser.hasPartialRequest)
    }

    private func parseOne(_ raw: String) throws -> HTTPRequest {
        var parser = HTTPRequestParser()
        parser.feed(httpBytes(raw))
        return try XCTUnwrap(parser.nextRequest())
    }

    /// RFC 9110 §10.1.1: a head with `Expect: 100-continue` and none of its body yet asks the
    /// server for `100 Continue`, once; not when the body came with the head, not in HTTP/1.0.
    func testExpect100ContinueIsReportedOnceBeforeTheBody() throws {
        var parser = HTTPRequestParser()
        parser.feed(httpBytes("POST /publish HTTP/1.1\r\nExpect: 100-Continue\r\nContent-Length: 2\r\n\r\n"))
        XCTAssertNil(try parser.nextRequest())
        XCTAssertEqual(parser.takeContinueRequest()?.path, "/publish")
        XCTAssertNil(parser.takeContinueRequest(), "only once per request")
        parser.feed(httpBytes("hi"))
        XCTAssertEqual(try parser.nextRequest()?.body, Array("hi".utf8))
        XCTAssertNil(parser.takeContinueRequest())

        for raw in ["POST / HTTP/1.1\r\nExpect: 100-continue\r\nContent-Length: 2\r\n\r\nh",    // body begun
                    "POST / HTTP/1.0\r\nExpect: 100-continue\r\nContent-Length: 2\r\n\r\n",      // no 1xx in 1.0
                    "POST / HTTP/1.1\r\nContent-Length: 2\r\n\r\n"] {                              // not asked
            var p = HTTPRequestParser()
            p.feed(httpBytes(raw))
            XCTAssertNil(try p.nextRequest())
            XCTAssertNil(p.takeContinueRequest(), raw)
        }
        var chunked = HTTPRequestParser()
        chunked.feed(httpBytes("POST / HTTP/1.1\r\nExpect: 100-continue\r\nTransfer-Encoding: chunked\r\n\r\n"))
        XCTAssertNil(try chunked.nextRequest())
        XCTAssertEqual(chunked.takeContinueRequest()?.method, "POST")
    }
}

final class HTTPRequestTargetFormTests: XCTestCase {
    /// RFC 9112 §3.2.2: "a server MUST accept the absolute-form in requests".
    func testAbsoluteFormTargetYieldsTheOriginPath() {
        func path(_ target: String) -> String {
            HTTPRequest(method: "GET", target: target, version: .http1_1, headers: HTTPHeaders()).path
        }
        XCTAssertEqual(path("http://127.0.0.1:8080/poll?since=1"), "/poll")
        XCTAssertEqual(path("http://example.com"), "/")
        XCTAssertEqual(path("http://example.com?x=1"), "/")
        XCTAssertEqual(path("/poll?since=1"), "/poll")
        XCTAssertEqual(HTTPRequest(method: "GET", target: "http://h/poll?since=4", version: .http1_1, headers: HTTPHeaders()).query["since"], "4")
    }
}
