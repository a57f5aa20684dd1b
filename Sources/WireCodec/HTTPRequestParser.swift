// HTTP/1.1 request parser (RFC 9112). Sans-I/O: feed bytes, take complete requests.
//
// Theory of operation (in the spirit of python-hyper's h11)
// ---------------------------------------------------------
// The parser owns one byte buffer (HTTPInputBuffer) and a small state machine:
//
//   .readingHead ──(no body)──────────────────────────> request out, back to .readingHead
//        ├──(Content-Length: n)──> .readingFixedBody(n) ──> request out, back to .readingHead
//        └──(chunked)──> .readingChunkedBody ──(last chunk + trailers)──> request out, ...
//   any state ──(malformed / too large)──> .failed(error)   (terminal: the connection must close)
//
// `feed` only appends bytes; all work happens in `nextRequest`, which advances the state machine
// as far as the buffered bytes allow. Requests that arrive pipelined in one read therefore come
// out one per call, and a request split over many reads comes out when its last byte arrives.
//
// Why it is fast: the head is found by scanning for an empty line once, resuming where the last
// scan stopped (HTTPInputBuffer.findEndOfHead); the head is then parsed in place through an
// unsafe pointer, with one String built per method, target, field name and field value. Nothing
// is copied byte by byte and consumed bytes are dropped only when that is cheap.
//
// Why it is strict: HTTP/1.1 framing errors are how request smuggling works (RFC 9112 §11.2).
// Whenever two readings of a message are possible (Content-Length *and* Transfer-Encoding,
// two different Content-Lengths, whitespace before a colon, obsolete line folding, bare CRs),
// we answer 400 and stop instead of guessing.
//
// Decisions worth knowing:
//  - Bare LF is accepted as a line terminator (RFC 9112 §2.2 lets a recipient do so), so lessons
//    can type requests with `nc` without `-C`.
//  - Up to `maxLeadingEmptyLines` empty lines before a request line are skipped (RFC 9112 §2.2
//    SHOULD ignore at least one); more than that is treated as garbage (400).
//  - DEVIATION from RFC 9112 §3.2 (MUST 400 when an HTTP/1.1 request has no Host): we accept it.
//    WireLab is a teaching tool and its raw-socket lessons type requests by hand; a missing Host
//    harms nobody on a single-site server. More than one Host is still 400 (same section).
//  - Transfer codings other than chunked: "gzip, chunked" is 501 Not Implemented (RFC 9112 §6.1
//    SHOULD); a coding list that does not end in chunked is 400 (RFC 9112 §6.3 item 4 MUST), as
//    is chunked applied twice (RFC 9112 §7) and Transfer-Encoding in HTTP/1.0 (RFC 9112 §6.1).
//  - Any other HTTP/1.x minor version is parsed with HTTP/1.1 rules; a well-formed version with
//    another major (HTTP/2.0, HTTP/0.9) is 505; anything not shaped like HTTP/d.d is 400.
//  - A first byte that cannot begin a method is 400 at once (a TLS ClientHello would otherwise
//    wait for the head timeout). `Expect: 100-continue` is reported (takeContinueRequest) so the
//    server can send `100 Continue` before the body (RFC 9110 §10.1.1).
//  - Bytes >= 0x80 are tolerated in the target and in field values (passed on as UTF-8, invalid
//    sequences become U+FFFD); control characters are not.

public struct HTTPRequestParser {
    private enum State {
        case readingHead
        case readingFixedBody(length: Int)
        case readingChunkedBody(HTTPChunkedDecoder)
        case failed(HTTPError)
    }

    /// How the body of the request just parsed is delimited (RFC 9112 §6.3).
    private enum Framing { case none, length(Int), chunked }

    public let maxHeadBytes: Int
    public let maxBodyBytes: Int
    /// Empty lines tolerated before a request line (RFC 9112 §2.2).
    public static let maxLeadingEmptyLines = 4

    private var input = HTTPInputBuffer()
    private var state = State.readingHead
    /// The head of the request whose body is being read.
    private var pendingRequest: HTTPRequest?
    private var chunkedBody: [UInt8] = []
    private var leadingEmptyLines = 0
    /// The request line of the head being read is complete and was found well formed (it is
    /// checked as soon as its LF arrives, before the rest of the head).
    private var requestLineChecked = false
    /// The request whose body is awaited asked `Expect: 100-continue` and no 100 was sent yet.
    private var continueAwaited = false
    /// Bytes fed so far, and how many of them the requests returned so far took up.
    private var fedByteCount = 0
    /// Total bytes of the requests returned so far: lets a server count each pipelined
    /// request's own bytes exactly, whatever chunks they arrived in.
    public private(set) var consumedByteCount = 0

