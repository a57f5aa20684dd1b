// RFC 6455 §4 opening handshake values: the client's Sec-WebSocket-Key and the server's
// Sec-WebSocket-Accept. (The HTTP request/response themselves are parsed by the HTTP codecs.)

public enum WebSocketHandshake {
    // MARK: RFC 6455 §1.3 / §4.2.2
    /// "the server has to take the value ... and concatenate this with the Globally Unique
    /// Identifier (GUID, [RFC4122]) "258EAFA5-E914-47DA-95CA-C5AB0DC85B11" in string form,
    /// which is unlikely to be used by network endpoints that do not understand the
    /// WebSocket Protocol."
    public static let guid = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"

    // MARK: RFC 6455 §4.1 / §4.2.1
    /// "a randomly selected 16-byte value that has been base64-encoded".
    public static let keyByteCount = 16

    /// Base64(SHA-1(key + GUID)).
    ///
    /// RFC 6455 §4.2.2, /server response/ item 5, sub-item 4:
    ///   "A |Sec-WebSocket-Accept| header field. The value of this header field is constructed
    ///   by concatenating /key/, defined above in step 4 in Section 4.2.2, with the string
    ///   "258EAFA5-E914-47DA-95CA-C5AB0DC85B11", taking the SHA-1 hash of this concatenated
    ///   value to obtain a 20-byte value and base64-encoding (see Section 4 of [RFC4648])
    ///   this 20-byte hash."
    /// The key is used exactly as received (after the HTTP parser trimmed the header's
    /// surrounding whitespace); it is not Base64-decoded first.
    public static func acceptValue(forKey key: String) -> String {
        // LESSON: ws-accept
        // Step 1: concatenate the key (as text, not decoded) and the GUID.
        let concatenated = Array(key.utf8) + Array(guid.utf8)
        // Step 2: SHA-1 of the concatenation: 20 bytes.
        let digest = SHA1.hash(concatenated)
        // Step 3: Base64 of the 20 bytes: 28 characters ending in "=".
        return Base64.encode(digest)
    }

    /// RFC 6455 §4.2.1 item 5: "A |Sec-WebSocket-Key| header field with a base64-encoded (see
    /// Section 4 of [RFC4648]) value that, when decoded, is 16 bytes in length."
    /// Surrounding spaces and tabs (HTTP optional whitespace) are ignored.
    public static func isValidKey(_ key: String) -> Bool {
        let trimmed = trimmingOptionalWhitespace(key)
        guard let decoded = Base64.decode(trimmed) else { return false }
        return decoded.count == keyByteCount
    }

    /// A fresh random key for a client. RFC 6455 §4.1: "The nonce MUST be selected randomly
    /// for each connection." `SystemRandomNumberGenerator` reads the OS's CSPRNG.
    public static func makeKey() -> String {
        var generator = SystemRandomNumberGenerator()
        let bytes = (0..<keyByteCount).map { _ in UInt8.random(in: .min ... .max, using: &generator) }
        return Base64.encode(bytes)
    }

    private static func trimmingOptionalWhitespace(_ text: String) -> String {
        let bytes = Array(text.utf8)
        var start = 0, end = bytes.count
        while start < end && (bytes[start] == 0x20 || bytes[start] == 0x09) { start += 1 }
        while end > start && (bytes[end - 1] == 0x20 || bytes[end - 1] == 0x09) { end -= 1 }
        return String(decoding: bytes[start..<end], as: UTF8.self)
    }
}
