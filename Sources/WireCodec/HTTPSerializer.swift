// HTTP/1.1 serializer (RFC 9112): responses (fixed length or chunked) and requests.
//
// Values in, bytes out. Field names and values are written as given: the caller must not put
// CR or LF in them (that would be response splitting, RFC 9112 §11.1); debug builds assert it.

public enum HTTPSerializer {
    /// Status line + headers + CRLF (RFC 9112 §4, §5). Caller supplies Content-Length / Transfer-Encoding headers.
    public static func responseHead(_ head: HTTPResponseHead) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(64 + head.headers.fields.count * 32)
        append(&out, "HTTP/\(head.version.major).\(head.version.minor) \(head.status) \(head.reason)\r\n")
        appendFields(&out, head.headers)
        append(&out, "\r\n")
        return out
    }

    /// A complete fixed-length response; adds Content-Length unless the headers have one.
    /// RFC 9110 §8.6: no Content-Length in 1xx or 204 responses; for 304 it would have to describe
    /// the unsent 200 body, so we leave it to the caller there too.
    public static func response(status: Int, headers: HTTPHeaders, body: [UInt8], version: HTTPVersion = .http1_1) -> [UInt8] {
        var out = responseHeadWithoutEnd(status: status, headers: headers, version: version)
        let mayHaveLength = !(100...199).contains(status) && status != 204 && status != 304
        if mayHaveLength && headers["Content-Length"] == nil {
            append(&out, "Content-Length: \(body.count)\r\n")
        }
        append(&out, "\r\n")
        out.append(contentsOf: body)
        return out
    }

    /// RFC 9112 §7.1: chunk-size in lowercase hex, CRLF, data, CRLF.
    /// Empty data gives no bytes: a zero-size chunk is the last-chunk and would end the body.
    public static func chunk(_ data: [UInt8]) -> [UInt8] {
        guard !data.isEmpty else { return [] }
        var out: [UInt8] = []
        out.reserveCapacity(data.count + 20)
        append(&out, String(data.count, radix: 16))
        append(&out, "\r\n")
        out.append(contentsOf: data)
        append(&out, "\r\n")
        return out
    }

    /// "0\r\n\r\n": the last-chunk and an empty trailer section (RFC 9112 §7.1).
    public static let lastChunk: [UInt8] = Array("0\r\n\r\n".utf8)

    /// Request line + headers + body (RFC 9112 §3). Adds Content-Length (unless present) when the
    /// body is non-empty or the method is POST or PUT, whose bodies servers expect to be framed
    /// (RFC 9110 §8.6: a user agent SHOULD send Content-Length for those even when it is 0).
    public static func request(method: String, target: String, headers: HTTPHeaders, body: [UInt8] = []) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(64 + headers.fields.count * 32 + body.count)
        append(&out, "\(method) \(target) HTTP/1.1\r\n")
        appendFields(&out, headers)
        let framed = !body.isEmpty || method == "POST" || method == "PUT"
        if framed && headers["Content-Length"] == nil {
            append(&out, "Content-Length: \(body.count)\r\n")
        }
        append(&out, "\r\n")
        out.append(contentsOf: body)
        return out
    }

    /// The reason phrase we send for a status code (RFC 9110 §15). Unknown codes get "", which
    /// RFC 9112 §4 allows (the reason phrase is optional and clients must ignore it).
    public static func reasonPhrase(_ status: Int) -> String {
        switch status {
        case 100: return "Continue"
        case 101: return "Switching Protocols"
        case 200: return "OK"
        case 201: return "Created"
        case 202: return "Accepted"
        case 204: return "No Content"
        case 206: return "Partial Content"
        case 301: return "Moved Permanently"
        case 302: return "Found"
        case 303: return "See Other"
        case 304: return "Not Modified"
        case 307: return "Temporary Redirect"
        case 308: return "Permanent Redirect"
        case 400: return "Bad Request"
        case 401: return "Unauthorized"
        case 403: return "Forbidden"
        case 404: return "Not Found"
        case 405: return "Method Not Allowed"
        case 406: return "Not Acceptable"
        case 408: return "Request Timeout"
        case 409: return "Conflict"
        case 410: return "Gone"
        case 411: return "Length Required"
        case 413: return "Content Too Large"   // RFC 9110 §15.5.14 (was "Payload Too Large")
        case 414: return "URI Too Long"
        case 415: return "Unsupported Media Type"
        case 417: return "Expectation Failed"
        case 421: return "Misdirected Request"
        case 422: return "Unprocessable Content"
        case 426: return "Upgrade Required"
        case 428: return "Precondition Required"          // RFC 6585 §3
        case 429: return "Too Many Requests"              // RFC 6585 §4
        case 431: return "Request Header Fields Too Large" // RFC 6585 §5
        case 500: return "Internal Server Error"
        case 501: return "Not Implemented"
        case 502: return "Bad Gateway"
        case 503: return "Service Unavailable"
        case 504: return "Gateway Timeout"
        case 505: return "HTTP Version Not Supported"
        default: return ""
        }
    }

    // MARK: - Helpers

    private static func responseHeadWithoutEnd(status: Int, headers: HTTPHeaders, version: HTTPVersion) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(96 + headers.fields.count * 32)
        append(&out, "HTTP/\(version.major).\(version.minor) \(status) \(reasonPhrase(status))\r\n")
        appendFields(&out, headers)
        return out
    }

    private static func appendFields(_ out: inout [UInt8], _ headers: HTTPHeaders) {
        for (name, value) in headers.fields {
            assert(!name.utf8.contains(httpCR) && !name.utf8.contains(httpLF) && !value.utf8.contains(httpCR)
                   && !value.utf8.contains(httpLF), "CR/LF in a header field would split the message")
            append(&out, name)
            append(&out, ": ")
            append(&out, value)
            append(&out, "\r\n")
        }
    }

    @inline(__always) private static func append(_ out: inout [UInt8], _ s: String) {
        out.append(contentsOf: s.utf8)
    }
}