    /// RFC 9112 gives no limit; we do: a head over `maxHeadBytes` is 431, a body over `maxBodyBytes` is 413.
    public init(maxHeadBytes: Int = 16 * 1024, maxBodyBytes: Int = 64 * 1024) {
        self.maxHeadBytes = maxHeadBytes
        self.maxBodyBytes = maxBodyBytes
    }

    /// Append bytes read from the socket.
    public mutating func feed(_ bytes: UnsafeRawBufferPointer) {
        if case .failed = state { return }   // a dead parser does not buffer
        fedByteCount += bytes.count
        input.append(bytes)
    }

    public mutating func feed(_ bytes: [UInt8]) {
        if case .failed = state { return }
        fedByteCount += bytes.count
        input.append(bytes)
    }

    /// The next complete request, nil if more bytes are needed, or an HTTPError.
    /// Pipelined requests come out one call at a time. After an error the parser is dead:
    /// every later call throws the same error.
    public mutating func nextRequest() throws -> HTTPRequest? {
        do {
            let request = try advance()
            if request != nil { consumedByteCount = fedByteCount - input.readableCount }
            input.shrinkIfDrained()
            return request
        } catch {
            let failure = error as? HTTPError ?? HTTPError(status: 400, reason: "\(error)")
            state = .failed(failure)
            pendingRequest = nil
            continueAwaited = false
            chunkedBody = []
            throw failure
        }
    }

    /// Bytes received and not yet taken by a request (PROTOCOL.md §9 bounds them while a
    /// response is pending).
    public var bufferedByteCount: Int { input.readableCount }

    /// True when some bytes of a not-yet-complete request are buffered (drives the 408 timer).
    public var hasPartialRequest: Bool {
        switch state {
        case .readingHead: return !input.isEmpty
        case .readingFixedBody, .readingChunkedBody: return true
        case .failed: return false
        }
    }

    /// Once per request whose head asked `Expect: 100-continue` (RFC 9110 §10.1.1) while none of
    /// its body has arrived: that head, so the server can send `100 Continue` (or the client
    /// waits its expect timeout, curl: 1 s, before sending the body). A final answer sent instead
    /// (413, 400) needs nothing from here.
    public mutating func takeContinueRequest() -> HTTPRequest? {
        guard continueAwaited else { return nil }
        continueAwaited = false
        switch state {
        case .readingFixedBody, .readingChunkedBody:
            return input.readableCount == 0 && chunkedBody.isEmpty ? pendingRequest : nil
        default: return nil
        }
    }

    /// RFC 9110 §10.1.1: "100-continue" is the only expectation; an HTTP/1.0 client has none.
    private static func expectsContinue(_ request: HTTPRequest) -> Bool {
        request.version.minor >= 1
            && request.headers.values("Expect").contains { httpASCIICaseInsensitiveEquals($0, "100-continue") }
    }

    /// After an Upgrade (101), bytes already read past the request belong to the new protocol.
    public mutating func takeBufferedBytes() -> [UInt8] {
        if case .failed = state {} else { state = .readingHead }
        pendingRequest = nil
        continueAwaited = false
        chunkedBody = []
        return input.takeAll()
    }

    // MARK: - The state machine

    private mutating func advance() throws -> HTTPRequest? {
        while true {
            switch state {
            case .failed(let error):
                throw error

            case .readingHead:
                guard let (request, framing) = try readHead() else { return nil }
                switch framing {
                case .none:
                    return request      // no body to wait for: Expect means nothing (and costs nothing per GET)
                case .length(let n):
                    continueAwaited = Self.expectsContinue(request)
                    pendingRequest = request
                    state = .readingFixedBody(length: n)
                case .chunked:
                    continueAwaited = Self.expectsContinue(request)
                    pendingRequest = request
                    state = .readingChunkedBody(HTTPChunkedDecoder(
                        malformedStatus: 400, maxBodyBytes: maxBodyBytes, bodyTooLargeStatus: 413,
                        maxTrailerBytes: maxHeadBytes, trailerTooLargeStatus: 431))
                }

            case .readingFixedBody(let length):
                // The length was checked against maxBodyBytes already, so waiting for all of it
                // buffers at most maxBodyBytes.
                guard input.readableCount >= length else { return nil }
                var request = pendingRequest!
                request.body = Array(input.bytes[input.readIndex..<(input.readIndex + length)])
                input.readIndex += length
                return finishBody(request)

            case .readingChunkedBody(var decoder):
                while true {
                    switch try decoder.next(&input) {
                    case .data(let range):
                        chunkedBody.append(contentsOf: input.bytes[range])
                    case .needMore:
                        state = .readingChunkedBody(decoder)
                        return nil
                    case .end:
                        var request = pendingRequest!
                        request.body = chunkedBody
                        chunkedBody = []
                        return finishBody(request)
                    }
                }
            }
        }
    }

