// The inspector's annotations: bytes in, readable lines out. Pure functions (no sockets), so
// the golden-output test can feed it a fixed exchange and lessons can quote it.
//
// Every line shows its byte count, the bytes themselves with CR and LF made visible, and what
// the RFC calls that part of the message.
import WireCodec

public enum Inspector {
    /// Bytes as text with the invisible ones shown: CR as \r, LF as \n, others as \xNN.
    public static func visible<S: Sequence>(_ bytes: S) -> String where S.Element == UInt8 {
        var out = ""
        for b in bytes {
            switch b {
            case 0x0D: out += "\\r"
            case 0x0A: out += "\\n"
            case 0x20..<0x7F: out.append(Character(Unicode.Scalar(b)))
            default: out += "\\x" + hex2(b)
            }
        }
        return out
    }

    static func hex2(_ b: UInt8) -> String {
        let digits = Array("0123456789abcdef")
        return String([digits[Int(b >> 4)], digits[Int(b & 0xF)]])
    }

    public static func hex(_ bytes: [UInt8]) -> String {
        bytes.map(hex2).joined(separator: " ")
    }

    /// One annotated line: right-aligned byte count, the bytes, the note.
    static func line(_ count: Int, _ shown: String, _ note: String) -> String {
        let n = String(count)
        let left = String(repeating: " ", count: max(0, 6 - n.count)) + n + " B  "
        if note.isEmpty { return left + shown }
        if shown.count > 46 {
            // Too long to share a line with its note: the note goes underneath.
            return left + shown + "\n" + String(repeating: " ", count: 10 + 48) + note
        }
        return left + shown + String(repeating: " ", count: 48 - shown.count) + note
    }

    /// Splits a head (everything up to and including the blank line) into annotated lines.
    /// `isRequest` decides whether the first line is a request line or a status line.
    public static func annotateHead(_ head: [UInt8], isRequest: Bool) -> [String] {
        var lines: [String] = []
        var start = 0
        var index = 0
        var first = true
        while index < head.count {
            guard head[index] == 0x0A else { index += 1; continue }
            let piece = Array(head[start...index])
            let text = String(decoding: piece, as: UTF8.self).trimmingLineEnd()
            let note: String
            if first {
                note = isRequest ? "request line: method, target, version (RFC 9112 §3)"
                                 : "status line: version, status code, reason (RFC 9112 §4)"
                first = false
            } else if text.isEmpty {
                note = "empty line: end of the head"
            } else {
                let name = text.split(separator: ":", maxSplits: 1).first.map(String.init) ?? ""
                note = "header field " + name + fieldNote(name.lowercased())
            }
            lines.append(line(piece.count, visible(piece), note))
            index += 1
            start = index
        }
        lines.append(String(repeating: " ", count: 3) + "= \(head.count) B of head")
        return lines
    }

    /// Why some headers matter, for a student.
    static func fieldNote(_ name: String) -> String {
        switch name {
        case "content-length": return ": body size, so the connection can carry the next message"
        case "transfer-encoding": return ": body in chunks, size unknown in advance (RFC 9112 §7.1)"
        case "connection": return ": keep-alive, close or upgrade"
        case "upgrade": return ": the protocol to switch to (RFC 9110 §7.8)"
        case "sec-websocket-key": return ": 16 random bytes, Base64 (RFC 6455 §4.1)"
        case "sec-websocket-accept": return ": proof the server read the key (RFC 6455 §4.2.2)"
        case "sec-websocket-version": return ": always 13"
        case "last-event-id": return ": resume an SSE stream after this id"
        case "content-type": return ""
        case "cache-control": return ": no caching of live data"
        case "x-accel-buffering": return ": tells nginx, as the upstream's answer, not to buffer the stream (other proxies ignore it)"
        default: return ""
        }
    }

    /// A fixed-length body: its size and a preview.
    public static func annotateBody(_ body: [UInt8], limit: Int = 160) -> [String] {
        guard !body.isEmpty else { return [line(0, "", "no body")] }
        var shown = visible(body.prefix(limit))
        if body.count > limit { shown += "…" }
        return [line(body.count, shown, "body")]
    }

