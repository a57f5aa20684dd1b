// Query string decoding for HTTPRequest.query.
//
// The query is everything after the first "?" of the request-target (RFC 3986 §3.4). HTTP itself
// does not define its inner structure; "name=value&name=value" with "+" meaning space is the
// HTML form convention (application/x-www-form-urlencoded, WHATWG URL §5.1). We follow that:
//   - items are separated by "&"; empty items ("a=1&&b=2") are skipped;
//   - the first "=" separates name from value; a name without "=" maps to "";
//   - "+" decodes to a space, "%HH" to the byte 0xHH; a "%" not followed by two hex digits is
//     kept literally (lenient, like browsers), so decoding never fails;
//   - the decoded bytes are read as UTF-8; invalid sequences become U+FFFD;
//   - when a name repeats, the first value wins (the documented contract of `query`).

func httpParseQuery<C: Collection>(_ query: C) -> [String: String] where C.Element == UInt8 {
    var result: [String: String] = [:]
    // A fragment ("#...") never reaches a server (RFC 9110 §7.1), but stop at one anyway.
    let query = query.prefix { $0 != UInt8(ascii: "#") }
    for item in query.split(separator: UInt8(ascii: "&"), omittingEmptySubsequences: true) {
        let name: String, value: String
        if let eq = item.firstIndex(of: UInt8(ascii: "=")) {
            name = httpPercentDecode(item[item.startIndex..<eq])
            value = httpPercentDecode(item[item.index(after: eq)...])
        } else {
            name = httpPercentDecode(item)
            value = ""
        }
        if result[name] == nil { result[name] = value }
    }
    return result
}

/// "+" → space, "%HH" → byte; anything else passes through. See the rules above.
func httpPercentDecode<C: Collection>(_ encoded: C) -> String where C.Element == UInt8 {
    let input = Array(encoded)
    var bytes: [UInt8] = []
    bytes.reserveCapacity(input.count)
    var i = 0
    while i < input.count {
        let b = input[i]
        if b == UInt8(ascii: "+") {
            bytes.append(UInt8(ascii: " "))
        } else if b == UInt8(ascii: "%"), i + 2 < input.count,
                  let hi = httpHexValue(input[i + 1]), let lo = httpHexValue(input[i + 2]) {
            bytes.append(hi << 4 | lo)
            i += 2
        } else {
            bytes.append(b)
        }
        i += 1
    }
    return String(decoding: bytes, as: UTF8.self)
}

/// The value of one hex digit (either case), or nil.
@inline(__always) func httpHexValue(_ b: UInt8) -> UInt8? {
    switch b {
    case UInt8(ascii: "0")...UInt8(ascii: "9"): return b - UInt8(ascii: "0")
    case UInt8(ascii: "a")...UInt8(ascii: "f"): return b - UInt8(ascii: "a") + 10
    case UInt8(ascii: "A")...UInt8(ascii: "F"): return b - UInt8(ascii: "A") + 10
    default: return nil
    }
}
