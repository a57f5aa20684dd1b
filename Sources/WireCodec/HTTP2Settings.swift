// RFC 9113 §6.5.2: the SETTINGS parameters, and the set of values one endpoint has announced.
//
// Each endpoint announces its own values; they govern what the *peer* may send. A SETTINGS
// frame carries (identifier, value) pairs of 6 bytes, applied in order (§6.5.3); unknown
// identifiers "MUST be ignored". SETTINGS_ENABLE_CONNECT_PROTOCOL (0x8) comes from RFC 8441 §3.

public struct HTTP2SettingID: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    public var rawValue: UInt16
    public init(rawValue: UInt16) { self.rawValue = rawValue }

    public static let headerTableSize = HTTP2SettingID(rawValue: 0x1)
    public static let enablePush = HTTP2SettingID(rawValue: 0x2)
    public static let maxConcurrentStreams = HTTP2SettingID(rawValue: 0x3)
    public static let initialWindowSize = HTTP2SettingID(rawValue: 0x4)
    public static let maxFrameSize = HTTP2SettingID(rawValue: 0x5)
    public static let maxHeaderListSize = HTTP2SettingID(rawValue: 0x6)
    public static let enableConnectProtocol = HTTP2SettingID(rawValue: 0x8)

    public var description: String {
        switch rawValue {
        case 1: return "SETTINGS_HEADER_TABLE_SIZE"
        case 2: return "SETTINGS_ENABLE_PUSH"
        case 3: return "SETTINGS_MAX_CONCURRENT_STREAMS"
        case 4: return "SETTINGS_INITIAL_WINDOW_SIZE"
        case 5: return "SETTINGS_MAX_FRAME_SIZE"
        case 6: return "SETTINGS_MAX_HEADER_LIST_SIZE"
        case 8: return "SETTINGS_ENABLE_CONNECT_PROTOCOL"
        default: return "SETTINGS_0x" + String(rawValue, radix: 16)
        }
    }
}

public struct HTTP2Setting: Equatable, Sendable {
    public var id: HTTP2SettingID
    public var value: UInt32
    public init(_ id: HTTP2SettingID, _ value: UInt32) { self.id = id; self.value = value }
}

/// The values one endpoint has announced, starting from the §6.5.2 initial values.
public struct HTTP2Settings: Equatable, Sendable {
    public static let maxWindowSize = 0x7FFF_FFFF          // 2^31 - 1 (§6.9.1)
    public static let defaultMaxFrameSize = 16_384          // 2^14
    public static let largestMaxFrameSize = 16_777_215      // 2^24 - 1

    public var headerTableSize = 4096
    public var enablePush = true
    /// nil: "Initially, there is no limit to this value" (§6.5.2).
    public var maxConcurrentStreams: Int? = nil
    public var initialWindowSize = 65_535
    public var maxFrameSize = defaultMaxFrameSize
    /// nil: "The initial value of this setting is unlimited."
    public var maxHeaderListSize: Int? = nil
    /// RFC 8441 §3: the peer accepts extended CONNECT (`:protocol`).
    public var enableConnectProtocol = false

    public init() {}

    /// Applies one received parameter, checking the §6.5.2 ranges.
    public mutating func apply(_ setting: HTTP2Setting) throws(HTTP2Error) {
        let v = setting.value
        switch setting.id {
        case .headerTableSize: headerTableSize = Int(v)
        case .enablePush:
            // "Any value other than 0 or 1 MUST be treated as a connection error ... PROTOCOL_ERROR."
            guard v <= 1 else { throw .connection(.protocolError, "SETTINGS_ENABLE_PUSH must be 0 or 1, got \(v)") }
            enablePush = v == 1
        case .maxConcurrentStreams: maxConcurrentStreams = Int(v)
        case .initialWindowSize:
            // "Values above the maximum flow-control window size of 2^31-1 MUST be treated as a
            // connection error ... FLOW_CONTROL_ERROR."
            guard Int(v) <= Self.maxWindowSize else {
                throw .connection(.flowControlError, "SETTINGS_INITIAL_WINDOW_SIZE above 2^31-1")
            }
            initialWindowSize = Int(v)
        case .maxFrameSize:
            // "Values outside this range MUST be treated as a connection error ... PROTOCOL_ERROR."
            guard Int(v) >= Self.defaultMaxFrameSize && Int(v) <= Self.largestMaxFrameSize else {
                throw .connection(.protocolError, "SETTINGS_MAX_FRAME_SIZE \(v) outside 2^14...2^24-1")
            }
            maxFrameSize = Int(v)
        case .maxHeaderListSize: maxHeaderListSize = Int(v)
        case .enableConnectProtocol:
            // RFC 8441 §3: 0 or 1; "A sender MUST NOT send a SETTINGS_ENABLE_CONNECT_PROTOCOL
            // parameter with the value of 0 after previously sending a value of 1."
            guard v <= 1 else { throw .connection(.protocolError, "SETTINGS_ENABLE_CONNECT_PROTOCOL must be 0 or 1") }
            if v == 0 && enableConnectProtocol {
                throw .connection(.protocolError, "SETTINGS_ENABLE_CONNECT_PROTOCOL went from 1 back to 0")
            }
            enableConnectProtocol = v == 1
        default: break   // "An endpoint that receives a SETTINGS frame with any unknown or unsupported identifier MUST ignore that setting."
        }
    }

    /// The parameters that differ from the initial values, to announce in our SETTINGS frame.
    public var nonDefaultParameters: [HTTP2Setting] {
        let initial = HTTP2Settings()
        var list: [HTTP2Setting] = []
        if headerTableSize != initial.headerTableSize { list.append(.init(.headerTableSize, UInt32(headerTableSize))) }
        if enablePush != initial.enablePush { list.append(.init(.enablePush, enablePush ? 1 : 0)) }
        if let m = maxConcurrentStreams { list.append(.init(.maxConcurrentStreams, UInt32(m))) }
        if initialWindowSize != initial.initialWindowSize { list.append(.init(.initialWindowSize, UInt32(initialWindowSize))) }
        if maxFrameSize != initial.maxFrameSize { list.append(.init(.maxFrameSize, UInt32(maxFrameSize))) }
        if let m = maxHeaderListSize { list.append(.init(.maxHeaderListSize, UInt32(m))) }
        if enableConnectProtocol { list.append(.init(.enableConnectProtocol, 1)) }
        return list
    }
}
