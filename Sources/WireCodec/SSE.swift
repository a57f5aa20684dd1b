// STUB: Server-Sent Events (WHATWG HTML §9.2) encoder and decoder.
public struct SSEEvent: Equatable {
    public var id: String?
    public var event: String      // "message" when no event field was given
    public var data: String
    public var retry: Int?
    public init(id: String? = nil, event: String = "message", data: String, retry: Int? = nil) {
        self.id = id; self.event = event; self.data = data; self.retry = retry
    }
}

public enum SSEEncoder {
    /// "id: <id>\nevent: <event>\ndata: <line>\n...\n\n" (one data: line per line of data).
    public static func encode(id: String?, event: String?, data: String) -> [UInt8] { fatalError("TODO") }
    /// A comment line, ": <text>\n\n", used as a heartbeat.
    public static func comment(_ text: String) -> [UInt8] { fatalError("TODO") }
}

public struct SSEDecoder {
    public init() { fatalError("TODO") }
    public mutating func feed(_ bytes: [UInt8]) { fatalError("TODO") }
    /// Next dispatched event, nil for more bytes. Comments are skipped (counted in `comments`).
    public mutating func nextEvent() -> SSEEvent? { fatalError("TODO") }
    /// The last event ID seen (for Last-Event-ID on reconnect).
    public var lastEventID: String { fatalError("TODO") }
    public var comments: Int { fatalError("TODO") }
}
