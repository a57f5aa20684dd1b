// The byte buffer both HTTP parsers read from, plus the byte-level syntax they share.
//
// One `[UInt8]` holds everything received and not yet consumed. `readIndex` marks the first
// unconsumed byte; consuming is just moving it forward, so a parser never copies or shifts
// bytes per request. `feed` compacts (drops the consumed prefix) only when that is cheap or
// worthwhile: when everything was consumed (the common case: one request per read), or when
// the consumed prefix is more than half of the buffer. Positions handed out by the parsers
// (`scanIndex`, ranges) are only used between two `append` calls, so compaction cannot
// invalidate them behind a parser's back.

#if canImport(Glibc)
import Glibc
#endif

struct HTTPInputBuffer {
    private(set) var bytes: [UInt8] = []
    /// First byte not yet consumed.
    var readIndex = 0
    /// Where the search for the end of the head resumes, so a head arriving in many small
    /// reads is scanned once in total, not once per read.
    var scanIndex = 0

    /// Capacity kept between requests; a larger buffer (a big body, a burst) is freed when drained.
    static let keptCapacity = 16 * 1024

    var endIndex: Int { bytes.count }
    var readableCount: Int { bytes.count - readIndex }
    var isEmpty: Bool { readIndex == bytes.count }

    mutating func append(_ newBytes: UnsafeRawBufferPointer) {
        compactIfWorthwhile()
        bytes.append(contentsOf: newBytes)
    }

    mutating func append(_ newBytes: [UInt8]) {
        compactIfWorthwhile()
        bytes.append(contentsOf: newBytes)
    }

    private mutating func compactIfWorthwhile() {
        guard readIndex > 0 else { return }
        if readIndex == bytes.count {
            // Keep a small buffer for the next request; give back what a burst grew.
            bytes.removeAll(keepingCapacity: bytes.capacity <= HTTPInputBuffer.keptCapacity)
        } else if readIndex > bytes.count / 2 {
            bytes.removeSubrange(0..<readIndex)
        } else {
            return
        }
        scanIndex = max(scanIndex - readIndex, 0)
        readIndex = 0
    }

    /// When everything was consumed, frees a buffer a burst made large (memory is returned
    /// after the burst, not kept at its peak).
    mutating func shrinkIfDrained() {
        guard readIndex == bytes.count, bytes.capacity > HTTPInputBuffer.keptCapacity else { return }
        bytes = []
        readIndex = 0
        scanIndex = 0
    }

    /// Everything not consumed yet; the buffer is left empty.
    mutating func takeAll() -> [UInt8] {
        let rest = Array(bytes[readIndex...])
        bytes.removeAll(keepingCapacity: bytes.capacity <= HTTPInputBuffer.keptCapacity)
        readIndex = 0
        scanIndex = 0
        return rest
    }

    /// Index of the first LF in the unconsumed bytes, or nil. Like findEndOfHead it resumes where
    /// the previous unsuccessful search stopped, so a line trickling in byte by byte costs O(n),
    /// not O(n²). (Once the LF is found the caller consumes past it, so the stale scanIndex is
    /// behind readIndex again and the next search starts at readIndex.)
    mutating func nextLF() -> Int? {
        let found: Int? = bytes.withUnsafeBufferPointer { p in
            var i = max(scanIndex, readIndex)
            while i < p.count {
                if p[i] == httpLF { return i }
                i += 1
            }
            return nil
        }
        if found == nil { scanIndex = bytes.count }
        return found
    }

    /// Looks for the empty line ending a head (RFC 9112 §2.1), i.e. "\n\r\n" or "\n\n" (we accept a
    /// bare LF as a line terminator, RFC 9112 §2.2). Returns the index just past it, or nil after
    /// remembering where to resume. Assumes the head starts at `readIndex` with a non-empty line.
    mutating func findEndOfHead() -> Int? {
        let (end, resume): (Int?, Int) = bytes.withUnsafeBufferPointer { p in
            var from = max(scanIndex, readIndex)
            while let i = httpFirstLF(p, from: from) {
                // An LF: is the next line empty? Stop if we cannot tell yet.
                guard i + 1 < p.count else { return (nil, i) }
                if p[i + 1] == httpLF { return (i + 2, i) }
                if p[i + 1] == httpCR {
                    guard i + 2 < p.count else { return (nil, i) }
                    if p[i + 2] == httpLF { return (i + 3, i) }
                }
                from = i + 1
            }
            return (nil, p.count)
        }
        scanIndex = resume
        return end
    }

    /// The line ending at the LF `lf`, without the LF and without one CR before it.
    func lineContent(startingAt start: Int, lf: Int) -> Range<Int> {
        (lf > start && bytes[lf - 1] == httpCR) ? start..<(lf - 1) : start..<lf
    }
}

/// The index of the first LF in `p[from...]`, or nil. PERF: the C library's `memchr` compares
/// many bytes per instruction; the byte-by-byte loop it replaces cost ~6 instructions for every
/// byte of every request head (callgrind, Tests/Bench/perf/callgrind_perf.py).
@inline(__always)
func httpFirstLF(_ p: UnsafeBufferPointer<UInt8>, from: Int) -> Int? {
    guard from < p.count, let base = p.baseAddress else { return nil }
    #if canImport(Glibc)
    guard let hit = memchr(base + from, Int32(httpLF), p.count - from) else { return nil }
    return UnsafeRawPointer(base).distance(to: UnsafeRawPointer(hit))
    #else
    var i = from
    while i < p.count { if p[i] == httpLF { return i }; i += 1 }
    return nil
    #endif
}

let httpCR = UInt8(ascii: "\r")
let httpLF = UInt8(ascii: "\n")
let httpSP = UInt8(ascii: " ")
let httpHTAB = UInt8(ascii: "\t")

