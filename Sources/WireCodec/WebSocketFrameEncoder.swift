// RFC 6455 §5.2 frame encoder and §5.3 masking.
//
// A frame is a 2-14 byte header followed by the payload. A server sends unmasked frames; a
// client masks every frame with a fresh random 4-byte key (§5.1, §5.3).

public enum WebSocketFrameEncoder {
    /// Encode one frame. `maskingKey` (4 bytes) masks the payload (§5.3): clients must, servers must not.
    public static func encode(opcode: WebSocketOpcode, payload: [UInt8], fin: Bool = true,
                              maskingKey: [UInt8]? = nil) -> [UInt8] {
        precondition(!opcode.isControl || (fin && payload.count <= WebSocketWire.maxControlPayload),
                     "RFC 6455 §5.5: control frames MUST NOT be fragmented and carry at most 125 bytes")
        var frame = encodeHeader(opcode: opcode, payloadLength: payload.count, fin: fin, mask: maskingKey)
        let headerLength = frame.count
        frame += payload
        if let key = maskingKey {
            frame.withUnsafeMutableBytes { bytes in
                applyMask(UnsafeMutableRawBufferPointer(rebasing: bytes[headerLength...]), key: key)
            }
        }
        return frame
    }

    /// The header alone (2 to 14 bytes), for a server that writes the header and an existing
    /// payload buffer separately (e.g. with writev) instead of copying the payload.
    /// `mask`, if given, is the 4-byte masking key; it is written into the header, and the
    /// caller must mask the payload itself with `applyMask`.
    public static func encodeHeader(opcode: WebSocketOpcode, payloadLength: Int, fin: Bool = true,
                                    mask: [UInt8]? = nil) -> [UInt8] {
        // LESSON: ws-frame-header
        precondition(payloadLength >= 0)
        precondition(mask == nil || mask!.count == WebSocketWire.maskingKeyLength, "masking key is 4 bytes")
        var header: [UInt8] = []
        header.reserveCapacity(WebSocketWire.maxHeaderLength)
        // Byte 0: FIN, RSV1-3 (always 0: "MUST be 0 unless an extension is negotiated"), opcode.
        header.append((fin ? WebSocketWire.finBit : 0) | opcode.rawValue)
        // Byte 1: MASK bit and the 7-bit length or a marker for an extended length.
        // §5.2: "the minimal number of bytes MUST be used to encode the length".
        let maskBit = mask == nil ? 0 : WebSocketWire.maskBit
        if payloadLength <= WebSocketWire.maxSevenBitLength {
            header.append(maskBit | UInt8(payloadLength))
        } else if payloadLength <= Int(UInt16.max) {
            header.append(maskBit | WebSocketWire.sixteenBitLengthMarker)
            // "Multibyte length quantities are expressed in network byte order."
            header += [UInt8(payloadLength >> 8), UInt8(truncatingIfNeeded: payloadLength)]
        } else {
            header.append(maskBit | WebSocketWire.sixtyFourBitLengthMarker)
            // An Int is at most 2^63 - 1, so "the most significant bit MUST be 0" holds.
            let length = UInt64(payloadLength)
            for shift in stride(from: 56, through: 0, by: -8) {
                header.append(UInt8(truncatingIfNeeded: length >> UInt64(shift)))
            }
        }
        // The masking key follows the length: "Masking-key: 0 or 4 bytes".
        if let mask { header += mask }
        return header
    }

    /// A close frame body: 2-byte code + UTF-8 reason (§5.5.1).
    /// "If there is a body, the first two bytes of the body MUST be a 2-byte unsigned integer
    /// (in network byte order) representing a status code ... Following the 2-byte integer,
    /// the body MAY contain UTF-8-encoded data with value /reason/".
    /// DEVIATION: a reason longer than 123 bytes would make the frame exceed the 125-byte
    /// control frame limit, so it is cut at the last whole character that fits.
    public static func closePayload(code: UInt16, reason: String = "") -> [UInt8] {
        var reasonBytes = Array(reason.utf8)
        let maxReason = WebSocketWire.maxControlPayload - 2
        if reasonBytes.count > maxReason {
            var end = maxReason
            // Back up over continuation bytes (10xxxxxx) so no character is cut in half.
            while end > 0 && reasonBytes[end] & 0xC0 == 0x80 { end -= 1 }
            reasonBytes.removeSubrange(end...)
        }
        return [UInt8(code >> 8), UInt8(truncatingIfNeeded: code)] + reasonBytes
    }

    /// A fresh masking key. §5.3: "The masking key is a 32-bit value chosen at random by the
    /// client ... MUST pick a fresh masking key from the set of allowed 32-bit values."
    public static func makeMaskingKey() -> [UInt8] {
        var generator = SystemRandomNumberGenerator()
        let key = generator.next() as UInt32
        return [UInt8(key >> 24), UInt8(truncatingIfNeeded: key >> 16),
                UInt8(truncatingIfNeeded: key >> 8), UInt8(truncatingIfNeeded: key)]
    }

    /// XOR `bytes` with the masking key in place (§5.3). Masking and unmasking are the same
    /// operation. `offset` is the position of `bytes[0]` within the whole payload, for a
    /// payload masked in pieces.
    ///
    /// §5.3: "Octet i of the transformed data ("transformed-octet-i") is the XOR of octet i of
    /// the original data ("original-octet-i") with octet at index i modulo 4 of the masking
    /// key ("masking-key-octet-j"): j = i MOD 4; transformed-octet-i = original-octet-i XOR
    /// masking-key-octet-j".
    public static func applyMask(_ bytes: UnsafeMutableRawBufferPointer, key: [UInt8], offset: Int = 0) {
        // LESSON: ws-masking
        precondition(key.count == WebSocketWire.maskingKeyLength, "masking key is 4 bytes")
        let count = bytes.count
        guard count > 0 else { return }
        // Speed-up: XOR 8 bytes at a time. Because 8 is a multiple of 4, the key pattern
        // repeats exactly in every 8-byte word, so we lay the key out twice in a UInt64 (in
        // memory order, starting at the right phase) and XOR whole words. This is the same
        // computation as the byte loop below, just 8 bytes per step.
        var wideKey: UInt64 = 0
        withUnsafeMutableBytes(of: &wideKey) { wide in
            for j in 0..<8 { wide[j] = key[(offset + j) & 3] }
        }
        var i = 0
        while i + 8 <= count {
            let word = bytes.loadUnaligned(fromByteOffset: i, as: UInt64.self)
            bytes.storeBytes(of: word ^ wideKey, toByteOffset: i, as: UInt64.self)
            i += 8
        }
        // The last 0-7 bytes, one at a time: "j = i MOD 4".
        while i < count {
            bytes[i] ^= key[(offset + i) & 3]
            i += 1
        }
    }

    /// Convenience: mask or unmask an array in place.
    public static func applyMask(_ bytes: inout [UInt8], key: [UInt8], offset: Int = 0) {
        bytes.withUnsafeMutableBytes { applyMask($0, key: key, offset: offset) }
    }
}
