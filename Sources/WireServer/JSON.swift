// The little JSON we write by hand. Every event must serialize to the same bytes on every
// transport (PROTOCOL.md §1), so we do not leave key order or spacing to a general encoder.

public enum JSON {
    /// Appends `text` as a JSON string literal (RFC 8259 §7): quotes, backslashes and control
    /// characters escaped; everything else passes through as UTF-8.
    public static func appendString(_ text: String, to out: inout [UInt8]) {
        out.append(UInt8(ascii: "\""))
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "\""): out.append(UInt8(ascii: "\\")); out.append(UInt8(ascii: "\""))
            case UInt8(ascii: "\\"): out.append(UInt8(ascii: "\\")); out.append(UInt8(ascii: "\\"))
            case 0x0A: out.append(UInt8(ascii: "\\")); out.append(UInt8(ascii: "n"))
            case 0x0D: out.append(UInt8(ascii: "\\")); out.append(UInt8(ascii: "r"))
            case 0x09: out.append(UInt8(ascii: "\\")); out.append(UInt8(ascii: "t"))
            case 0x00..<0x20:
                let hex: [UInt8] = Array("0123456789abcdef".utf8)
                out.append(contentsOf: Array("\\u00".utf8))
                out.append(hex[Int(byte >> 4)]); out.append(hex[Int(byte & 0xF)])
            default: out.append(byte)
            }
        }
        out.append(UInt8(ascii: "\""))
    }

    public static func string(_ text: String) -> String {
        var out: [UInt8] = []
        appendString(text, to: &out)
        return String(decoding: out, as: UTF8.self)
    }

    /// `{"error":"..."}`, the body of every 4xx we send.
    public static func errorBody(_ message: String) -> [UInt8] {
        var out = Array("{\"error\":".utf8)
        appendString(message, to: &out)
        out.append(UInt8(ascii: "}"))
        return out
    }

    /// A double the way JSON wants it: integers without ".0", others with up to 6 decimals.
    public static func number(_ value: Double) -> String {
        if value == value.rounded() && abs(value) < 1e15 { return String(Int64(value)) }
        var s = String(format6: value)
        while s.hasSuffix("0") { s.removeLast() }
        if s.hasSuffix(".") { s.removeLast() }
        return s
    }
}

extension String {
    /// Fixed 6-decimal formatting without Foundation.
    init(format6 value: Double) {
        let negative = value < 0
        let scaled = Int64((abs(value) * 1_000_000).rounded())
        let whole = scaled / 1_000_000
        var frac = String(scaled % 1_000_000)
        while frac.count < 6 { frac = "0" + frac }
        self = (negative ? "-" : "") + String(whole) + "." + frac
    }
}
