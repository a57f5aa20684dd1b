// The idle timer: `--idle-timeout S` (PROTOCOL.md §7), what a load balancer does to a
// connection on which nothing moves: after S s without a byte in either direction it closes
// both sides. A heartbeat (an SSE comment, a WebSocket ping) is a byte, so it keeps a
// connection alive: that is why servers send them.

public struct IdleTimer {
    public let timeoutNanos: Int64
    public private(set) var lastActivity: Int64

    public init(timeoutNanos: Int64, now: Int64) {
        self.timeoutNanos = timeoutNanos
        lastActivity = now
    }

    /// A byte moved (read from either side).
    public mutating func touch(now: Int64) { lastActivity = now }

    /// When the connection expires if nothing moves before.
    public var deadline: Int64 { lastActivity + timeoutNanos }

    public func isExpired(now: Int64) -> Bool { now >= deadline }
}
