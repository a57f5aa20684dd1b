// epoll backend (Linux). Level-triggered: simpler to reason about than edge-triggered, and the
// loop reads until EAGAIN anyway. The wake-up is an eventfd registered like any other fd.
#if os(Linux)
import Glibc
import CWireSystem

public final class EpollSelector: Selector {
    private let epfd: Int32
    private let wakeFD: Int32
    private var buffer = [cws_event](repeating: cws_event(), count: 256)

    public init() {
        epfd = cws_epoll_create()
        precondition(epfd >= 0, "epoll_create1 failed: errno \(errno)")
        wakeFD = cws_eventfd()
        precondition(wakeFD >= 0, "eventfd failed: errno \(errno)")
        _ = cws_epoll_ctl(epfd, 1, wakeFD, UInt32(CWS_EPOLLIN), UInt64(UInt32(bitPattern: wakeFD)))
    }

    private func mask(_ interest: SelectorInterest) -> UInt32 {
        // RDHUP only with read interest: a connection that paused reading (PROTOCOL.md §9) must
        // not be woken, level-triggered, by a peer's FIN it will not read yet.
        var m: UInt32 = 0
        if interest.contains(.read) { m |= UInt32(CWS_EPOLLIN | CWS_EPOLLRDHUP) }
        if interest.contains(.write) { m |= UInt32(CWS_EPOLLOUT) }
        // EPOLLEXCLUSIVE takes EPOLLIN but not RDHUP (epoll_ctl(2): EINVAL), and a listener
        // has no peer to hang up anyway.
        if interest.contains(.exclusive) { m = UInt32(CWS_EPOLLIN) | UInt32(CWS_EPOLLEXCLUSIVE) }
        return m
    }

    public func register(fd: Int32, interest: SelectorInterest) {
        _ = cws_epoll_ctl(epfd, 1, fd, mask(interest), UInt64(UInt32(bitPattern: fd)))
    }
    /// Not for an fd registered with `.exclusive`: epoll cannot modify that registration
    /// (epoll_ctl(2): EPOLL_CTL_MOD on it is EINVAL), so the caller removes the fd and adds it again.
    public func reregister(fd: Int32, interest: SelectorInterest) {
        precondition(!interest.contains(.exclusive), "an exclusive fd is removed and added, not modified")
        _ = cws_epoll_ctl(epfd, 3, fd, mask(interest), UInt64(UInt32(bitPattern: fd)))
    }
    public func deregister(fd: Int32) {
        _ = cws_epoll_ctl(epfd, 2, fd, 0, 0)
    }

    public func wait(timeoutMs: Int32, into events: inout [SelectorEvent]) {
        let n = buffer.withUnsafeMutableBufferPointer {
            cws_epoll_wait(epfd, $0.baseAddress, Int32($0.count), timeoutMs)
        }
        guard n > 0 else { return }
        for i in 0..<Int(n) {
            let e = buffer[i]
            let fd = Int32(bitPattern: UInt32(truncatingIfNeeded: e.data))
            if fd == wakeFD {
                var value: UInt64 = 0
                _ = read(wakeFD, &value, 8)   // drain; the loop checks its queue after every wait
                continue
            }
            // RDHUP (peer shut down its side) shows up as readable: read() then returns 0.
            let bad = e.events & UInt32(CWS_EPOLLERR | CWS_EPOLLHUP) != 0
            events.append(SelectorEvent(fd: fd,
                                        readable: e.events & UInt32(CWS_EPOLLIN | CWS_EPOLLRDHUP) != 0,
                                        writable: e.events & UInt32(CWS_EPOLLOUT) != 0,
                                        hangup: bad))
        }
    }

    public func wakeUp() {
        var one: UInt64 = 1
        _ = write(wakeFD, &one, 8)
    }

    public func close() {
        _ = Glibc.close(wakeFD)
        _ = Glibc.close(epfd)
    }
}
#endif
