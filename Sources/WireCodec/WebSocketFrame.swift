// STUB: RFC 6455 §5.2 base framing: opcodes, close codes, the frame value, the error type.

/// RFC 6455 §5.2 / §11.8 opcodes.
public enum WebSocketOpcode: UInt8 {
    case continuation = 0x0
    case text = 0x1
    case binary = 0x2
    case close = 0x8
    case ping = 0x9
    case pong = 0xA
    public var isControl: Bool { rawValue & 0x8 != 0 }
}

/// RFC 6455 §7.4.1 status codes.
public enum WebSocketCloseCode: UInt16 {
    case normalClosure = 1000
    case goingAway = 1001
    case protocolError = 1002
    case unsupportedData = 1003
    case noStatusReceived = 1005        // never sent on the wire
    case abnormalClosure = 1006         // never sent on the wire
    case invalidFramePayloadData = 1007
    case policyViolation = 1008
    case messageTooBig = 1009
    case mandatoryExtension = 1010
    case internalError = 1011
}

/// A protocol failure carries the close code to send (§7.4.1).
public struct WebSocketError: Error, Equatable {
    public var closeCode: WebSocketCloseCode
    public var reason: String
    public init(_ closeCode: WebSocketCloseCode, _ reason: String) { self.closeCode = closeCode; self.reason = reason }
}

public struct WebSocketFrame: Equatable {
    public var fin: Bool
    public var rsv1: Bool, rsv2: Bool, rsv3: Bool
    public var opcode: WebSocketOpcode
    /// The 4-byte masking key if the frame was masked (client to server).
    public var maskingKey: [UInt8]?
    /// The payload, already unmasked.
    public var payload: [UInt8]
    public init(fin: Bool = true, rsv1: Bool = false, rsv2: Bool = false, rsv3: Bool = false,
                opcode: WebSocketOpcode, maskingKey: [UInt8]? = nil, payload: [UInt8]) {
        self.fin = fin; self.rsv1 = rsv1; self.rsv2 = rsv2; self.rsv3 = rsv3
        self.opcode = opcode; self.maskingKey = maskingKey; self.payload = payload
    }
}
