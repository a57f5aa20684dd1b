// STUB: RFC 6455 §4 opening handshake values.
public enum WebSocketHandshake {
    /// RFC 6455 §1.3 / §4.2.2: the GUID appended to the key.
    public static let guid = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
    /// Base64(SHA-1(key + GUID)).
    public static func acceptValue(forKey key: String) -> String { fatalError("TODO") }
    /// §4.2.1: the key must be Base64 that decodes to exactly 16 bytes.
    public static func isValidKey(_ key: String) -> Bool { fatalError("TODO") }
    /// A fresh random key for a client (16 random bytes, Base64).
    public static func makeKey() -> String { fatalError("TODO") }
}
