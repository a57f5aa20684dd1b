// STUB: RFC 6455 §5.2 frame encoder.
public enum WebSocketFrameEncoder {
    /// Encode one frame. `maskingKey` (4 bytes) masks the payload (§5.3): clients must, servers must not.
    public static func encode(opcode: WebSocketOpcode, payload: [UInt8], fin: Bool = true,
                              maskingKey: [UInt8]? = nil) -> [UInt8] { fatalError("TODO") }
    /// A close frame body: 2-byte code + UTF-8 reason (§5.5.1).
    public static func closePayload(code: UInt16, reason: String = "") -> [UInt8] { fatalError("TODO") }
}
