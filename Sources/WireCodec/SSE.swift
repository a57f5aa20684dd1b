// Server-Sent Events (WHATWG HTML §9.2 "Server-sent events"): encoder and decoder of the
// text/event-stream format.
//
// §9.2.5 grammar (ABNF-like):
//   stream        = [ bom ] *event
//   event         = *( comment / field ) end-of-line
//   comment       = colon *any-char end-of-line
//   field         = 1*name-char [ colon [ space ] *any-char ] end-of-line
//   end-of-line   = ( cr lf / cr / lf )

public struct SSEEvent: Equatable {
    public var id: String?
    public var event: String      // "message" when no event field was given
    public var data: String
    public var retry: Int?
    public init(id: String? = nil, event: String = "message", data: String, retry: Int? = nil) {
        self.id = id; self.event = event; self.data = data; self.retry = retry
    }
}

/// The bytes that matter in the format (all ASCII, so never part of a multi-byte character).
enum SSEByte {
    static let lf = UInt8(ascii: "\n")
    static let cr = UInt8(ascii: "\r")
    static let colon = UInt8(ascii: ":")
    static let space = UInt8(ascii: " ")
    /// §9.2.5: "The UTF-8 decode algorithm strips one leading UTF-8 Byte Order Mark (BOM), if any."
    static let bom: [UInt8] = [0xEF, 0xBB, 0xBF]
}

public enum SSEEncoder {
    /// "id: <id>\nevent: <event>\ndata: <line>\n...\n\n" (one data: line per line of data).
    /// Lines of `data` may end in "\n", "\r\n" or "\r"; each becomes its own `data:` line, and
    /// the decoder joins them again with "\n".
    /// `id` and `event` must not contain line breaks (they are single-line fields).
    public static func encode(id: String?, event: String?, data: String) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(data.utf8.count + 32)
        if let id {
            precondition(!containsLineBreak(id), "SSE id must be a single line")
            out += Array("id: ".utf8) + Array(id.utf8) + [SSEByte.lf]
        }
        if let event {
            precondition(!containsLineBreak(event), "SSE event type must be a single line")
            out += Array("event: ".utf8) + Array(event.utf8) + [SSEByte.lf]
        }
        let bytes = Array(data.utf8)
        var lineStart = 0, i = 0
        while i <= bytes.count {
            if i == bytes.count || bytes[i] == SSEByte.lf || bytes[i] == SSEByte.cr {
                out += Array("data: ".utf8)
                out += bytes[lineStart..<i]
                out.append(SSEByte.lf)
                // "\r\n" is one line break, not two.
                if i + 1 < bytes.count && bytes[i] == SSEByte.cr && bytes[i + 1] == SSEByte.lf { i += 1 }
                lineStart = i + 1
            }
            i += 1
        }
        // §9.2.6: a blank line dispatches the event.
        out.append(SSEByte.lf)
        return out
    }

    /// A comment line, ": <text>\n\n", used as a heartbeat. §9.2.7: "Legacy proxy servers are
    /// known to, in certain cases, drop HTTP connections after a short timeout. To protect
    /// against such proxy servers, authors can include a comment line (one starting with a
    /// ':' character) every 15 seconds or so."
    public static func comment(_ text: String) -> [UInt8] {
        precondition(!containsLineBreak(text), "SSE comment must be a single line")
        return Array(": ".utf8) + Array(text.utf8) + [SSEByte.lf, SSEByte.lf]
    }

    private static func containsLineBreak(_ text: String) -> Bool {
        text.utf8.contains { $0 == SSEByte.lf || $0 == SSEByte.cr }
    }
}

/// §9.2.6 "Interpreting an event stream", fed bytes as they arrive.
///
/// Bytes are split into lines first (CR and LF are ASCII, so a line break is never inside a
/// UTF-8 character); each complete line is then decoded as UTF-8, so a character split between
/// two `feed` calls is reassembled before decoding. Invalid UTF-8 becomes U+FFFD, as the
/// spec's "UTF-8 decode" does.
public struct SSEDecoder {
    /// Bytes of the line being received (no line ending yet).
    private var line: [UInt8] = []
    /// The previous chunk ended in CR: a LF at the start of the next chunk belongs to it.
    private var skipLeadingLF = false
    /// The BOM can only be at the very start of the stream, i.e. of the first line.
    private var isFirstLine = true

    // The spec's buffers (§9.2.6).
    private var dataBuffer = ""
    private var eventTypeBuffer = ""
    private var lastEventIDBuffer = ""
    /// `retry` seen since the last dispatch, reported on the next event.
    private var retryBuffer: Int?

    private var events: [SSEEvent] = []
    private var nextEventIndex = 0

    /// The last event ID seen (for Last-Event-ID on reconnect). As in the spec, an `id` field
    /// takes effect when its event is dispatched (at the blank line), even with no data.
    public private(set) var lastEventID = ""
    /// Comment lines seen (e.g. heartbeats).
    public private(set) var comments = 0
    /// The reconnection time in milliseconds from the last valid `retry` field, if any.
    public private(set) var reconnectionTime: Int?

