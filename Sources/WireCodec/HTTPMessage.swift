// HTTP/1.1 message values (RFC 9112, RFC 9110): what the parsers produce and the serializer consumes.
// STUB: owned by the HTTP codec work; signatures are the contract between codec and server.

/// Header fields in arrival order. Lookup is case-insensitive (RFC 9110 §5.1).
public struct HTTPHeaders: Sequence {
    public private(set) var fields: [(name: String, value: String)] = []
    public init() {}
    public init(_ fields: [(String, String)]) { for (n, v) in fields { add(name: n, value: v) } }
    public mutating func add(name: String, value: String) { fields.append((name, value)) }
    /// First value for `name`, compared case-insensitively.
    public subscript(_ name: String) -> String? {
        for f in fields where f.name.lowercased() == name.lowercased() { return f.value }
        return nil
    }
    /// Every value for `name`, in order.
    public func values(_ name: String) -> [String] {
        fields.filter { $0.name.lowercased() == name.lowercased() }.map { $0.value }
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
    /// The path part of the target, without the query.
    public var path: String { fatalError("TODO") }
    /// Query items, percent-decoded, '+' as space; the first value wins for a repeated name.
    public var query: [String: String] { fatalError("TODO") }
    /// RFC 9112 §9.3: HTTP/1.1 is persistent unless "Connection: close";
    /// HTTP/1.0 only with "Connection: keep-alive".
    public var keepAlive: Bool { fatalError("TODO") }
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
