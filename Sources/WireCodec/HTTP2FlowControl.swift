// RFC 9113 §5.2 and §6.9: flow control. Only DATA frames count, and each counts against two
// windows, the stream's and the connection's (§6.9.1).
//
// `HTTP2SendWindow` is how much the peer lets us send. It starts at the peer's
// SETTINGS_INITIAL_WINDOW_SIZE (65,535 for the connection, whatever the settings say),
// shrinks as we send DATA, grows with each WINDOW_UPDATE, and moves by the difference when the
// peer changes SETTINGS_INITIAL_WINDOW_SIZE (§6.9.2), which can make it negative.
//
// `HTTP2ReceiveWindow` is how much we let the peer send. DATA beyond it is a FLOW_CONTROL_ERROR.
// Received bytes are given back (WINDOW_UPDATE) once the application has consumed them and the
// open window fell to half: one update per half window, not one per frame. That is the
// back-pressure: a peer can never have more than the window in our buffers.

public struct HTTP2SendWindow: Equatable, Sendable {
    public private(set) var size: Int
    public init(_ size: Int) { self.size = size }

    /// WINDOW_UPDATE: false when the window would pass 2^31-1 (§6.9.1: "A sender MUST NOT allow a
    /// flow-control window to exceed 2^31-1 octets ... FLOW_CONTROL_ERROR").
    public mutating func increase(by increment: Int) -> Bool {
        guard size + increment <= HTTP2Settings.maxWindowSize else { return false }
        size += increment
        return true
    }

    /// §6.9.2: a new SETTINGS_INITIAL_WINDOW_SIZE moves every stream window by the difference.
    public mutating func adjust(by delta: Int) -> Bool {
        guard size + delta <= HTTP2Settings.maxWindowSize else { return false }
        size += delta
        return true
    }

    public mutating func consume(_ count: Int) {
        precondition(count <= max(size, 0))
        size -= count
    }
}

public struct HTTP2ReceiveWindow: Equatable, Sendable {
    /// The window we aim to keep open (our initial window size).
    public private(set) var target: Int
    /// What the peer may still send.
    public private(set) var available: Int
    /// Bytes the application has consumed that we have not yet given back in a WINDOW_UPDATE.
    public private(set) var consumed = 0

    public init(_ target: Int) {
        self.target = target
        available = target
    }

    /// DATA arrived. False when it exceeds the window: "A receiver MAY respond with a stream
    /// error or connection error of type FLOW_CONTROL_ERROR" to a peer that ignores it.
    public mutating func receive(_ count: Int) -> Bool {
        guard count <= available else { return false }
        available -= count
        return true
    }

    /// The application is done with `count` received bytes: they may be re-granted.
    public mutating func consume(_ count: Int) {
        consumed += count
    }

    /// The WINDOW_UPDATE increment to send now: once the open window fell to half or less, all
    /// consumed bytes are given back at once.
    public mutating func takeUpdate() -> Int? {
        guard available <= target / 2, consumed > 0 else { return nil }
        let increment = consumed
        available += consumed
        consumed = 0
        return increment
    }
}
