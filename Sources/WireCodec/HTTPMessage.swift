// HTTP/1.1 message values (RFC 9112, RFC 9110): what the parsers produce and the serializer consumes.
// Plain values, no I/O. The parsers live in HTTPRequestParser.swift and HTTPResponseParser.swift.

/// Header fields in arrival order. Lookup is case-insensitive (RFC 9110 §5.1).
public struct HTTPHeaders: Sequence {
    public private(set) var fields: [(name: String, value: String)] = []
    public init() {}
    public init(_ fields: [(String, String)]) { for (n, v) in fields { add(name: n, value: v) } }
    public mutating func add(name: String, value: String) { fields.append((name, value)) }
    /// Lets the parser size the array once instead of growing it field by field.
    mutating func reserveCapacity(_ n: Int) { fields.reserveCapacity(n) }
    /// First value for `name`, compared case-insensitively.
    public subscript(_ name: String) -> String? {
        for f in fields where httpASCIICaseInsensitiveEquals(f.name, name) { return f.value }
        return nil
    }
    /// Every value for `name`, in order.
    public func values(_ name: String) -> [String] {
        fields.filter { httpASCIICaseInsensitiveEquals($0.name, name) }.map { $0.value }
    }
    /// True when any `name` field, read as a comma-separated list (RFC 9110 §5.6.1), holds `token`
    /// (case-insensitive). E.g. `contains(token: "close", in: "Connection")`,
    /// `contains(token: "upgrade", in: "Connection")`.
    public func contains(token: String, in name: String) -> Bool {
        for f in fields where httpASCIICaseInsensitiveEquals(f.name, name) {
            for element in httpListElements(f.value) where httpASCIICaseInsensitiveEquals(element, token) {
                return true
            }
        }
        return false
    }
    public func makeIterator() -> IndexingIterator<[(name: String, value: String)]> { fields.makeIterator() }
}

public struct HTTPVersion: Equatable {
    public var major: Int
    public var minor: Int
    public init(major: Int, minor: Int) { self.major = major; self.minor = minor }
    public static let http1_0 = HTTPVersion(major: 1, minor: 0)
    public static let http1_1 = HTTPVersion(major: 1, minor: 1)
}

/// One complete request: head and (de-chunked) body.
public struct HTTPRequest {
    public var method: String
    /// The raw request-target, e.g. "/poll?since=3".
    public var target: String
    public var version: HTTPVersion
    public var headers: HTTPHeaders
    public var body: [UInt8]
    public init(method: String, target: String, version: HTTPVersion, headers: HTTPHeaders, body: [UInt8] = []) {
        self.method = method; self.target = target; self.version = version; self.headers = headers; self.body = body
    }
    /// The path part of the target, without the query. Not percent-decoded: "/a%20b" stays as is,
    /// so routing compares exactly what the client sent (RFC 9112 §3.2.1 origin-form).
    /// For the absolute form (`GET http://host/poll HTTP/1.1`, what a client sends to a proxy),
    /// the path after the authority: RFC 9112 §3.2.2 "a server MUST accept the absolute-form".
    public var path: String {
        // The usual origin-form target ("/poll", "/poll?since=3"): one pass over contiguous
        // bytes (PERF: the generic UTF8View walk below cost ~500 instructions a request).
        if let fast = target.utf8.withContiguousStorageIfAvailable({ b -> String? in
            guard b.first == UInt8(ascii: "/") else { return nil }
            guard let q = b.firstIndex(of: UInt8(ascii: "?")) else { return target }
            return String(decoding: UnsafeBufferPointer(rebasing: b[..<q]), as: UTF8.self)
        }), let path = fast {
            return path
        }
        let bytes = target.utf8
        var start = bytes.startIndex
        if bytes.first != UInt8(ascii: "/"), let authority = HTTPRequest.authorityStart(bytes) {
            // Skip "scheme://host[:port]": the path starts at the next "/" (or is "/").
            start = bytes[authority...].firstIndex { $0 == UInt8(ascii: "/") || $0 == UInt8(ascii: "?") } ?? bytes.endIndex
            if start == bytes.endIndex || bytes[start] == UInt8(ascii: "?") { return "/" }
        }
        let end = bytes[start...].firstIndex(of: UInt8(ascii: "?")) ?? bytes.endIndex
        return String(target[start..<end])
    }

