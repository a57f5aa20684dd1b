// STUB: RFC 6455 §5.2 frame decoder. Frame-level rules only (RSV, opcodes, control frame limits,
// masking direction, length limit); message-level rules live in WebSocketMessageAssembler.
public struct WebSocketFrameDecoder {
    /// `requireMasked`: true on a server (§5.1: a server MUST close on an unmasked frame),
    /// false on a client (a client MUST close on a masked frame).
    /// `maxPayload`: a frame declaring more is rejected with 1009 before its payload is read.
    public init(requireMasked: Bool, maxPayload: Int) { fatalError("TODO") }
    public mutating func feed(_ bytes: UnsafeRawBufferPointer) { fatalError("TODO") }
    public mutating func feed(_ bytes: [UInt8]) { fatalError("TODO") }
    /// The next complete frame, nil for more bytes, or WebSocketError (1002 / 1009).
    public mutating func nextFrame() throws -> WebSocketFrame? { fatalError("TODO") }
}