    private mutating func finishBody(_ request: HTTPRequest) -> HTTPRequest {
        pendingRequest = nil
        continueAwaited = false
        state = .readingHead
        return request
    }

    /// Skips leading empty lines, finds the end of the head, enforces maxHeadBytes, parses the head.
    private mutating func readHead() throws -> (HTTPRequest, Framing)? {
        while input.readableCount > 0 {
            let first = input.bytes[input.readIndex]
            var length = 1
            if first == httpCR {
                guard input.readableCount >= 2 else { return nil }
                guard input.bytes[input.readIndex + 1] == httpLF else { break }   // fails below as a bad request line
                length = 2
            } else if first != httpLF {
                break
            }
            leadingEmptyLines += 1
            guard leadingEmptyLines <= Self.maxLeadingEmptyLines else { throw bad("too many empty lines before request") }
            input.readIndex += length
        }
        // A request line begins with its method, a token (RFC 9112 §3). A first byte that cannot
        // begin one (0x16, a TLS ClientHello from `curl https://` to this plain port; binary
        // garbage) is refused now, not after the 10 s head timeout. One byte, so O(1) per read.
        if input.readableCount > 0 && !httpIsTokenByte(input.bytes[input.readIndex]) {
            throw bad("malformed request line (not HTTP; https:// to an http:// port?)")
        }
        guard let headEnd = input.findEndOfHead() else {
            // RFC 9112 §2.3/RFC 6585 §5: refuse as soon as the head is known to be too big.
            if input.readableCount > maxHeadBytes { throw HTTPError(status: 431, reason: "request head too large") }
            // A complete request line that cannot be one (`GET /` without a version, an
            // HTTP/0.9 request) is refused now: no field line can repair it, so waiting for the
            // head timeout would only hold the connection (RFC 9112 §3).
            if !requestLineChecked {
                let start = input.readIndex
                requestLineChecked = try input.bytes.withUnsafeBufferPointer { p in
                    guard let lf = httpFirstLF(p, from: start) else { return false }
                    _ = try parseRequestLine(p, Self.content(p, start, lf))
                    return true
                }
            }
            return nil
        }
        guard headEnd - input.readIndex <= maxHeadBytes else {
            throw HTTPError(status: 431, reason: "request head too large")
        }
        let head = input.readIndex..<headEnd
        let parsed = try input.bytes.withUnsafeBufferPointer { try parseHead($0, head) }
        input.readIndex = headEnd
        leadingEmptyLines = 0
        requestLineChecked = false
        return parsed
    }

    // MARK: - Parsing a complete head in place

    private func parseHead(_ p: UnsafeBufferPointer<UInt8>, _ head: Range<Int>) throws -> (HTTPRequest, Framing) {
        var lf = Self.lf(p, from: head.lowerBound)
        var request = try parseRequestLine(p, Self.content(p, head.lowerBound, lf))
        request.headers.reserveCapacity(8)   // typical browsers send 6-12 fields; curl and wrk 3

        var contentLength: Int?
        var hasTransferEncoding = false
        var hostCount = 0
        var lineStart = lf + 1
        while true {
            lf = Self.lf(p, from: lineStart)
            let line = Self.content(p, lineStart, lf)
            if line.isEmpty { break }   // the empty line that ends the head
            let (name, value) = try httpParseFieldLine(p, line, errorStatus: 400)
            if httpBytesEqualLowercase(p, name, "content-length") {
                // RFC 9110 §8.6: digits only. Repeated identical values are tolerated, differing
                // ones are a smuggling attempt (RFC 9112 §6.3 item 5: MUST 400).
                guard let n = httpParseContentLength(p, value) else { throw bad("invalid Content-Length") }
                if let previous = contentLength, previous != n { throw bad("conflicting Content-Length values") }
                contentLength = n
            } else if httpBytesEqualLowercase(p, name, "transfer-encoding") {
                hasTransferEncoding = true
            } else if httpBytesEqualLowercase(p, name, "host") {
                hostCount += 1
            }
            request.headers.add(name: String(httpToken: p, name), value: String(httpBytes: p, value))
            lineStart = lf + 1
        }
        if hostCount > 1 { throw bad("more than one Host field") }   // RFC 9112 §3.2 MUST 400
        // hostCount == 0 in HTTP/1.1: accepted, see DEVIATION at the top of this file.

        if hasTransferEncoding {
            return (request, try chunkedFraming(request, hasContentLength: contentLength != nil))
        }
        guard let length = contentLength, length > 0 else { return (request, .none) }
        guard length <= maxBodyBytes else { throw HTTPError(status: 413, reason: "Content-Length exceeds limit") }
        return (request, .length(length))
    }

