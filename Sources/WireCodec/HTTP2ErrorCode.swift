// RFC 9113 §7: error codes, carried by RST_STREAM and GOAWAY, and the typed error our HTTP/2
// code throws. §5.4 distinguishes a *stream error* (only that stream is reset: RST_STREAM) from
// a *connection error* (GOAWAY, then close): `HTTP2Error.scope` says which one the RFC asks for.
//
// Error codes are a struct, not an enum: §7 "Unknown or unsupported error codes MUST NOT trigger
// any special behavior", so a peer may send any 32-bit value and we must carry it unchanged.

public struct HTTP2ErrorCode: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    public var rawValue: UInt32
    public init(rawValue: UInt32) { self.rawValue = rawValue }

    public static let noError = HTTP2ErrorCode(rawValue: 0x0)
    public static let protocolError = HTTP2ErrorCode(rawValue: 0x1)
    public static let internalError = HTTP2ErrorCode(rawValue: 0x2)
    public static let flowControlError = HTTP2ErrorCode(rawValue: 0x3)
    public static let settingsTimeout = HTTP2ErrorCode(rawValue: 0x4)
    public static let streamClosed = HTTP2ErrorCode(rawValue: 0x5)
    public static let frameSizeError = HTTP2ErrorCode(rawValue: 0x6)
    public static let refusedStream = HTTP2ErrorCode(rawValue: 0x7)
    public static let cancel = HTTP2ErrorCode(rawValue: 0x8)
    public static let compressionError = HTTP2ErrorCode(rawValue: 0x9)
    public static let connectError = HTTP2ErrorCode(rawValue: 0xA)
    public static let enhanceYourCalm = HTTP2ErrorCode(rawValue: 0xB)
    public static let inadequateSecurity = HTTP2ErrorCode(rawValue: 0xC)
    public static let http11Required = HTTP2ErrorCode(rawValue: 0xD)

    private static let names = ["NO_ERROR", "PROTOCOL_ERROR", "INTERNAL_ERROR", "FLOW_CONTROL_ERROR",
                                "SETTINGS_TIMEOUT", "STREAM_CLOSED", "FRAME_SIZE_ERROR", "REFUSED_STREAM",
                                "CANCEL", "COMPRESSION_ERROR", "CONNECT_ERROR", "ENHANCE_YOUR_CALM",
                                "INADEQUATE_SECURITY", "HTTP_1_1_REQUIRED"]

    public var description: String {
        rawValue < Self.names.count ? Self.names[Int(rawValue)] : "0x" + String(rawValue, radix: 16)
    }
}

public struct HTTP2Error: Error, Equatable, Sendable, CustomStringConvertible {
    public enum Scope: Equatable, Sendable {
        /// §5.4.1: GOAWAY with this code, then close the connection.
        case connection
        /// §5.4.2: RST_STREAM on this stream; the connection goes on.
        case stream(UInt32)
    }
    public var scope: Scope
    public var code: HTTP2ErrorCode
    public var reason: String

    public init(_ scope: Scope, _ code: HTTP2ErrorCode, _ reason: String) {
        self.scope = scope
        self.code = code
        self.reason = reason
    }

    public static func connection(_ code: HTTP2ErrorCode, _ reason: String) -> HTTP2Error {
        HTTP2Error(.connection, code, reason)
    }

    public static func stream(_ id: UInt32, _ code: HTTP2ErrorCode, _ reason: String) -> HTTP2Error {
        HTTP2Error(.stream(id), code, reason)
    }

    public var description: String {
        switch scope {
        case .connection: return "connection error \(code): \(reason)"
        case .stream(let id): return "stream \(id) error \(code): \(reason)"
        }
    }
}
