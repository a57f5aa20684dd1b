// The serialization of an origin (RFC 6454 §6.2), for `serve --allow-origin` (PROTOCOL.md §9).
//
// A browser's `Origin` header is always the serialized form: lower-case scheme and host, no
// path, no trailing slash, and no port when it is the scheme's default. The server compares
// `--allow-origin` values with that header byte for byte, so a value written another way
// (`http://Example.org`, `http://example.org/`, `http://example.org:80`) could never match and
// the flag would silently do nothing. `serializedOrigin` turns what a person typed into the form
// a browser sends, or says it is not an origin at all (the command line then refuses it, §4).

/// `value` as a browser would serialize that origin, or nil when it is not `scheme://host[:port]`.
/// `null` (the opaque origin of file:// pages and sandboxed frames) is kept as it is.
public func serializedOrigin(_ value: String) -> String? {
    if value == "null" { return value }
    let lower = value.lowercased()
    guard let schemeEnd = lower.range(of: "://") else { return nil }
    let scheme = lower[..<schemeEnd.lowerBound]
    // RFC 3986 §3.1: scheme = ALPHA *( ALPHA / DIGIT / "+" / "-" / "." )
    guard let first = scheme.first, first.isASCII, first.isLetter,
          scheme.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || "+-.".contains($0)) }) else { return nil }
    let authority = lower[schemeEnd.upperBound...]
    // An origin has no path, query, fragment or userinfo (RFC 6454 §6.2).
    guard !authority.isEmpty, !authority.contains(where: { "/?#@ \t".contains($0) || !$0.isASCII }) else { return nil }
    // "[::1]:8080": the port follows the closing bracket.
    let hostEnd: String.Index
    if authority.hasPrefix("[") {
        guard let close = authority.firstIndex(of: "]") else { return nil }
        hostEnd = authority.index(after: close)
    } else {
        hostEnd = authority.firstIndex(of: ":") ?? authority.endIndex
    }
    let host = authority[..<hostEnd]
    guard !host.isEmpty, host != "[]" else { return nil }
    let portText = authority[hostEnd...]
    if portText.isEmpty { return "\(scheme)://\(host)" }
    guard portText.first == ":", portText.count > 1, portText.dropFirst().allSatisfy({ $0.isASCII && $0.isNumber }),
          let port = Int(portText.dropFirst()), (1...65535).contains(port) else { return nil }
    let defaultPort = scheme == "http" ? 80 : scheme == "https" ? 443 : nil
    return port == defaultPort ? "\(scheme)://\(host)" : "\(scheme)://\(host):\(port)"
}
