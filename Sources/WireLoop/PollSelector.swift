// poll(2) backend: portable (POSIX), what macOS uses. It hands the kernel the whole interest
// list on every wait, O(registered fds) — fine for a classroom, the reason epoll exists at 10,000.
// The wake-up is a self-pipe.
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

public final class PollSelector: Selector {
    private var pollfds: [pollfd] = []
    private var indexOfFD: [Int32: Int] = [:]
    private let wakeRead: Int32
    private let wakeWrite: Int32

    public init() {
        var fds: [Int32] = [0, 0]
        precondition(pipe(&fds) == 0, "pipe failed")
        wakeRead = fds[0]; wakeWrite = fds[1]
        for fd in fds { _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK) }
        pollfds.append(pollfd(fd: wakeRead, events: Int16(POLLIN), revents: 0))
        indexOfFD[wakeRead] = 0
    }

    private func mask(_ interest: SelectorInterest) -> Int16 {
        var m: Int16 = 0
        if interest.contains(.read) { m |= Int16(POLLIN) }
        if interest.contains(.write) { m |= Int16(POLLOUT) }
        return m
    }

    public func register(fd: Int32, interest: SelectorInterest) {
        indexOfFD[fd] = pollfds.count
        pollfds.append(pollfd(fd: fd, events: mask(interest), revents: 0))
    }
    public func reregister(fd: Int32, interest: SelectorInterest) {
        if let i = indexOfFD[fd] { pollfds[i].events = mask(interest) }
    }
    public func deregister(fd: Int32) {
        guard let i = indexOfFD.removeValue(forKey: fd) else { return }
        // Swap-remove keeps deregistration O(1).
        let last = pollfds.count - 1
        if i != last {
            pollfds[i] = pollfds[last]
            indexOfFD[pollfds[i].fd] = i
        }
        pollfds.removeLast()
    }

    public func wait(timeoutMs: Int32, into events: inout [SelectorEvent]) {
        let n = pollfds.withUnsafeMutableBufferPointer {
            poll($0.baseAddress, nfds_t($0.count), timeoutMs)
        }
        guard n > 0 else { return }
        for p in pollfds where p.revents != 0 {
            if p.fd == wakeRead {
                var scratch = [UInt8](repeating: 0, count: 64)
                while read(wakeRead, &scratch, 64) > 0 {}
                continue
            }
            let r = Int32(p.revents)
            events.append(SelectorEvent(fd: p.fd,
                                        readable: r & Int32(POLLIN) != 0,
                                        writable: r & Int32(POLLOUT) != 0,
                                        hangup: r & Int32(POLLERR | POLLHUP | POLLNVAL) != 0))
        }
    }

    public func wakeUp() {
        var one: UInt8 = 1
        _ = write(wakeWrite, &one, 1)
    }

    public func close() {
        #if canImport(Glibc)
        _ = Glibc.close(wakeRead); _ = Glibc.close(wakeWrite)
        #else
        _ = Darwin.close(wakeRead); _ = Darwin.close(wakeWrite)
        #endif
    }
}