    /// For "http://host/...", the index just after "://"; nil when the target is not absolute.
    static func authorityStart(_ bytes: String.UTF8View) -> String.Index? {
        guard let colon = bytes.firstIndex(of: UInt8(ascii: ":")),
              bytes[..<colon].allSatisfy({ ($0 | 0x20) >= UInt8(ascii: "a") && ($0 | 0x20) <= UInt8(ascii: "z") }) else { return nil }
        let rest = bytes[bytes.index(after: colon)...]
        guard rest.starts(with: [UInt8(ascii: "/"), UInt8(ascii: "/")]) else { return nil }
        return bytes.index(colon, offsetBy: 3)
    }

    /// Query items, percent-decoded, '+' as space; the first value wins for a repeated name.
    /// "a&b=" gives ["a": "", "b": ""]. Decoding rules: see HTTPQuery.swift.
    public var query: [String: String] {
        let hasQuery = target.utf8.withContiguousStorageIfAvailable { $0.contains(UInt8(ascii: "?")) } ?? true
        guard hasQuery, let q = target.utf8.firstIndex(of: UInt8(ascii: "?")) else { return [:] }
        return httpParseQuery(target.utf8[target.utf8.index(after: q)...])
    }
    /// RFC 9112 §9.3: HTTP/1.1 is persistent unless "Connection: close";
    /// HTTP/1.0 only with "Connection: keep-alive" (RFC 9112 Appendix C.2.2).
    /// "close" wins over "keep-alive" if a confused client sends both.
    public var keepAlive: Bool {
        if headers.contains(token: "close", in: "Connection") { return false }
        if version.major == 1 && version.minor == 0 {
            return headers.contains(token: "keep-alive", in: "Connection")
        }
        return true
    }
}

/// A parse failure carries the status the server answers with (400, 413, 431, 505, ...).
public struct HTTPError: Error, Equatable {
    public var status: Int
    public var reason: String
    public init(status: Int, reason: String) { self.status = status; self.reason = reason }
}

public struct HTTPResponseHead {
    public var version: HTTPVersion
    public var status: Int
    public var reason: String
    public var headers: HTTPHeaders
    public init(version: HTTPVersion = .http1_1, status: Int, reason: String, headers: HTTPHeaders) {
        self.version = version; self.status = status; self.reason = reason; self.headers = headers
    }
}

// MARK: - Small string helpers shared by the HTTP files

/// Field names are case-insensitive ASCII (RFC 9110 §5.1). Comparing byte by byte with an ASCII
/// fold avoids allocating two lowercased copies per comparison, which `lowercased()` would do.
func httpASCIICaseInsensitiveEquals<A: StringProtocol, B: StringProtocol>(_ a: A, _ b: B) -> Bool {
    let x = a.utf8, y = b.utf8
    guard x.count == y.count else { return false }
    for (p, q) in zip(x, y) where p != q {
        if httpASCIILower(p) != httpASCIILower(q) { return false }
    }
    return true
}

@inline(__always) func httpASCIILower(_ b: UInt8) -> UInt8 {
    (b >= UInt8(ascii: "A") && b <= UInt8(ascii: "Z")) ? b | 0x20 : b
}

/// The elements of a comma-separated field value (RFC 9110 §5.6.1): split on ",", optional
/// whitespace trimmed, empty elements dropped (recipients must accept "a, , b").
func httpListElements(_ value: String) -> [Substring] {
    value.split(separator: ",").compactMap { element -> Substring? in
        let trimmed = element.drop { $0 == " " || $0 == "\t" }
        var end = trimmed.endIndex
        while end > trimmed.startIndex {
            let before = trimmed.index(before: end)
            guard trimmed[before] == " " || trimmed[before] == "\t" else { break }
            end = before
        }
        let result = trimmed[..<end]
        return result.isEmpty ? nil : result
    }
}
