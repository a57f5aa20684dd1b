// The Selector: "tell me which of these file descriptors is ready". Two backends:
//  - EpollSelector (Linux): O(ready) per wait, the kernel keeps the interest set.
//  - PollSelector (everywhere, and what macOS uses): O(registered) per wait, simple and portable.
// The event loop talks to this protocol only, so both backends run the same server; the tests
// run the server on each.

public struct SelectorInterest: OptionSet {
    public let rawValue: UInt8
    public init(rawValue: UInt8) { self.rawValue = rawValue }
    public static let read = SelectorInterest(rawValue: 1)
    public static let write = SelectorInterest(rawValue: 2)
    /// With `.read`, for a listening socket that every loop watches: when a connection arrives,
    /// wake only one loop that is waiting, not all of them (epoll's EPOLLEXCLUSIVE, Linux 4.5).
    /// A loop that is busy is not waiting, so an idle loop takes the connection. poll(2) has no
    /// such flag: there every loop wakes, one wins the accept() and the others find nothing.
    public static let exclusive = SelectorInterest(rawValue: 4)
}

public struct SelectorEvent {
    public var fd: Int32
    public var readable: Bool
    public var writable: Bool
    /// Error or hang-up: the handler should read (to see EOF / the error) and close.
    public var hangup: Bool
    public init(fd: Int32, readable: Bool, writable: Bool, hangup: Bool) {
        self.fd = fd; self.readable = readable; self.writable = writable; self.hangup = hangup
    }
}

public protocol Selector: AnyObject {
    func register(fd: Int32, interest: SelectorInterest)
    func reregister(fd: Int32, interest: SelectorInterest)
    func deregister(fd: Int32)
    /// Waits up to `timeoutMs` (-1: forever) and appends ready fds to `events`.
    func wait(timeoutMs: Int32, into events: inout [SelectorEvent])
    /// Makes a `wait` in progress on the loop thread return; callable from any thread.
    func wakeUp()
    func close()
}

public enum SelectorKind: String {
    case epoll, poll
    /// epoll where the system has it, else poll.
    public static var platformDefault: SelectorKind {
        #if os(Linux)
        return .epoll
        #else
        return .poll
        #endif
    }
}

public func makeSelector(_ kind: SelectorKind) -> Selector {
    switch kind {
    case .epoll:
        #if os(Linux)
        return EpollSelector()
        #else
        return PollSelector()
        #endif
    case .poll:
        return PollSelector()
    }
}