    /// A chunked SSE stream: chunk-size lines, then each event block's fields.
    public static func annotateSSEChunks(_ bytes: [UInt8]) -> [String] {
        var lines: [String] = []
        var i = 0
        while i < bytes.count {
            // chunk-size line
            guard let lf = bytes[i...].firstIndex(of: 0x0A) else {
                lines.append(line(bytes.count - i, visible(bytes[i...]), "(incomplete)")); break
            }
            let sizeLine = Array(bytes[i...lf])
            let hexText = String(decoding: sizeLine, as: UTF8.self).trimmingLineEnd()
            let size = Int(hexText, radix: 16) ?? 0
            lines.append(line(sizeLine.count, visible(sizeLine), "chunk size: 0x\(hexText) = \(size) B follow"))
            i = lf + 1
            if size == 0 { break }
            let end = min(bytes.count, i + size)
            lines += annotateSSEBlock(Array(bytes[i..<end]), indent: true)
            i = end
            if i + 2 <= bytes.count {
                lines.append(line(2, visible(bytes[i..<(i + 2)]), "end of chunk"))
                i += 2
            }
        }
        return lines
    }

    /// The fields of an SSE block (WHATWG HTML §9.2.6): one line each, a blank line dispatches.
    public static func annotateSSEBlock(_ block: [UInt8], indent: Bool = false) -> [String] {
        var lines: [String] = []
        var start = 0
        for (index, b) in block.enumerated() where b == 0x0A {
            let piece = Array(block[start...index])
            let text = String(decoding: piece, as: UTF8.self)
            let note: String
            if text == "\n" { note = "blank line: dispatch the event" }
            else if text.hasPrefix(":") { note = "comment (a heartbeat keeps proxies from timing out)" }
            else if text.hasPrefix("id:") { note = "field id: becomes Last-Event-ID on reconnect" }
            else if text.hasPrefix("event:") { note = "field event: the listener name (topic)" }
            else if text.hasPrefix("data:") { note = "field data: the event JSON (PROTOCOL.md §1)" }
            else { note = "field" }
            lines.append((indent ? "  " : "") + line(piece.count, visible(piece.prefix(120)) + (piece.count > 120 ? "…" : ""), note))
            start = index + 1
        }
        return lines
    }

    /// RFC 6455 §4.2.2 step 5, shown step by step.
    public static func acceptComputation(key: String) -> [String] {
        let joined = key + WebSocketHandshake.guid
        let digest = SHA1.hash(Array(joined.utf8))
        return [
            "Sec-WebSocket-Accept, computed (RFC 6455 §4.2.2):",
            "  key                    \(key)",
            "  key + GUID             \(joined)",
            "  SHA-1 (20 bytes)       \(hex(digest))",
            "  Base64                 \(Base64.encode(digest))",
        ]
    }