/// tchar (RFC 9110 §5.6.2): the characters allowed in methods, field names and coding names.
@inline(__always) func httpIsTokenByte(_ b: UInt8) -> Bool {
    switch b {
    case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
         UInt8(ascii: "0")...UInt8(ascii: "9"):
        return true
    case UInt8(ascii: "!"), UInt8(ascii: "#"), UInt8(ascii: "$"), UInt8(ascii: "%"), UInt8(ascii: "&"),
         UInt8(ascii: "'"), UInt8(ascii: "*"), UInt8(ascii: "+"), UInt8(ascii: "-"), UInt8(ascii: "."),
         UInt8(ascii: "^"), UInt8(ascii: "_"), UInt8(ascii: "`"), UInt8(ascii: "|"), UInt8(ascii: "~"):
        return true
    default:
        return false
    }
}

/// Control characters other than HTAB (and DEL) are not allowed in field values (RFC 9110 §5.5).
/// Bytes >= 0x80 (obs-text) are allowed: we pass them on as (possibly invalid) UTF-8.
@inline(__always) func httpIsForbiddenInValue(_ b: UInt8) -> Bool {
    (b < 0x20 && b != httpHTAB) || b == 0x7F
}

/// One field line, "name: value" (RFC 9112 §5), split into ranges of `p`.
/// Enforces: name is a non-empty token and is followed directly by ":" (no whitespace before
/// the colon, RFC 9112 §5.1 MUST reject); optional whitespace around the value is trimmed;
/// no control characters in the value. A line starting with SP/HTAB is obsolete line folding
/// (RFC 9112 §5.2), which it also rejects because a space is not a token character.
func httpParseFieldLine(_ p: UnsafeBufferPointer<UInt8>, _ line: Range<Int>, errorStatus: Int) throws
    -> (name: Range<Int>, value: Range<Int>) {
    var colon = line.lowerBound
    while colon < line.upperBound && p[colon] != UInt8(ascii: ":") {
        guard httpIsTokenByte(p[colon]) else {
            let why = (p[colon] == httpSP || p[colon] == httpHTAB)
                ? (colon == line.lowerBound ? "obsolete line folding" : "whitespace in field name")
                : "invalid character in field name"
            throw HTTPError(status: errorStatus, reason: why)
        }
        colon += 1
    }
    guard colon < line.upperBound else { throw HTTPError(status: errorStatus, reason: "field line without colon") }
    guard colon > line.lowerBound else { throw HTTPError(status: errorStatus, reason: "empty field name") }
    var start = colon + 1, end = line.upperBound
    while start < end && (p[start] == httpSP || p[start] == httpHTAB) { start += 1 }
    while end > start && (p[end - 1] == httpSP || p[end - 1] == httpHTAB) { end -= 1 }
    for i in start..<end where httpIsForbiddenInValue(p[i]) {
        throw HTTPError(status: errorStatus, reason: "control character in field value")
    }
    return (line.lowerBound..<colon, start..<end)
}

/// Does `p[range]` equal `lowercaseName` ignoring ASCII case? `lowercaseName` must be lowercase.
@inline(__always) func httpBytesEqualLowercase(_ p: UnsafeBufferPointer<UInt8>, _ range: Range<Int>,
                                               _ lowercaseName: StaticString) -> Bool {
    guard range.count == lowercaseName.utf8CodeUnitCount else { return false }
    let name = lowercaseName.utf8Start
    for k in 0..<range.count where httpASCIILower(p[range.lowerBound + k]) != name[k] { return false }
    return true
}

/// A Content-Length value (RFC 9110 §8.6): one or more digits, nothing else. Saturates instead of
/// overflowing, so an absurd length is reported as "too large" rather than trapping.
func httpParseContentLength(_ p: UnsafeBufferPointer<UInt8>, _ range: Range<Int>) -> Int? {
    guard !range.isEmpty else { return nil }
    var value = 0
    for i in range {
        guard let digit = httpDecimalValue(p[i]) else { return nil }
        value = value > (Int.max - 9) / 10 ? Int.max : value * 10 + digit
    }
    return value
}

@inline(__always) func httpDecimalValue(_ b: UInt8) -> Int? {
    (b >= UInt8(ascii: "0") && b <= UInt8(ascii: "9")) ? Int(b - UInt8(ascii: "0")) : nil
}

extension String {
    /// Builds a String from buffer bytes, once per field (invalid UTF-8 becomes U+FFFD).
    init(httpBytes p: UnsafeBufferPointer<UInt8>, _ range: Range<Int>) {
        self.init(decoding: UnsafeBufferPointer(rebasing: p[range]), as: UTF8.self)
    }

    /// A method or field name: one of the few most requests carry is handed out as the same
    /// literal (no decoding); anything else is decoded. Byte-exact match: "host" is decoded.
    /// PERF: decoding costs ~150 instructions a String; a plain `GET /poll` has two such tokens
    /// (`GET`, `Host`) of its four Strings (Tests/Bench/perf/README.md figure 2).
    init(httpToken p: UnsafeBufferPointer<UInt8>, _ range: Range<Int>) {
        let n = range.count
        for (bytes, literal) in httpCommonTokens where bytes.count == n {
            var i = 0
            while i < n && bytes[i] == p[range.lowerBound + i] { i += 1 }
            if i == n { self = literal; return }
        }
        self.init(httpBytes: p, range)
    }
}

private let httpCommonTokens: [([UInt8], String)] = [
    "GET", "HEAD", "POST", "OPTIONS", "Host", "Connection", "User-Agent", "Accept", "Origin",
    "Upgrade", "Content-Length", "Content-Type", "Accept-Encoding", "Accept-Language",
].map { (Array($0.utf8), $0) }
