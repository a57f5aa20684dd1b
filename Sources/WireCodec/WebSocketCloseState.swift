// RFC 6455 §7 the closing handshake, as one value both ends keep (like wsproto's ConnectionState
// and Hummingbird's WebSocketStateMachine): the server's sessions and the race client use it.
//
//        ┌────────── sendClose ──────────▶ .closeSent ──── receivedClose ───┐
//   .open                                                                   ├─▶ .closed
//        └──── receivedClose ──▶ .closeReceived ──── sendClose ─────────────┘
//
// Sans-I/O: the mutating methods say what to do (`Reaction`); the caller writes the frame and
// closes the socket.
//  - §5.5.1: "If an endpoint receives a Close frame and did not previously send a Close frame,
//    the endpoint MUST send a Close frame in response."
//  - §5.5.1: "After sending a Close frame, the endpoint MUST NOT send any more data frames" and
//    data received after the peer's Close is not processed ("the endpoint ... MUST NOT send any
//    further data", so an /echo answer would break the rule).
//  - §7.1.1: once both Close frames have crossed, the server closes the TCP connection first.

public enum WebSocketCloseState: Equatable {
    /// Data flows both ways.
    case open
    /// We sent a Close with this code and wait for the peer's (at most a few seconds).
    case closeSent(code: UInt16)
    /// The peer sent a Close with this code; ours has not been sent yet.
    case closeReceived(code: UInt16)
    /// Both Close frames have crossed (or the connection failed): close TCP.
    case closed

    public enum Reaction: Equatable {
        /// Send a Close frame carrying this code.
        case sendClose(code: UInt16)
        /// Nothing more to say: close the TCP connection (after our queued bytes are written).
        case closeConnection
        /// Nothing to do (a Close after the handshake ended is ignored).
        case none
    }

    /// §5.5.1: data frames (text, binary) and pings may be sent only while open.
    public var canSendData: Bool { self == .open }
    /// Data received after the peer's Close (or after ours went out and theirs came) is ignored.
    public var isOpen: Bool { self == .open }

    /// We want to close with `code` (going away, protocol error, too slow...).
    public mutating func sendClose(code: UInt16) -> Reaction {
        switch self {
        case .open:
            self = .closeSent(code: code)
            return .sendClose(code: code)
        case .closeReceived(let theirs):
            // Answer theirs with their code (PROTOCOL.md §2), whatever we meant to say.
            self = .closed
            return .sendClose(code: theirs)
        case .closeSent, .closed:
            return .none
        }
    }

    /// The peer's Close arrived (`code` nil when its body was empty: answered with 1000).
    public mutating func receivedClose(code: UInt16?) -> Reaction {
        switch self {
        case .open:
            self = .closeReceived(code: code ?? WebSocketCloseCode.normalClosure.rawValue)
            return .sendClose(code: code ?? WebSocketCloseCode.normalClosure.rawValue)
        case .closeSent:
            self = .closed
            return .closeConnection
        case .closeReceived, .closed:
            return .none
        }
    }

    /// After `receivedClose` answered `.sendClose`: the answer went out, the handshake is done.
    public mutating func answeredClose() {
        if case .closeReceived = self { self = .closed }
    }
}
