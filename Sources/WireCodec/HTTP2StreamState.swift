// RFC 9113 §5.1: the life of one stream, as a state machine.
//
//                              +--------+
//                      send PP |        | recv PP
//                     ,--------+  idle  +--------.
//                    /         |        |         \
//                   v          +--------+          v
//            +----------+          |           +----------+
//            | reserved |          | send H /  | reserved |
//            | (local)  |          | recv H    | (remote) |
//            +---+------+          v           +------+---+
//                |             +--------+             |
//                |     recv ES |        | send ES     |
//         send H |     ,-------+  open  +-------.     | recv H
//                |    /        |        |        \    |
//                v   v         +---+----+         v   v
//            +----------+          |           +----------+
//            |   half-  |          |           |   half-  |
//            |  closed  |          | send R /  |  closed  |
//            | (remote) |          | recv R    | (local)  |
//            +----+-----+          |           +-----+----+
//                 |                |                 |
//                 | send ES /      |       recv ES / |
//                 |  send R /      v        send R / |
//                 |  recv R    +--------+   recv R   |
//                 `----------->|        |<-----------'
//                              | closed |
//                              +--------+
//     H: HEADERS (+ CONTINUATION)   ES: END_STREAM flag   R: RST_STREAM   PP: PUSH_PROMISE
//
// `receive` and `send` apply one frame and return the error §5.1 names when the frame is not
// allowed in the current state. `closed` remembers why, because the RFC treats frames that
// arrive after each kind of closing differently.

public enum HTTP2StreamState: Equatable, Sendable {
    public enum ClosedReason: Equatable, Sendable {
        /// Both sides sent END_STREAM.
        case endStream
        /// The peer sent RST_STREAM.
        case receivedReset
        /// We sent RST_STREAM; the peer may not know yet.
        case sentReset
    }

    /// A frame, as far as the stream state cares.
    public enum Event: Equatable, Sendable {
        case headers(endStream: Bool)
        case data(endStream: Bool)
        case rstStream
        case priority
        case windowUpdate
        case pushPromise
    }

    case idle
    case reservedLocal
    case reservedRemote
    case open
    case halfClosedLocal
    case halfClosedRemote
    case closed(ClosedReason)

    public var isClosed: Bool { if case .closed = self { return true } else { return false } }

    /// Can the peer still send DATA / HEADERS on it? (open or half-closed (local))
    public var peerCanSend: Bool { self == .open || self == .halfClosedLocal }
    /// Can we still send DATA / HEADERS on it? (open or half-closed (remote))
    public var weCanSend: Bool { self == .open || self == .halfClosedRemote }

    /// A frame received on this stream (`id` is used only in the errors).
    public mutating func receive(_ event: Event, streamID id: UInt32) throws(HTTP2Error) {
        switch (self, event) {
        case (_, .priority):
            break   // §5.1: PRIORITY may arrive in any state
        case (.idle, .headers(let end)):
            self = end ? .halfClosedRemote : .open
        case (.idle, _):
            // §5.1 idle: "Receiving any frame other than HEADERS or PRIORITY on a stream in this
            // state MUST be treated as a connection error ... PROTOCOL_ERROR."
            throw .connection(.protocolError, "\(event) on idle stream \(id)")
        case (.reservedLocal, .windowUpdate):
            break
        case (.reservedLocal, .rstStream), (.reservedRemote, .rstStream):
            self = .closed(.receivedReset)
        case (.reservedLocal, _):
            throw .connection(.protocolError, "\(event) on reserved (local) stream \(id)")
        case (.reservedRemote, .headers(let end)):
            self = end ? .closed(.endStream) : .halfClosedLocal
        case (.reservedRemote, _):
            throw .connection(.protocolError, "\(event) on reserved (remote) stream \(id)")
        case (.open, .headers(let end)), (.open, .data(let end)):
            if end { self = .halfClosedRemote }
        case (.halfClosedLocal, .headers(let end)), (.halfClosedLocal, .data(let end)):
            if end { self = .closed(.endStream) }
        case (.open, .rstStream), (.halfClosedLocal, .rstStream), (.halfClosedRemote, .rstStream):
            self = .closed(.receivedReset)
        case (.open, .windowUpdate), (.halfClosedLocal, .windowUpdate), (.halfClosedRemote, .windowUpdate):
            break
        case (.open, .pushPromise), (.halfClosedLocal, .pushPromise):
            break   // the promised stream changes state, not this one (§6.6)
        case (.halfClosedRemote, _):
            // §5.1 half-closed (remote): "If an endpoint receives additional frames, other than
            // WINDOW_UPDATE, PRIORITY, or RST_STREAM, for a stream that is in this state, it
            // MUST respond with a stream error ... STREAM_CLOSED."
            throw .stream(id, .streamClosed, "\(event) after the peer's END_STREAM")
        case (.closed(.sentReset), _):
            // §5.1 closed: "An endpoint MUST ignore frames that it receives on closed streams
            // after it has sent a RST_STREAM frame."
            break
        case (.closed(.receivedReset), _):
            // "An endpoint that receives any frame other than PRIORITY after receiving a
            // RST_STREAM MUST treat that as a stream error ... STREAM_CLOSED."
            throw .stream(id, .streamClosed, "\(event) after the peer's RST_STREAM")
        case (.closed(.endStream), .windowUpdate), (.closed(.endStream), .rstStream):
            // "Endpoints MUST ignore WINDOW_UPDATE or RST_STREAM frames received in this state".
            break
        case (.closed(.endStream), _):
            // "An endpoint that receives any frames after receiving a frame with the END_STREAM
            // flag set MUST treat that as a connection error ... STREAM_CLOSED."
            throw .connection(.streamClosed, "\(event) on closed stream \(id)")
        }
    }

    /// A frame we send. Sending what the state forbids is a bug in the caller; it is reported
    /// as INTERNAL_ERROR so the caller can reset the stream rather than trap.
    public mutating func send(_ event: Event, streamID id: UInt32) throws(HTTP2Error) {
        switch (self, event) {
        case (_, .priority), (_, .windowUpdate):
            break
        case (.idle, .headers(let end)):
            self = end ? .halfClosedLocal : .open
        case (.idle, .pushPromise):
            self = .reservedLocal
        case (.reservedLocal, .headers(let end)):
            self = end ? .closed(.endStream) : .halfClosedRemote
        case (.open, .headers(let end)), (.open, .data(let end)):
            if end { self = .halfClosedLocal }
        case (.halfClosedRemote, .headers(let end)), (.halfClosedRemote, .data(let end)):
            if end { self = .closed(.endStream) }
        case (.closed, .rstStream):
            break   // already closed: nothing to change
        case (_, .rstStream):
            self = .closed(.sentReset)
        default:
            throw .stream(id, .internalError, "cannot send \(event) on a stream in state \(self)")
        }
    }
}
