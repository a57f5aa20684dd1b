// Base64 (RFC 4648 §4), standard alphabet with '=' padding.
//
// Every 3 input bytes (24 bits) become 4 characters of 6 bits each. A final group of 1 or 2
// bytes is padded with "==" or "=" so the output length is always a multiple of 4.

public enum Base64 {
    // MARK: RFC 4648 §4, Table 1: "The Base 64 Alphabet".
    private static let alphabet: [UInt8] =
        Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8)
    private static let pad = UInt8(ascii: "=")
    /// Reverse table: ASCII byte -> 6-bit value, or `invalid`.
    private static let invalid: UInt8 = 0xFF
    private static let decodeTable: [UInt8] = {
        var table = [UInt8](repeating: invalid, count: 256)
        for (value, char) in alphabet.enumerated() { table[Int(char)] = UInt8(value) }
        return table
    }()

    public static func encode(_ bytes: [UInt8]) -> String {
        var out: [UInt8] = []
        out.reserveCapacity((bytes.count + 2) / 3 * 4)
        var i = 0
        while i + 3 <= bytes.count {
            let group = UInt32(bytes[i]) << 16 | UInt32(bytes[i + 1]) << 8 | UInt32(bytes[i + 2])
            out += [alphabet[Int(group >> 18 & 0x3F)], alphabet[Int(group >> 12 & 0x3F)],
                    alphabet[Int(group >> 6 & 0x3F)], alphabet[Int(group & 0x3F)]]
            i += 3
        }
        // RFC 4648 §4: "The final quantum of encoding input is ... exactly 8 bits ... [or]
        // exactly 16 bits"; the missing characters are "=" padding.
        switch bytes.count - i {
        case 1:
            let group = UInt32(bytes[i]) << 16
            out += [alphabet[Int(group >> 18 & 0x3F)], alphabet[Int(group >> 12 & 0x3F)], pad, pad]
        case 2:
            let group = UInt32(bytes[i]) << 16 | UInt32(bytes[i + 1]) << 8
            out += [alphabet[Int(group >> 18 & 0x3F)], alphabet[Int(group >> 12 & 0x3F)],
                    alphabet[Int(group >> 6 & 0x3F)], pad]
        default:
            break
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// nil for anything that is not canonical padded Base64: a length that is not a multiple
    /// of 4, a character outside the alphabet, '=' anywhere but the last one or two places,
    /// or non-zero bits in the unused low bits before the padding (RFC 4648 §3.5).
    public static func decode(_ text: String) -> [UInt8]? {
        let chars = Array(text.utf8)
        guard chars.count % 4 == 0 else { return nil }
        var out: [UInt8] = []
        out.reserveCapacity(chars.count / 4 * 3)
        var i = 0
        while i < chars.count {
            let isLast = i + 4 == chars.count
            let padding = isLast ? (chars[i + 3] == pad ? (chars[i + 2] == pad ? 2 : 1) : 0) : 0
            var group: UInt32 = 0
            for j in 0..<4 {
                let value: UInt8
                if j >= 4 - padding {
                    value = 0
                } else {
                    value = decodeTable[Int(chars[i + j])]
                    if value == invalid { return nil }   // also rejects a stray '='
                }
                group = group << 6 | UInt32(value)
            }
            let bytes = [UInt8(group >> 16), UInt8(truncatingIfNeeded: group >> 8),
                         UInt8(truncatingIfNeeded: group)]
            // RFC 4648 §3.5: "the pad bits MUST be set to zero by conforming encoders"; a
            // decoder that accepts non-zero pad bits would accept non-canonical encodings.
            if padding == 2 && (bytes[1] != 0 || bytes[2] != 0) { return nil }
            if padding == 1 && bytes[2] != 0 { return nil }
            out += bytes[0..<(3 - padding)]
            i += 4
        }
        return out
    }
}
