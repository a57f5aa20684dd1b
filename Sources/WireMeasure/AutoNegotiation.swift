// AutoNegotiation: which transport the `auto` client uses next (PROTOCOL.md §8
// `--transports auto`). Sans-I/O: it is told what happened to the current connection and
// answers what to do; AutoClient does the I/O.
//
// The ladder is the one SignalR, Engine.IO and Phoenix climb down:
//
//     ws ──▶ sse ──▶ longpoll ──▶ poll
//
// A step fails, and the client moves one rung down at once, when
//   - the server (or a middlebox) answers with an HTTP error: a status other than 200, or for
//     WebSocket anything but `101 Switching Protocols` (a proxy that strips `Upgrade` gets the
//     server's `426`);
//   - the connection dies within `fallbackAfter` of opening, before it delivered an event (a
//     box that accepts the upgrade and resets the connection 200 ms later).
// A connection that delivered an event, or lived longer, and then dropped is a network
// hiccup, not a verdict on the transport: the client reconnects on the same rung, after the
// reconnect policy's delay. A TCP connect that fails says nothing about the transport either.
// Nobody climbs back up during a run (SignalR does not either): a path is at most four steps.
// On the last rung an HTTP error means there is nothing left to try: give up.

public struct AutoNegotiation: Equatable {
    public static let ladder: [RaceTransport] = [.ws, .sse, .longpoll, .poll]
    public static let defaultFallbackAfterNanos: Int64 = 1_000_000_000

    /// What the client should do about a connection that ended.
    public enum Decision: Equatable {
        /// Use the next transport of the ladder, now.
        case fallBack(to: RaceTransport)
        /// Stay on this transport; reconnect after the reconnect policy's delay.
        case reconnect
        /// The last rung failed with an HTTP error.
        case giveUp
    }

    public let fallbackAfterNanos: Int64
    /// Index into the ladder.
    public private(set) var rung = 0
    /// Every transport tried, in order (the report's `path`).
    public private(set) var path: [RaceTransport] = [ladder[0]]

    public init(fallbackAfterNanos: Int64 = defaultFallbackAfterNanos) {
        self.fallbackAfterNanos = fallbackAfterNanos
    }

    public var current: RaceTransport { Self.ladder[rung] }
    /// `ws>sse`: the path as the report prints it.
    public var pathText: String { path.map(\.rawValue).joined(separator: ">") }

    /// The server answered with an HTTP error, or a WebSocket handshake without `101`.
    public mutating func httpFailed() -> Decision {
        moveDown() ?? .giveUp
    }

    /// The connection ended. `openedAt` is when its TCP connection was established (nil: it
    /// never was), `delivered` how many events it carried, `now` the monotonic time.
    public mutating func dropped(openedAt: Int64?, delivered: Int, now: Int64) -> Decision {
        guard let openedAt else { return .reconnect }
        if delivered == 0 && now - openedAt < fallbackAfterNanos {
            return moveDown() ?? .reconnect
        }
        return .reconnect
    }

    private mutating func moveDown() -> Decision? {
        guard rung + 1 < Self.ladder.count else { return nil }
        rung += 1
        path.append(current)
        return .fallBack(to: current)
    }
}
