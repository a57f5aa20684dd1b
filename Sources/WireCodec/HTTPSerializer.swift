// STUB: HTTP/1.1 serializer (RFC 9112): responses (fixed length or chunked) and requests.

public enum HTTPSerializer {
    /// Status line + headers + CRLF. Caller supplies Content-Length / Transfer-Encoding headers.
    public static func responseHead(_ head: HTTPResponseHead) -> [UInt8] { fatalError("TODO") }
    /// A complete fixed-length response; adds Content-Length.
    public static func response(status: Int, headers: HTTPHeaders, body: [UInt8], version: HTTPVersion = .http1_1) -> [UInt8] { fatalError("TODO") }
    /// RFC 9112 §7.1: chunk-size in hex, CRLF, data, CRLF.
    public static func chunk(_ data: [UInt8]) -> [UInt8] { fatalError("TODO") }
    /// "0\r\n\r\n"
    public static let lastChunk: [UInt8] = Array("0\r\n\r\n".utf8)
    /// Request line + headers + body (adds Content-Length when body is non-empty or method is POST).
    public static func request(method: String, target: String, headers: HTTPHeaders, body: [UInt8] = []) -> [UInt8] { fatalError("TODO") }
    /// The reason phrase we send for a status code.
    public static func reasonPhrase(_ status: Int) -> String { fatalError("TODO") }
}
