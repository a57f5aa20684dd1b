// STUB: HTTP/1.1 request parser (RFC 9112). Sans-I/O: feed bytes, take complete requests.

public struct HTTPRequestParser {
    /// RFC 9112 gives no limit; we do: a head over `maxHeadBytes` is 431, a body over `maxBodyBytes` is 413.
    public init(maxHeadBytes: Int = 16 * 1024, maxBodyBytes: Int = 64 * 1024) { fatalError("TODO") }
    /// Append bytes read from the socket.
    public mutating func feed(_ bytes: UnsafeRawBufferPointer) { fatalError("TODO") }
    public mutating func feed(_ bytes: [UInt8]) { fatalError("TODO") }
    /// The next complete request, nil if more bytes are needed, or an HTTPError.
    /// Pipelined requests come out one call at a time. After an error the parser is dead.
    public mutating func nextRequest() throws -> HTTPRequest? { fatalError("TODO") }
    /// True when some bytes of a not-yet-complete request are buffered (drives the 408 timer).
    public var hasPartialRequest: Bool { fatalError("TODO") }
    /// Total bytes of the requests returned so far (for exact per-request byte counters).
    public var consumedByteCount: Int { fatalError("TODO") }
    /// After an Upgrade (101), bytes already read past the request belong to the new protocol.
    public mutating func takeBufferedBytes() -> [UInt8] { fatalError("TODO") }
}
