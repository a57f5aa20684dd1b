// Chunked transfer coding (RFC 9112 §7.1), decoded incrementally. Shared by both parsers.
//
//   chunked-body = *chunk last-chunk trailer-section CRLF
//   chunk        = chunk-size [ chunk-ext ] CRLF chunk-data CRLF
//   last-chunk   = 1*("0") [ chunk-ext ] CRLF
//
// The decoder walks these states, consuming from an HTTPInputBuffer:
//
//   .size ──(n > 0)──> .data(n) ──> .dataEnd ──> .size
//     └──(n == 0)──> .trailers ──(empty line)──> done
//
// `next` returns the range of decoded data that is available right now (possibly only part of a
// chunk, so a streaming client sees bytes as soon as they arrive), `.needMore`, or `.end`.
// Chunk extensions are skipped (RFC 9112 §7.1.1: a recipient MUST ignore unrecognized ones) and
// trailer fields are syntax-checked and dropped (RFC 9112 §7.1.2 allows discarding them).

struct HTTPChunkedDecoder {
    enum Event: Equatable { case data(Range<Int>), needMore, end }
    private enum State { case size, data(remaining: Int), dataEnd, trailers }

    private var state = State.size
    /// Bytes decoded so far, to enforce `maxBodyBytes`.
    private(set) var decodedCount = 0
    private var trailerBytes = 0

    /// Status for malformed framing: 400 in a request, 502 ("bad response") in a response.
    let malformedStatus: Int
    /// Decoded body limit and the status for going over it (413 for requests). Must be well below
    /// Int.max so that a saturated chunk-size always exceeds it.
    let maxBodyBytes: Int
    let bodyTooLargeStatus: Int
    /// Trailer section limit and the status for going over it (431 for requests).
    let maxTrailerBytes: Int
    let trailerTooLargeStatus: Int

    init(malformedStatus: Int, maxBodyBytes: Int, bodyTooLargeStatus: Int,
         maxTrailerBytes: Int, trailerTooLargeStatus: Int) {
        self.malformedStatus = malformedStatus
        self.maxBodyBytes = maxBodyBytes
        self.bodyTooLargeStatus = bodyTooLargeStatus
        self.maxTrailerBytes = maxTrailerBytes
        self.trailerTooLargeStatus = trailerTooLargeStatus
    }

    /// A chunk-size line longer than this is an attack, not an extension we must read.
    static let maxSizeLineBytes = 4096

    mutating func next(_ input: inout HTTPInputBuffer) throws -> Event {
        while true {
            switch state {
            case .size:
                guard let lf = input.nextLF() else {
                    if input.readableCount > Self.maxSizeLineBytes { throw malformed("chunk-size line too long") }
                    return .needMore
                }
                let size = try parseSizeLine(input, input.lineContent(startingAt: input.readIndex, lf: lf))
                input.readIndex = lf + 1
                state = size == 0 ? .trailers : .data(remaining: size)
            case .data(let remaining):
                let available = min(remaining, input.readableCount)
                guard available > 0 else { return .needMore }
                let range = input.readIndex..<(input.readIndex + available)
                input.readIndex += available
                state = remaining == available ? .dataEnd : .data(remaining: remaining - available)
                return .data(range)
            case .dataEnd:
                // chunk-data is followed by CRLF (or a bare LF, RFC 9112 §2.2).
                guard input.readableCount >= 1 else { return .needMore }
                let first = input.bytes[input.readIndex]
                if first == httpLF {
                    input.readIndex += 1
                } else if first == httpCR {
                    guard input.readableCount >= 2 else { return .needMore }
                    guard input.bytes[input.readIndex + 1] == httpLF else { throw malformed("missing CRLF after chunk data") }
                    input.readIndex += 2
                } else {
                    throw malformed("missing CRLF after chunk data")
                }
                state = .size
            case .trailers:
                guard let lf = input.nextLF() else {
                    if trailerBytes + input.readableCount > maxTrailerBytes {
                        throw HTTPError(status: trailerTooLargeStatus, reason: "trailer section too large")
                    }
                    return .needMore
                }
                trailerBytes += lf + 1 - input.readIndex
                if trailerBytes > maxTrailerBytes {
                    throw HTTPError(status: trailerTooLargeStatus, reason: "trailer section too large")
                }
                let line = input.lineContent(startingAt: input.readIndex, lf: lf)
                input.readIndex = lf + 1
                if line.isEmpty { return .end }
                let status = malformedStatus
                _ = try input.bytes.withUnsafeBufferPointer { try httpParseFieldLine($0, line, errorStatus: status) }
            }
        }
    }

    /// chunk-size = 1*HEXDIG, then optional chunk extensions: *( BWS ";" BWS ext-name [ BWS "=" BWS ext-val ] ).
    private mutating func parseSizeLine(_ input: HTTPInputBuffer, _ line: Range<Int>) throws -> Int {
        try input.bytes.withUnsafeBufferPointer { p in
            var i = line.lowerBound, size = 0
            while i < line.upperBound, let digit = httpHexValue(p[i]) {
                // Saturate rather than overflow: any size this big is "too large", not malformed.
                size = size > (Int.max - 15) / 16 ? Int.max : size * 16 + Int(digit)
                i += 1
            }
            guard i > line.lowerBound else { throw malformed("chunk-size is not hexadecimal") }
            // What follows the digits may only be an extension; its content is ignored but must not
            // smuggle control characters (a bare CR here is the classic request-smuggling trick).
            var rest = i
            while rest < line.upperBound && (p[rest] == httpSP || p[rest] == httpHTAB) { rest += 1 }
            if rest < line.upperBound && p[rest] != UInt8(ascii: ";") { throw malformed("junk after chunk-size") }
            for k in rest..<line.upperBound where httpIsForbiddenInValue(p[k]) {
                throw malformed("control character in chunk extension")
            }
            if size > maxBodyBytes - decodedCount {
                throw HTTPError(status: bodyTooLargeStatus, reason: "chunked body too large")
            }
            decodedCount += size
            return size
        }
    }

    private func malformed(_ why: String) -> HTTPError { HTTPError(status: malformedStatus, reason: why) }
}
