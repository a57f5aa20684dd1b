// RFC 6455 §5.2 base framing: opcodes, close codes, the frame value, the error type.
//
//      0                   1                   2                   3
//      0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//     +-+-+-+-+-------+-+-------------+-------------------------------+
//     |F|R|R|R| opcode|M| Payload len |    Extended payload length    |
//     |I|S|S|S|  (4)  |A|     (7)     |             (16/64)           |
//     |N|V|V|V|       |S|             |   (if payload len==126/127)   |
//     | |1|2|3|       |K|             |                               |
//     +-+-+-+-+-------+-+-------------+ - - - - - - - - - - - - - - - +
//     |     Extended payload length continued, if payload len == 127  |
//     + - - - - - - - - - - - - - - - +-------------------------------+
//     |                               |Masking-key, if MASK set to 1  |
//     +-------------------------------+-------------------------------+
//     | Masking-key (continued)       |          Payload Data         |
//     +-------------------------------- - - - - - - - - - - - - - - - +
//     :                     Payload Data continued ...                :
//     +---------------------------------------------------------------+

/// RFC 6455 §5.2 bit layout and length thresholds, shared by the encoder and the decoder.
public enum WebSocketWire {
    // First byte.
    public static let finBit: UInt8 = 0x80
    public static let rsv1Bit: UInt8 = 0x40
    public static let rsv2Bit: UInt8 = 0x20
    public static let rsv3Bit: UInt8 = 0x10
    public static let opcodeMask: UInt8 = 0x0F
    // Second byte.
    public static let maskBit: UInt8 = 0x80
    public static let lengthMask: UInt8 = 0x7F
    /// "If 0-125, that is the payload length."
    public static let maxSevenBitLength = 125
    /// "If 126, the following 2 bytes interpreted as a 16-bit unsigned integer are the payload length."
    public static let sixteenBitLengthMarker: UInt8 = 126
    /// "If 127, the following 8 bytes interpreted as a 64-bit unsigned integer (the most
    /// significant bit MUST be 0) are the payload length."
    public static let sixtyFourBitLengthMarker: UInt8 = 127
    public static let maskingKeyLength = 4
    /// The longest possible header: 2 + 8 (length) + 4 (masking key).
    public static let maxHeaderLength = 14

    // MARK: RFC 6455 §5.5
    /// "All control frames MUST have a payload length of 125 bytes or less and MUST NOT be fragmented."
    public static let maxControlPayload = 125
}

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
    case tryAgainLater = 1013           // IANA registry (RFC 6455 §11.7): "Try Again Later"

    /// May this code appear in a received Close frame? RFC 6455 §7.4.1 defines 1000-1011;
    /// §7.4.2 reserves 0-999 ("not used"), 1000-2999 for the protocol and IANA, 3000-3999
    /// for libraries and frameworks (IANA-registered) and 4000-4999 for private use.
    /// 1005 and 1006 (and 1015, TLS failure) are "designated for use in applications
    /// expecting a status code to indicate" a condition and "MUST NOT be set as a status
    /// code in a Close control frame by an endpoint", so receiving one is a protocol error.
    /// 1004 is "Reserved. The specific meaning might be defined in the future."
    /// IANA has since registered 1012 (Service Restart), 1013 (Try Again Later) and 1014
    /// (Bad Gateway), so they are accepted too; 1016-2999 are still unassigned.
    public static func isValidReceived(_ code: UInt16) -> Bool {
        switch code {
        case 1000...1003, 1007...1014, 3000...4999: return true
        default: return false
        }
    }
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