    /// One frame, field by field (RFC 6455 §5.2). `frameBytes` holds exactly one frame.
    public static func annotateFrame(_ frameBytes: [UInt8], direction: String) -> [String] {
        guard frameBytes.count >= 2 else { return ["(frame too short)"] }
        let b0 = frameBytes[0], b1 = frameBytes[1]
        let fin = b0 & 0x80 != 0
        let opcode = b0 & 0x0F
        let masked = b1 & 0x80 != 0
        let len7 = Int(b1 & 0x7F)
        var index = 2
        var length = len7
        var form = "7-bit length (0-125)"
        if len7 == 126 {
            length = Int(frameBytes[2]) << 8 | Int(frameBytes[3]); index = 4
            form = "126: 16-bit length follows (126-65535)"
        } else if len7 == 127 {
            length = 0
            for k in 2..<10 { length = length << 8 | Int(frameBytes[k]) }
            index = 10
            form = "127: 64-bit length follows"
        }
        var key: [UInt8] = []
        if masked { key = Array(frameBytes[index..<(index + 4)]); index += 4 }
        let header = Array(frameBytes[0..<index])
        var payload = Array(frameBytes[index...])
        let onWire = payload
        if masked { for k in payload.indices { payload[k] ^= key[k % 4] } }
        let name: String
        switch WebSocketOpcode(rawValue: opcode) {
        case .continuation?: name = "continuation"
        case .text?: name = "text"
        case .binary?: name = "binary"
        case .close?: name = "close: begins or answers the closing handshake, RFC 6455 §5.5.1"
        case .ping?: name = "ping: asks the peer for a pong, RFC 6455 §5.5.2"
        case .pong?: name = "pong: answers a ping with its payload, RFC 6455 §5.5.3"
        case nil: name = "reserved"
        }
        var lines = [
            "\(direction) frame, \(frameBytes.count) B: header \(header.count) B + payload \(length) B",
            "  header bytes           \(hex(header))",
            "  FIN                    \(fin ? 1 : 0)  (\(fin ? "final fragment" : "more fragments follow"))",
            "  RSV1 RSV2 RSV3         \(b0 >> 6 & 1) \(b0 >> 5 & 1) \(b0 >> 4 & 1)  (0: no extension negotiated)",
            "  opcode                 0x\(String(opcode, radix: 16))  (\(name))",
            "  MASK                   \(masked ? 1 : 0)  (\(masked ? "client to server: always masked" : "server to client: never masked"))",
            "  payload length         \(length)  (\(form))",
        ]
        if masked {
            lines.append("  masking key            \(hex(key))")
            lines.append("  payload as sent        \(hex(Array(onWire.prefix(24))))\(onWire.count > 24 ? " …" : "")")
            lines.append("  unmasked (XOR key)     \(hex(Array(payload.prefix(24))))\(payload.count > 24 ? " …" : "")")
        }
        if opcode == 0x8 && payload.count >= 2 {
            let code = Int(payload[0]) << 8 | Int(payload[1])
            lines.append("  close code             \(code)  reason \"\(String(decoding: payload[2...], as: UTF8.self))\"")
        } else if opcode == 0x1 || opcode == 0x9 || opcode == 0xA {
            let text = String(decoding: payload.prefix(120), as: UTF8.self)
            lines.append("  payload (UTF-8)        \(text)\(payload.count > 120 ? "…" : "")")
        }
        return lines
    }
}

extension Inspector {
    /// The sentence `inspect` prints when no event came within its wait (a server started with
    /// `--rate 0`, or one between slow events), or when the peer closed first.
    public static func quietSentence(_ transport: InspectTransport, wait: Double, closed: Bool) -> String {
        let within = "within \(seconds(wait)) s"
        if closed {
            return "The server closed the connection before any event came (\(within))."
        }
        switch transport {
        case .ws:
            return "No event came \(within): the server is quiet (started with --rate 0, or between slow events). The connection stays open; a ping shows it is alive."
        case .sse:
            return "No event came \(within): the stream stays open and silent. During silence the server sends a `: hb` comment every --heartbeat seconds (15 by default), so proxies keep the stream (PROTOCOL.md §2)."
        case .longpoll, .poll, .h2:
            return "No event came \(within)."
        }
    }

    /// A number as a person writes it: 2, 0.5 (at most one decimal).
    public static func seconds(_ v: Double) -> String {
        v == v.rounded() ? String(Int(v)) : round1(v)
    }

    /// One decimal: 0.25 → "0.3", 2 → "2.0".
    public static func round1(_ v: Double) -> String { String(Double(Int((v * 10).rounded())) / 10) }

    /// Whether a pong frame (unmasked, from the server) carries the ping's payload back.
    public static func pongCheck(_ pong: [UInt8], pingPayload: [UInt8]) -> String {
        let same = pong.count >= 2 && Array(pong.dropFirst(2)) == pingPayload
        return "  same payload as ping   \(same ? "yes" : "NO")  (RFC 6455 §5.5.3: a pong echoes the ping's application data)"
    }
}

extension String {
    /// Drops trailing CR and LF bytes. (Swift sees "\r\n" as ONE Character, so a character set
    /// would not match a lone "\n"; bytes are simpler.)
    func trimmingLineEnd() -> String {
        var bytes = Array(utf8)
        while let last = bytes.last, last == 0x0D || last == 0x0A { bytes.removeLast() }
        return String(decoding: bytes, as: UTF8.self)
    }
}
