// HTTP/1.1 response parser for our clients (RFC 9112 §6): streams the body as it arrives.
//
// Theory of operation
// -------------------
// Same buffer and line rules as HTTPRequestParser, different state machine, and it streams:
// a long-poll or SSE client wants body bytes the moment they arrive, not when the response ends.
//
//   .readingHead ──> .head(...) ──┬─ no body (HEAD, 1xx, 204, 304) ──> .end
//                                 ├─ Content-Length ──> .readingFixedBody ──> .body* ──> .end
//                                 ├─ chunked ──> .readingChunkedBody ──> .body* ──> .end
//                                 ├─ neither ──> .readingUntilClose ──> .body* ──(closeInput)──> .end
//                                 └─ 101 ──> .upgraded (nothing more; takeBufferedBytes())
//
// After `.end` the state is .readingHead again, so pipelined or keep-alive responses follow.
// The body length rules are RFC 9112 §6.3, in its order. Interim 1xx responses other than 101
// (100 Continue, 103 Early Hints) are skipped silently (RFC 9110 §15.2: a client MUST be able to
// parse them and MAY ignore them), so callers only ever see final responses or a 101.
// Any error is reported as HTTPError with status 502, the status a proxy would use for "the
// upstream sent something invalid".

public enum HTTPResponsePart: Equatable {
    case head(HTTPResponseHeadValue)
    case body([UInt8])      // de-chunked body bytes, as they arrive
    case end                // message complete (Content-Length reached, last chunk, or closeInput())
}

/// Equatable wrapper so parts can be compared in tests.
public struct HTTPResponseHeadValue: Equatable {
    public var status: Int
    public var reason: String
    public var version: HTTPVersion
    public var headers: [HTTPHeaderField]
    public init(status: Int, reason: String, version: HTTPVersion, headers: [HTTPHeaderField]) {
        self.status = status; self.reason = reason; self.version = version; self.headers = headers
    }
    /// First value for `name`, compared case-insensitively (RFC 9110 §5.1).
    public func header(_ name: String) -> String? {
        headers.first { httpASCIICaseInsensitiveEquals($0.name, name) }?.value
    }
}
public struct HTTPHeaderField: Equatable { public var name: String; public var value: String
    public init(name: String, value: String) { self.name = name; self.value = value } }

public struct HTTPResponseParser {
    private enum State {
        case readingHead
        case readingFixedBody(remaining: Int)
        case readingChunkedBody(HTTPChunkedDecoder)
        case readingUntilClose
        case ending            // the body is complete; `.end` is the next part
        case upgraded          // after a 101: the rest of the bytes are not HTTP
        case failed(HTTPError)
    }

    public let maxHeadBytes: Int
    private var input = HTTPInputBuffer()
    private var state = State.readingHead
    private var inputClosed = false
    private var nextResponseIsToHEAD = false

    public init(maxHeadBytes: Int = 64 * 1024) { self.maxHeadBytes = maxHeadBytes }

    /// Tell the parser the request was HEAD: the next response has no body whatever its headers
    /// say (RFC 9112 §6.3 item 1). Call it before that response's head is parsed.
    public mutating func expectResponseToHEAD() { nextResponseIsToHEAD = true }

    public mutating func feed(_ bytes: UnsafeRawBufferPointer) { input.append(bytes) }
    public mutating func feed(_ bytes: [UInt8]) { input.append(bytes) }

    /// The peer closed: ends a close-delimited body. Anything else left incomplete becomes an error.
    public mutating func closeInput() { inputClosed = true }

    /// Next part, nil if more bytes are needed (or nothing more will come).
    public mutating func nextPart() throws -> HTTPResponsePart? {
        do {
            return try advance()
        } catch {
            let failure = error as? HTTPError ?? HTTPError(status: 502, reason: "\(error)")
            state = .failed(failure)
            throw failure
        }
    }

    /// After a 101 head, the bytes already read belong to the new protocol.
    public mutating func takeBufferedBytes() -> [UInt8] { input.takeAll() }

    /// Bytes fed but not yet consumed by the parts returned so far. A relay that forwards the
    /// raw bytes (wirelab proxy) uses it to find where a head or a message ended in its input.
    public var bufferedByteCount: Int { input.readableCount }

    // MARK: - The state machine

    private mutating func advance() throws -> HTTPResponsePart? {
        while true {
            switch state {
            case .failed(let error):
                throw error
            case .upgraded:
                return nil
            case .ending:
                state = .readingHead
                return .end

            case .readingHead:
                // Stray empty lines between responses are ignored (RFC 9112 §2.2).
                while !input.isEmpty, input.bytes[input.readIndex] == httpLF
                        || (input.bytes[input.readIndex] == httpCR && input.readableCount >= 2
                            && input.bytes[input.readIndex + 1] == httpLF) {
                    input.readIndex += input.bytes[input.readIndex] == httpLF ? 1 : 2
                }
                guard let headEnd = input.findEndOfHead() else {
                    if input.readableCount > maxHeadBytes { throw bad("response head too large") }
                    if inputClosed && !input.isEmpty { throw bad("connection closed inside a response head") }
                    return nil
                }
                guard headEnd - input.readIndex <= maxHeadBytes else { throw bad("response head too large") }
                let range = input.readIndex..<headEnd
                let head = try input.bytes.withUnsafeBufferPointer { try Self.parseHead($0, range) }
                input.readIndex = headEnd
                if (100...199).contains(head.status) && head.status != 101 { continue }   // interim: skip
                let toHEAD = nextResponseIsToHEAD
                nextResponseIsToHEAD = false
                state = try Self.bodyState(for: head, toHEAD: toHEAD)
                return .head(head)

            case .readingFixedBody(let remaining):
                let available = min(remaining, input.readableCount)
                guard available > 0 else {
                    if inputClosed { throw bad("connection closed before Content-Length bytes arrived") }
                    return nil
                }
                let part = Array(input.bytes[input.readIndex..<(input.readIndex + available)])
                input.readIndex += available
                state = available == remaining ? .ending : .readingFixedBody(remaining: remaining - available)
                return .body(part)

            case .readingChunkedBody(var decoder):
                switch try decoder.next(&input) {
                case .data(let range):
                    state = .readingChunkedBody(decoder)
                    return .body(Array(input.bytes[range]))
                case .needMore:
                    state = .readingChunkedBody(decoder)
                    if inputClosed { throw bad("connection closed inside a chunked body") }
                    return nil
                case .end:
                    state = .ending
                }

            case .readingUntilClose:
                if !input.isEmpty {
                    let part = Array(input.bytes[input.readIndex...])
                    input.readIndex = input.endIndex
                    return .body(part)
                }
                guard inputClosed else { return nil }
                state = .ending
            }
        }
    }

