// RFC 9113 §5.2 and §6.9: flow control. Only DATA frames count, and each counts against two
// windows, the stream's and the connection's (§6.9.1).
//
// `HTTP2SendWindow` is how much the peer lets us send. It starts at the peer's
// SETTINGS_INITIAL_WINDOW_SIZE (65,535 for the connection, whatever the settings say),
// shrinks as we send DATA, grows with each WINDOW_UPDATE, and moves by the difference when the
// peer changes SETTINGS_INITIAL_WINDOW_SIZE (§6.9.2), which can make it negative.
//
// `HTTP2ReceiveWindow` is how much we let the peer send. DATA beyond it is a FLOW_CONTROL_ERROR.
// Data is handed to the application as it arrives (the application bounds its own buffers),
// so we re-open the window once half of it was used: one WINDOW_UPDATE per half window, not
// one per frame.

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

    /// The WINDOW_UPDATE increment to send now, if the window fell to half or less.
    public mutating func takeUpdate() -> Int? {
        guard available <= target / 2 else { return nil }
        let increment = target - available
        available = target
        return increment > 0 ? increment : nil
    }

    /// We changed our SETTINGS_INITIAL_WINDOW_SIZE (§6.9.2 applies to our windows too).
    public mutating func setTarget(_ newTarget: Int) {
        available += newTarget - target
        target = newTarget
    }
}
