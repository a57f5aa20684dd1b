// RFC 9113 §4.1 and §6: an HTTP/2 frame as a value.
//
// Every frame starts with the same 9-byte header:
//
//     +-----------------------------------------------+
//     |                 Length (24)                   |   payload length, not counting these 9
//     +---------------+---------------+---------------+
//     |   Type (8)    |   Flags (8)   |
//     +-+-------------+---------------+-------------------------------+
//     |R|                 Stream Identifier (31)                      |   R: reserved, ignored
//     +=+=============================================================+
//     |                   Frame Payload (0...)                      ...
//
// and §6 defines ten types. `HTTP2Frame.Payload` has one case per type, carrying the fields
// the type defines after decoding (padding removed, flags turned into Bools); unknown types are
// kept as `.unknown` because §4.1 says they "MUST be ignored and discarded".

/// The 24-byte connection preface a client sends first (§3.4): "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".
/// It looks like an HTTP/1.1 request so an HTTP/1.1 server fails cleanly on it.
public let http2ClientPreface: [UInt8] = Array("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".utf8)

public enum HTTP2FrameType {
    public static let data: UInt8 = 0x0
    public static let headers: UInt8 = 0x1
    public static let priority: UInt8 = 0x2
    public static let rstStream: UInt8 = 0x3
    public static let settings: UInt8 = 0x4
    public static let pushPromise: UInt8 = 0x5
    public static let ping: UInt8 = 0x6
    public static let goAway: UInt8 = 0x7
    public static let windowUpdate: UInt8 = 0x8
    public static let continuation: UInt8 = 0x9
}

public enum HTTP2Flags {
    public static let endStream: UInt8 = 0x1    // DATA, HEADERS
    public static let ack: UInt8 = 0x1          // SETTINGS, PING
    public static let endHeaders: UInt8 = 0x4   // HEADERS, PUSH_PROMISE, CONTINUATION
    public static let padded: UInt8 = 0x8       // DATA, HEADERS, PUSH_PROMISE
    public static let priority: UInt8 = 0x20    // HEADERS
}

/// The deprecated priority fields (§5.3.2 / §6.3): parsed and checked, otherwise ignored.
public struct HTTP2Priority: Equatable, Sendable {
    public var exclusive: Bool
    public var dependency: UInt32
    /// The weight field as sent (0-255; the weight is this + 1).
    public var weight: UInt8
    public init(exclusive: Bool = false, dependency: UInt32 = 0, weight: UInt8 = 15) {
        self.exclusive = exclusive; self.dependency = dependency; self.weight = weight
    }
}

public struct HTTP2Frame: Equatable, Sendable {
    public enum Payload: Equatable, Sendable {
        /// §6.1. `padding`: nil when the PADDED flag is clear, else the Pad Length (padding octets).
        case data([UInt8], endStream: Bool, padding: Int? = nil)
        /// §6.2. `fieldBlock` is a fragment of an HPACK block; END_HEADERS says it is the last.
        case headers(fieldBlock: [UInt8], endStream: Bool, endHeaders: Bool, priority: HTTP2Priority? = nil, padding: Int? = nil)
        /// §6.3.
        case priority(HTTP2Priority)
        /// §6.4.
        case rstStream(HTTP2ErrorCode)
        /// §6.5. An ACK carries no parameters.
        case settings([HTTP2Setting], ack: Bool = false)
        /// §6.6.
        case pushPromise(promisedStreamID: UInt32, fieldBlock: [UInt8], endHeaders: Bool, padding: Int? = nil)
        /// §6.7. Eight opaque octets.
        case ping(UInt64, ack: Bool = false)
        /// §6.8.
        case goAway(lastStreamID: UInt32, error: HTTP2ErrorCode, debugData: [UInt8] = [])
        /// §6.9. 1...2^31-1.
        case windowUpdate(increment: UInt32)
        /// §6.10.
        case continuation(fieldBlock: [UInt8], endHeaders: Bool)
        /// §4.1 / §5.5: an extension frame type we do not know; to be ignored.
        case unknown(type: UInt8, flags: UInt8, payload: [UInt8])
    }

    public var streamID: UInt32
    public var payload: Payload

    public init(streamID: UInt32, _ payload: Payload) {
        self.streamID = streamID
        self.payload = payload
    }

    public var type: UInt8 {
        switch payload {
        case .data: return HTTP2FrameType.data
        case .headers: return HTTP2FrameType.headers
        case .priority: return HTTP2FrameType.priority
        case .rstStream: return HTTP2FrameType.rstStream
        case .settings: return HTTP2FrameType.settings
        case .pushPromise: return HTTP2FrameType.pushPromise
        case .ping: return HTTP2FrameType.ping
        case .goAway: return HTTP2FrameType.goAway
        case .windowUpdate: return HTTP2FrameType.windowUpdate
        case .continuation: return HTTP2FrameType.continuation
        case .unknown(let type, _, _): return type
        }
    }

    /// The flow-controlled length (§6.9.1: "the entire DATA frame payload is included in flow
    /// control, including the Pad Length and Padding fields if present"); 0 for other types.
    public var flowControlledLength: Int {
        guard case .data(let bytes, _, let padding) = payload else { return 0 }
        return bytes.count + (padding.map { $0 + 1 } ?? 0)
    }

    /// The frame's size on the wire, header included.
    public var wireSize: Int { HTTP2FrameEncoder.frameHeaderSize + HTTP2FrameEncoder.payloadLength(of: self) }
}