    public init() {}

    public mutating func feed(_ bytes: [UInt8]) {
        var i = 0
        if skipLeadingLF, !bytes.isEmpty {
            skipLeadingLF = false
            if bytes[0] == SSEByte.lf { i = 1 }
        }
        while i < bytes.count {
            // Find the end of the line, then copy the line in one go.
            var end = i
            while end < bytes.count && bytes[end] != SSEByte.lf && bytes[end] != SSEByte.cr { end += 1 }
            line += bytes[i..<end]
            if end == bytes.count { break }          // line continues in the next chunk
            // "end-of-line = ( cr lf / cr / lf )"
            if bytes[end] == SSEByte.cr {
                if end + 1 < bytes.count {
                    if bytes[end + 1] == SSEByte.lf { end += 1 }
                } else {
                    skipLeadingLF = true              // the LF may be in the next chunk
                }
            }
            processLine()
            i = end + 1
        }
    }

    /// Next dispatched event, nil for more bytes. Comments are skipped (counted in `comments`).
    public mutating func nextEvent() -> SSEEvent? {
        guard nextEventIndex < events.count else { return nil }
        let event = events[nextEventIndex]
        nextEventIndex += 1
        if nextEventIndex == events.count {
            events.removeAll(keepingCapacity: true)
            nextEventIndex = 0
        }
        return event
    }

    private mutating func processLine() {
        defer { line.removeAll(keepingCapacity: true) }
        if isFirstLine {
            isFirstLine = false
            if line.starts(with: SSEByte.bom) { line.removeFirst(SSEByte.bom.count) }
        }
        // "If the line is empty (a blank line): Dispatch the event".
        if line.isEmpty {
            dispatch()
            return
        }
        // "If the line starts with a U+003A COLON character (:): Ignore the line."
        if line[0] == SSEByte.colon {
            comments += 1
            return
        }
        // "If the line contains a U+003A COLON character (:): Collect the characters on the
        // line before the first U+003A COLON character (:), and let field be that string.
        // Collect the characters on the line after the first U+003A COLON character (:), and
        // let value be that string. If value starts with a U+0020 SPACE character, remove it
        // from value." Otherwise: "using the whole line as the field name, and the empty
        // string as the field value."
        let field: ArraySlice<UInt8>, value: ArraySlice<UInt8>
        if let colon = line.firstIndex(of: SSEByte.colon) {
            field = line[..<colon]
            var valueStart = colon + 1
            if valueStart < line.count && line[valueStart] == SSEByte.space { valueStart += 1 }
            value = line[valueStart...]
        } else {
            field = line[...]
            value = []
        }
        processField(String(decoding: field, as: UTF8.self), String(decoding: value, as: UTF8.self))
    }

    /// §9.2.6 "process the field".
    private mutating func processField(_ field: String, _ value: String) {
        switch field {
        case "event":
            // "Set the event type buffer to field value."
            eventTypeBuffer = value
        case "data":
            // "Append the field value to the data buffer, then append a single U+000A LINE
            // FEED (LF) character to the data buffer."
            dataBuffer += value
            dataBuffer += "\n"
        case "id":
            // "If the field value does not contain U+0000 NULL, then set the last event ID
            // buffer to the field value. Otherwise, ignore the field."
            if !value.utf8.contains(0) { lastEventIDBuffer = value }
        case "retry":
            // "If the field value consists of only ASCII digits, then interpret the field
            // value as an integer in base ten, and set the event stream's reconnection time
            // to that integer. Otherwise, ignore the field."
            // DEVIATION: an empty value or one too large for Int is ignored.
            if !value.isEmpty, value.utf8.allSatisfy({ $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }),
               let milliseconds = Int(value) {
                reconnectionTime = milliseconds
                retryBuffer = milliseconds
            }
        default:
            // "Otherwise: The field is ignored."
            break
        }
    }

    /// §9.2.6 "dispatch the event".
    private mutating func dispatch() {
        // 1. "Set the last event ID string of the event source to the value of the last event
        //    ID buffer. The buffer does not get reset".
        lastEventID = lastEventIDBuffer
        let retry = retryBuffer
        retryBuffer = nil
        // 2. "If the data buffer is an empty string, set the data buffer and the event type
        //    buffer to the empty string and return."
        if dataBuffer.isEmpty {
            eventTypeBuffer = ""
            return
        }
        // 3. "If the data buffer's last character is a U+000A LINE FEED (LF) character, then
        //    remove the last character from the data buffer."
        if dataBuffer.utf8.last == SSEByte.lf { dataBuffer.removeLast() }
        // 4-5. The event: type "message" unless the event type buffer is not empty.
        events.append(SSEEvent(id: lastEventID.isEmpty ? nil : lastEventID,
                               event: eventTypeBuffer.isEmpty ? "message" : eventTypeBuffer,
                               data: dataBuffer,
                               retry: retry))
        // 6. "Set the data buffer and the event type buffer to the empty string."
        dataBuffer = ""
        eventTypeBuffer = ""
    }
}
