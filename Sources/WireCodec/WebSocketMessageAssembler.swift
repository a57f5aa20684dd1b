// RFC 6455 §5.4 fragmentation, §5.5.1 close frames and §8.1 UTF-8 rules: frames in, messages out.
//
// A data message is one text or binary frame with FIN=1, or a text/binary frame with FIN=0
// followed by continuation frames, the last with FIN=1. Control frames (close, ping, pong) may
// arrive between the fragments and are handed back at once.

public enum WebSocketMessage: Equatable {
    case text([UInt8])            // validated UTF-8
    case binary([UInt8])
    case ping([UInt8])
    case pong([UInt8])
    case close(code: UInt16?, reason: String)   // code nil when the close frame had no body
}

public struct WebSocketMessageAssembler {
    private let maxMessage: Int
    /// PROTOCOL.md §9: a fragmented message completes within this many frames (1009 beyond), so
    /// endless zero-byte continuations cannot keep a message open forever.
    private let maxFragments: Int
    /// Data frames of the message in progress so far.
    public private(set) var fragmentCount = 0
    /// The opcode (.text or .binary) of the fragmented message in progress, if any.
    private var messageOpcode: WebSocketOpcode?
    /// The fragments received so far, concatenated.
    private var fragments: [UInt8] = []
    /// UTF-8 state of the text message in progress, carried from fragment to fragment.
    private var validator = UTF8Validator()

    /// A message (all fragments together) larger than `maxMessage` is 1009.
    public init(maxMessage: Int, maxFragments: Int = 1000) {
        self.maxMessage = maxMessage
        self.maxFragments = maxFragments
    }

    /// True between the first and the last fragment of a message.
    public var isAssembling: Bool { messageOpcode != nil }

    /// Feed one decoded frame; returns a message when one is complete.
    /// Errors: continuation without start / new data frame inside a fragmented message (1002),
    /// invalid UTF-8 in text or close reason (1007, checked incrementally per fragment),
    /// bad close code or 1-byte close payload (1002), message too big (1009).
    /// After an error the connection must be failed (§7.1.7); the assembler is not reused.
    public mutating func receive(_ frame: WebSocketFrame) throws -> WebSocketMessage? {
        switch frame.opcode {
        // §5.4: "Control frames (see Section 5.5) MAY be injected in the middle of a
        // fragmented message." They do not touch the message in progress.
        case .close: return try closeMessage(frame.payload)
        case .ping:  return .ping(frame.payload)
        case .pong:  return .pong(frame.payload)

        case .text, .binary:
            // §5.4: "The fragments of one message MUST NOT be interleaved between the
            // fragments of another message unless an extension has been negotiated".
            if messageOpcode != nil {
                throw WebSocketError(.protocolError, "new data frame while a fragmented message is in progress")
            }
            messageOpcode = frame.opcode
            validator = UTF8Validator()
            fragmentCount = 0
            return try append(frame)

        case .continuation:
            // §5.4: a fragmented message is "a single frame with the FIN bit clear and an
            // opcode other than 0, followed by zero or more frames with the FIN bit clear and
            // the opcode set to 0". A continuation with nothing to continue breaks that rule.
            if messageOpcode == nil {
                throw WebSocketError(.protocolError, "continuation frame without a message in progress")
            }
            return try append(frame)
        }
    }

    /// Add a data frame's payload to the message in progress; return the message on FIN.
    private mutating func append(_ frame: WebSocketFrame) throws -> WebSocketMessage? {
        guard let opcode = messageOpcode else { return nil }
        fragmentCount += 1
        if fragmentCount > maxFragments {
            throw WebSocketError(.messageTooBig, "message in more than \(maxFragments) frames")
        }
        if fragments.count + frame.payload.count > maxMessage {
            throw WebSocketError(.messageTooBig, "message larger than \(maxMessage) bytes")
        }
        if opcode == .text {
            // §8.1: fail as soon as the bytes cannot be UTF-8 (the Autobahn "fail fast" rule),
            // without waiting for the last fragment.
            if !validator.validate(frame.payload) {
                throw WebSocketError(.invalidFramePayloadData, "text message is not valid UTF-8")
            }
            // ... and the last fragment must not end in the middle of a character.
            if frame.fin && !validator.isComplete {
                throw WebSocketError(.invalidFramePayloadData, "text message ends inside a UTF-8 sequence")
            }
        }
        guard frame.fin else {
            fragments += frame.payload
            return nil
        }
        // Whole message: an unfragmented frame is returned without copying.
        let payload = fragments.isEmpty ? frame.payload : fragments + frame.payload
        messageOpcode = nil
        fragments = []      // not removeAll(keepingCapacity:): a burst's peak is not kept
        fragmentCount = 0
        return opcode == .text ? .text(payload) : .binary(payload)
    }

    /// §5.5.1 Close: "If there is a body, the first two bytes of the body MUST be a 2-byte
    /// unsigned integer (in network byte order) representing a status code with value /code/
    /// defined in Section 7.4. Following the 2-byte integer, the body MAY contain UTF-8-encoded
    /// data with value /reason/".
    private func closeMessage(_ payload: [UInt8]) throws -> WebSocketMessage {
        if payload.isEmpty { return .close(code: nil, reason: "") }
        // A 1-byte body cannot hold the 2-byte code.
        if payload.count == 1 {
            throw WebSocketError(.protocolError, "close frame body of 1 byte")
        }
        let code = UInt16(payload[0]) << 8 | UInt16(payload[1])
        if !WebSocketCloseCode.isValidReceived(code) {
            throw WebSocketError(.protocolError, "invalid close code \(code)")
        }
        let reason = Array(payload[2...])
        // §5.5.1: "the body MAY contain UTF-8-encoded data"; §8.1 applies to it as well.
        if !UTF8Validator.isValid(reason) {
            throw WebSocketError(.invalidFramePayloadData, "close reason is not valid UTF-8")
        }
        return .close(code: code, reason: String(decoding: reason, as: UTF8.self))
    }
}
