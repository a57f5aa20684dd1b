// The upgrade stripper: `--strip-upgrade` (PROTOCOL.md §7), a proxy that does not know
// WebSocket. It removes the `Upgrade` header field and the `upgrade` token of `Connection` from
// every request (RFC 9110 §7.6.1: Connection options are hop-by-hop, and §7.8: an intermediary
// that does not forward Upgrade makes the upgrade impossible). The server then sees a plain GET
// to /ws and answers `426 Upgrade Required`, which is what a browser behind such a proxy gets.
//
// Requests are parsed with WireCodec's HTTPRequestParser only to find where each one ends;
// everything but the stripped field lines is forwarded byte for byte. A request the parser
// rejects (too large, malformed) switches the stripper to pass-through: the server answers it.
import WireCodec

public struct UpgradeStripper {
    /// A request must fit well below the relay's 1 MiB bound on what a direction holds, or the
    /// relay would stop reading before the request is complete: larger ones pass through.
    private var parser = HTTPRequestParser(maxHeadBytes: 64 * 1024, maxBodyBytes: 256 * 1024)
    private var held: [UInt8] = []
    private var heldStart = 0
    private var passthrough = false
    /// Requests that lost their upgrade (the "fired" count).
    public private(set) var stripped = 0

    public init() {}

    public var heldBytes: Int { held.count }

    /// Request bytes in; returns the bytes to forward now (whole requests, rewritten).
    public mutating func feed(_ bytes: [UInt8]) -> [UInt8] {
        if passthrough { return bytes }
        held += bytes
        parser.feed(bytes)
        var out: [UInt8] = []
        var start = heldStart
        while true {
            let request: HTTPRequest?
            do { request = try parser.nextRequest() } catch {
                passthrough = true
                break
            }
            guard let request else { break }
            let end = parser.consumedByteCount
            let raw = held[(start - heldStart)..<(end - heldStart)]
            if request.headers["Upgrade"] != nil || request.headers.contains(token: "upgrade", in: "Connection") {
                out += Self.stripUpgrade(raw)
                stripped += 1
            } else {
                out += raw
            }
            start = end
        }
        held.removeFirst(start - heldStart)
        heldStart = start
        if passthrough { out += held; heldStart += held.count; held = [] }
        return out
    }

    /// No more requests will be parsed (the peer closed, or the connection switched protocols).
    public mutating func stopParsing() -> [UInt8] {
        passthrough = true
        let out = held
        heldStart += held.count
        held = []
        return out
    }

    /// One raw request (head and body) without its Upgrade field and Connection's upgrade token.
    /// Field lines are rewritten with CRLF; the body is copied as it came.
    static func stripUpgrade(_ raw: ArraySlice<UInt8>) -> [UInt8] {
        let bytes = Array(raw)
        // The head ends at the first empty line (CRLF CRLF, or bare LFs: RFC 9112 §2.2).
        var lines: [ArraySlice<UInt8>] = []
        var lineStart = 0
        var bodyStart = bytes.count
        for i in bytes.indices where bytes[i] == 0x0A {
            var line = bytes[lineStart..<i]
            if line.last == 0x0D { line = line.dropLast() }
            lineStart = i + 1
            if line.isEmpty {
                if lines.isEmpty { continue }       // leading empty lines before the request line
                bodyStart = i + 1
                break
            }
            lines.append(line)
        }
        var out: [UInt8] = []
        for (k, line) in lines.enumerated() {
            if k > 0, let colon = line.firstIndex(of: UInt8(ascii: ":")) {
                let name = String(decoding: line[line.startIndex..<colon], as: UTF8.self).lowercased()
                if name == "upgrade" { continue }
                if name == "connection" {
                    let value = String(decoding: line[(colon + 1)...], as: UTF8.self)
                    let kept = value.split(separator: ",")
                        .map { $0.trimmingSpaces() }
                        .filter { !$0.isEmpty && $0.lowercased() != "upgrade" }
                    if kept.isEmpty { continue }
                    out += Array("Connection: \(kept.joined(separator: ", "))".utf8)
                    out += [0x0D, 0x0A]
                    continue
                }
            }
            out += line
            out += [0x0D, 0x0A]
        }
        out += [0x0D, 0x0A]
        out += bytes[bodyStart...]
        return out
    }
}

extension Substring {
    func trimmingSpaces() -> String {
        var s = self[...]
        while let f = s.first, f == " " || f == "\t" { s = s.dropFirst() }
        while let l = s.last, l == " " || l == "\t" { s = s.dropLast() }
        return String(s)
    }
}