    /// RFC 9112 §6.3, in order: which body follows this head?
    private static func bodyState(for head: HTTPResponseHeadValue, toHEAD: Bool) throws -> State {
        if head.status == 101 { return .upgraded }
        // Item 1: HEAD responses, 1xx, 204 and 304 never have a body.
        if toHEAD || head.status == 204 || head.status == 304 { return .ending }
        // Item 3: Transfer-Encoding overrides Content-Length; chunked last means chunked,
        // otherwise the body runs until the connection closes.
        let codings = head.headers.filter { httpASCIICaseInsensitiveEquals($0.name, "Transfer-Encoding") }
            .flatMap { httpListElements($0.value) }
        if let last = codings.last {
            guard httpASCIICaseInsensitiveEquals(last, "chunked") else { return .readingUntilClose }
            return .readingChunkedBody(HTTPChunkedDecoder(
                malformedStatus: 502, maxBodyBytes: 1 << 52, bodyTooLargeStatus: 502,
                maxTrailerBytes: 64 * 1024, trailerTooLargeStatus: 502))
        }
        // Items 5 and 6: a valid Content-Length (identical repeats allowed), else an error.
        var length: Int?
        for field in head.headers where httpASCIICaseInsensitiveEquals(field.name, "Content-Length") {
            let digits = Array(field.value.utf8)
            let n = digits.withUnsafeBufferPointer { httpParseContentLength($0, 0..<digits.count) }
            guard let n, length == nil || length == n else { throw bad("invalid Content-Length") }
            length = n
        }
        if let length { return length == 0 ? .ending : .readingFixedBody(remaining: length) }
        // Item 8: no framing at all: read until the server closes.
        return .readingUntilClose
    }

    /// status-line = HTTP-version SP status-code SP [ reason-phrase ] (RFC 9112 §4), then field lines.
    private static func parseHead(_ p: UnsafeBufferPointer<UInt8>, _ head: Range<Int>) throws -> HTTPResponseHeadValue {
        var lf = head.lowerBound
        while p[lf] != httpLF { lf += 1 }
        let line = content(p, head.lowerBound, lf)
        let prefix: StaticString = "HTTP/"
        let s = line.lowerBound
        guard line.count >= 12, (0..<5).allSatisfy({ p[s + $0] == prefix.utf8Start[$0] }),
              let major = httpDecimalValue(p[s + 5]), p[s + 6] == UInt8(ascii: "."),
              let minor = httpDecimalValue(p[s + 7]), p[s + 8] == httpSP,
              let d1 = httpDecimalValue(p[s + 9]), let d2 = httpDecimalValue(p[s + 10]),
              let d3 = httpDecimalValue(p[s + 11]) else { throw bad("malformed status line") }
        guard major == 1 else { throw bad("unsupported HTTP version in response") }
        // Lenient: "HTTP/1.1 200" without the space before an empty reason is accepted.
        guard line.count == 12 || p[s + 12] == httpSP else { throw bad("malformed status line") }
        let reason = line.count > 13 ? (s + 13)..<line.upperBound : line.upperBound..<line.upperBound
        for i in reason where httpIsForbiddenInValue(p[i]) { throw bad("control character in reason phrase") }

        var fields: [HTTPHeaderField] = []
        var lineStart = lf + 1
        while true {
            lf = lineStart
            while p[lf] != httpLF { lf += 1 }
            let fieldLine = content(p, lineStart, lf)
            if fieldLine.isEmpty { break }
            let (name, value) = try httpParseFieldLine(p, fieldLine, errorStatus: 502)
            fields.append(HTTPHeaderField(name: String(httpBytes: p, name), value: String(httpBytes: p, value)))
            lineStart = lf + 1
        }
        return HTTPResponseHeadValue(status: d1 * 100 + d2 * 10 + d3, reason: String(httpBytes: p, reason),
                                     version: HTTPVersion(major: major, minor: minor), headers: fields)
    }

    private static func content(_ p: UnsafeBufferPointer<UInt8>, _ start: Int, _ lf: Int) -> Range<Int> {
        (lf > start && p[lf - 1] == httpCR) ? start..<(lf - 1) : start..<lf
    }

    private static func bad(_ why: String) -> HTTPError { HTTPError(status: 502, reason: why) }
    private func bad(_ why: String) -> HTTPError { Self.bad(why) }
}
