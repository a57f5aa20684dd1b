// Incremental UTF-8 validation (RFC 3629 §3-§4), fed one fragment at a time.
//
// RFC 6455 §8.1: "When an endpoint is to interpret a byte stream as UTF-8 but finds that the
// byte stream is not, in fact, a valid UTF-8 stream, that endpoint MUST _Fail the WebSocket
// Connection_." A text message may be split into fragments anywhere, even inside a character,
// so the validator carries its position inside the current character from call to call.
//
// The rules are RFC 3629 §4's grammar, which is exactly this table of well-formed sequences
// (also Unicode Table 3-7):
//
//   Code points         Byte 1   Byte 2   Byte 3   Byte 4
//   U+0000..U+007F      00..7F
//   U+0080..U+07FF      C2..DF   80..BF
//   U+0800..U+0FFF      E0       A0..BF   80..BF            (E0 80..9F would be overlong)
//   U+1000..U+CFFF      E1..EC   80..BF   80..BF
//   U+D000..U+D7FF      ED       80..9F   80..BF            (ED A0..BF would be a surrogate)
//   U+E000..U+FFFF      EE..EF   80..BF   80..BF
//   U+10000..U+3FFFF    F0       90..BF   80..BF   80..BF   (F0 80..8F would be overlong)
//   U+40000..U+FFFFF    F1..F3   80..BF   80..BF   80..BF
//   U+100000..U+10FFFF  F4       80..8F   80..BF   80..BF   (F4 90.. would be > U+10FFFF)
//
// C0, C1 (always overlong) and F5..FF (beyond U+10FFFF, or the old 5- and 6-byte forms) never
// appear. The state machine below is this table read left to right: the state is "how many
// continuation bytes are still needed" plus the allowed range of the very next byte, which is
// narrower than 80..BF only straight after E0, ED, F0 and F4.

public struct UTF8Validator {
    /// Continuation bytes still expected for the current character (0 at a boundary).
    private var remaining: UInt8 = 0
    /// Allowed range for the next byte when `remaining > 0`.
    private var lower: UInt8 = 0x80
    private var upper: UInt8 = 0xBF
    /// Once invalid, always invalid.
    private var failed = false

    public init() {}

    /// False as soon as the bytes so far cannot be the start of valid UTF-8.
    public mutating func validate(_ bytes: UnsafeRawBufferPointer) -> Bool {
        if failed { return false }
        var i = 0
        let count = bytes.count
        while i < count {
            if remaining == 0 {
                i = Self.skipASCII(bytes, from: i)
                if i == count { break }
            }
            let byte = bytes[i]
            i += 1
            if remaining > 0 {
                // A continuation byte, inside the range the lead byte allows.
                guard byte >= lower && byte <= upper else { failed = true; return false }
                remaining -= 1
                lower = 0x80; upper = 0xBF
                continue
            }
            switch byte {
            case 0x00...0x7F: break
            case 0xC2...0xDF: remaining = 1
            case 0xE0:        remaining = 2; lower = 0xA0          // no overlongs
            case 0xE1...0xEC, 0xEE...0xEF: remaining = 2
            case 0xED:        remaining = 2; upper = 0x9F          // no surrogates D800..DFFF
            case 0xF0:        remaining = 3; lower = 0x90          // no overlongs
            case 0xF1...0xF3: remaining = 3
            case 0xF4:        remaining = 3; upper = 0x8F          // nothing above U+10FFFF
            default:          // 80..BF lone continuation, C0/C1 overlong, F5..FF
                failed = true
                return false
            }
        }
        return true
    }

    public mutating func validate(_ bytes: [UInt8]) -> Bool {
        bytes.withUnsafeBytes { validate($0) }
    }

    /// True when the bytes so far are valid and end on a character boundary.
    public var isComplete: Bool { !failed && remaining == 0 }

    public static func isValid(_ bytes: [UInt8]) -> Bool {
        var validator = UTF8Validator()
        return validator.validate(bytes) && validator.isComplete
    }

    /// Fast path: returns the index of the first non-ASCII byte at or after `start` (or the
    /// count). Most WebSocket text is ASCII (JSON), so we test 8 bytes at a time: load them as
    /// one UInt64 and AND with 0x8080808080808080, which keeps only the top bit of each byte.
    /// ASCII bytes are 00..7F, so the result is zero exactly when all 8 bytes are ASCII.
    /// `loadUnaligned` reads 8 bytes at any address; the byte order does not matter because
    /// the mask is the same in every byte.
    @inline(__always)
    private static func skipASCII(_ bytes: UnsafeRawBufferPointer, from start: Int) -> Int {
        var i = start
        let count = bytes.count
        while i + 8 <= count {
            let word = bytes.loadUnaligned(fromByteOffset: i, as: UInt64.self)
            if word & 0x8080_8080_8080_8080 != 0 { break }
            i += 8
        }
        while i < count && bytes[i] < 0x80 { i += 1 }
        return i
    }
}
