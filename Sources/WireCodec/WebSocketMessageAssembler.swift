// STUB: RFC 6455 §5.4 fragmentation and §8.1 UTF-8 rules: frames in, messages out.
public enum WebSocketMessage: Equatable {
    case text([UInt8])            // validated UTF-8
    case binary([UInt8])
    case ping([UInt8])
    case pong([UInt8])
    case close(code: UInt16?, reason: String)   // code nil when the close frame had no body
}

public struct WebSocketMessageAssembler {
    /// A message (all fragments together) larger than `maxMessage` is 1009.
    public init(maxMessage: Int) { fatalError("TODO") }
    /// Feed one decoded frame; returns a message when one is complete.
    /// Errors: continuation without start / new data frame inside a fragmented message (1002),
    /// invalid UTF-8 in text or close reason (1007, checked incrementally per fragment),
    /// bad close code or 1-byte close payload (1002), message too big (1009).
    public mutating func receive(_ frame: WebSocketFrame) throws -> WebSocketMessage? { fatalError("TODO") }
}
