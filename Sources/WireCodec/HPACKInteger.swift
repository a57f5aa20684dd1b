// RFC 7541 §5.1 integer representation, used for indexes, string lengths and table sizes.
//
// An integer starts in the low N bits of a byte (the "prefix"; the high bits belong to the
// representation's pattern). A value below 2^N - 1 fits there. Otherwise the prefix is all ones
// and the rest follows 7 bits at a time, least significant group first, with the high bit of
// each byte saying "more follows":
//
//     1337 with a 5-bit prefix:  000 11111 | 1 0011010 | 0 0001010   (RFC 7541 §C.1.2)
//
// The decoder caps values at `HPACKInteger.maxValue`: the RFC leaves the limit to the
// implementation (§5.1, "Integer encodings that exceed implementation limits ... MUST be
// treated as decoding errors"), and nothing we accept needs more than 2^32 - 1.

public enum HPACKInteger {
    /// The largest value we decode.
    public static let maxValue = Int(UInt32.max)

    /// Appends `value` with an N-bit prefix; `pattern` carries the representation's high bits.
    public static func encode(_ value: Int, prefixBits: Int, pattern: UInt8 = 0, into out: inout [UInt8]) {
        precondition(prefixBits >= 1 && prefixBits <= 8 && value >= 0)
        let limit = (1 << prefixBits) - 1
        if value < limit {
            out.append(pattern | UInt8(value))
            return
        }
        out.append(pattern | UInt8(limit))
        var rest = value - limit
        while rest >= 128 {
            out.append(UInt8(rest & 0x7F) | 0x80)
            rest >>= 7
        }
        out.append(UInt8(rest))
    }

    /// Decodes an integer whose prefix is in the low `prefixBits` of `bytes[index]`, moving
    /// `index` past it. Throws `.truncated` or `.integerTooLarge`.
    public static func decode(_ bytes: [UInt8], at index: inout Int, prefixBits: Int) throws(HPACKError) -> Int {
        guard index < bytes.count else { throw .truncated }
        let limit = (1 << prefixBits) - 1
        var value = Int(bytes[index]) & limit
        index += 1
        if value < limit { return value }
        var shift = 0
        while true {
            guard index < bytes.count else { throw .truncated }
            let byte = bytes[index]
            index += 1
            // 5 continuation bytes carry 35 bits: more than maxValue can need, so a longer run
            // (even of zero groups) is refused before `shift` could overflow.
            guard shift <= 28 else { throw .integerTooLarge }
            value += Int(byte & 0x7F) << shift
            guard value <= maxValue else { throw .integerTooLarge }
            if byte & 0x80 == 0 { return value }
            shift += 7
        }
    }
}
