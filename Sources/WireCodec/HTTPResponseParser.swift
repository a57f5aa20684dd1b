// STUB: HTTP/1.1 response parser for our clients (RFC 9112 §6): streams the body as it arrives.

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
    public func header(_ name: String) -> String? {
        headers.first { $0.name.lowercased() == name.lowercased() }?.value
    }
}
public struct HTTPHeaderField: Equatable { public var name: String; public var value: String
    public init(name: String, value: String) { self.name = name; self.value = value } }

public struct HTTPResponseParser {
    public init(maxHeadBytes: Int = 64 * 1024) { fatalError("TODO") }
    /// Tell the parser the request was HEAD or the response is to an Upgrade (no body follows a 101).
    public mutating func feed(_ bytes: UnsafeRawBufferPointer) { fatalError("TODO") }
    public mutating func feed(_ bytes: [UInt8]) { fatalError("TODO") }
    /// The peer closed: ends a close-delimited body.
    public mutating func closeInput() { fatalError("TODO") }
    /// Next part, nil if more bytes are needed.
    public mutating func nextPart() throws -> HTTPResponsePart? { fatalError("TODO") }
    /// After a 101 head, the bytes already read belong to the new protocol.
    public mutating func takeBufferedBytes() -> [UInt8] { fatalError("TODO") }
}