    /// request-line = method SP request-target SP HTTP-version (RFC 9112 §3), single spaces only.
    private func parseRequestLine(_ p: UnsafeBufferPointer<UInt8>, _ line: Range<Int>) throws -> HTTPRequest {
        var i = line.lowerBound
        while i < line.upperBound && p[i] != httpSP {
            guard httpIsTokenByte(p[i]) else { throw bad("invalid method") }
            i += 1
        }
        let method = line.lowerBound..<i
        guard !method.isEmpty, i < line.upperBound else { throw bad("malformed request line") }
        i += 1
        let targetStart = i
        while i < line.upperBound && p[i] != httpSP {
            guard p[i] > httpSP && p[i] != 0x7F else { throw bad("invalid character in request-target") }
            i += 1
        }
        let target = targetStart..<i
        guard !target.isEmpty, i < line.upperBound else { throw bad("malformed request line") }
        let version = try Self.parseVersion(p, (i + 1)..<line.upperBound)
        return HTTPRequest(method: String(httpToken: p, method), target: String(httpBytes: p, target),
                           version: version, headers: HTTPHeaders())
    }

    /// HTTP-version = "HTTP/" DIGIT "." DIGIT (RFC 9112 §2.3; "HTTP" is case-sensitive).
    private static func parseVersion(_ p: UnsafeBufferPointer<UInt8>, _ r: Range<Int>) throws -> HTTPVersion {
        let prefix: StaticString = "HTTP/"
        guard r.count == 8, (0..<5).allSatisfy({ p[r.lowerBound + $0] == prefix.utf8Start[$0] }),
              let major = httpDecimalValue(p[r.lowerBound + 5]), p[r.lowerBound + 6] == UInt8(ascii: "."),
              let minor = httpDecimalValue(p[r.lowerBound + 7]) else {
            throw HTTPError(status: 400, reason: "malformed HTTP version")
        }
        guard major == 1 else { throw HTTPError(status: 505, reason: "HTTP version not supported") }
        return HTTPVersion(major: major, minor: minor)
    }

    /// Transfer-Encoding rules for requests (RFC 9112 §6.1, §6.3, §7). Rare, so plain Strings.
    private func chunkedFraming(_ request: HTTPRequest, hasContentLength: Bool) throws -> Framing {
        // §6.1: a sender MUST NOT send both; a request with both is a smuggling vector, refuse it.
        if hasContentLength { throw bad("both Content-Length and Transfer-Encoding") }
        if request.version.minor == 0 { throw bad("Transfer-Encoding in an HTTP/1.0 request") }
        let codings = request.headers.values("Transfer-Encoding").flatMap(httpListElements).map { element in
            element.prefix { $0 != ";" && $0 != " " && $0 != "\t" }   // drop transfer-parameters
        }
        guard let last = codings.last, httpASCIICaseInsensitiveEquals(last, "chunked") else {
            throw bad("chunked is not the final transfer coding")
        }
        guard codings.filter({ httpASCIICaseInsensitiveEquals($0, "chunked") }).count == 1 else {
            throw bad("chunked applied more than once")
        }
        guard codings.count == 1 else { throw HTTPError(status: 501, reason: "unsupported transfer coding") }
        return .chunked
    }

    // MARK: - Small helpers

    private func bad(_ why: String) -> HTTPError { HTTPError(status: 400, reason: why) }

    /// The next LF at or after `from`. Only called inside a head, which ends with an LF.
    private static func lf(_ p: UnsafeBufferPointer<UInt8>, from: Int) -> Int {
        httpFirstLF(p, from: from)!      // the head is complete: it ends with an LF
    }

    /// The line from `start` up to the LF at `lf`, minus one CR before the LF.
    private static func content(_ p: UnsafeBufferPointer<UInt8>, _ start: Int, _ lf: Int) -> Range<Int> {
        (lf > start && p[lf - 1] == httpCR) ? start..<(lf - 1) : start..<lf
    }
}
