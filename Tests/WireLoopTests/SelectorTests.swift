import XCTest
import Foundation
import Glibc
@testable import WireLoop

/// Both backends must behave the same: the server runs on either (epoll on Linux, poll on macOS).
final class SelectorTests: XCTestCase {
    private func socketPair() -> (Int32, Int32) {
        var fds: [Int32] = [0, 0]
        XCTAssertEqual(socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0, &fds), 0)
        Socket.setNonBlocking(fds[0]); Socket.setNonBlocking(fds[1])
        return (fds[0], fds[1])
    }

    private func check(_ kind: SelectorKind) {
        let selector = makeSelector(kind)
        defer { selector.close() }
        let (a, b) = socketPair()
        defer { Socket.closeFD(a); Socket.closeFD(b) }
        selector.register(fd: a, interest: .read)

        var events: [SelectorEvent] = []
        selector.wait(timeoutMs: 0, into: &events)
        XCTAssertTrue(events.isEmpty, "\(kind): nothing is ready yet")

        var byte: UInt8 = 7
        XCTAssertEqual(write(b, &byte, 1), 1)
        events.removeAll()
        selector.wait(timeoutMs: 1000, into: &events)
        XCTAssertEqual(events.count, 1, "\(kind)")
        XCTAssertEqual(events.first?.fd, a)
        XCTAssertEqual(events.first?.readable, true)

        // Asking for writability reports it (an empty socket buffer is writable).
        selector.reregister(fd: a, interest: [.read, .write])
        events.removeAll()
        selector.wait(timeoutMs: 1000, into: &events)
        XCTAssertEqual(events.first?.writable, true, "\(kind)")

        // After deregistering, the fd is never reported again.
        selector.deregister(fd: a)
        events.removeAll()
        selector.wait(timeoutMs: 0, into: &events)
        XCTAssertTrue(events.isEmpty, "\(kind)")

        // The peer closing shows up as readable (read() then returns 0).
        selector.register(fd: a, interest: .read)
        var drain = [UInt8](repeating: 0, count: 8)
        _ = read(a, &drain, 8)
        Socket.closeFD(b)
        events.removeAll()
        selector.wait(timeoutMs: 1000, into: &events)
        XCTAssertTrue(events.first?.readable == true || events.first?.hangup == true, "\(kind)")
    }

    func testEpollReportsReadableWritableAndClosed() { check(.epoll) }
    func testPollReportsReadableWritableAndClosed() { check(.poll) }

    /// The server's loops share one listening socket (WireServer/Server.swift). Watched with
    /// `.exclusive`, a new connection wakes one of the loops waiting on it (EPOLLEXCLUSIVE);
    /// watched without it, every waiting loop wakes, and all but one find nothing to accept
    /// (the thundering herd). Nobody accepts here, so a loop that wakes reports the socket.
    func testAnExclusiveListenerWakesOneOfTwoWaitingLoops() throws {
        XCTAssertEqual(try loopsWoken(exclusive: true), 1, "EPOLLEXCLUSIVE wakes one waiting loop")
        XCTAssertEqual(try loopsWoken(exclusive: false), 2, "the control: without it, both wake")
    }

    private func loopsWoken(exclusive: Bool) throws -> Int {
        let listener = try Socket.listen(host: "127.0.0.1", port: 0, reusePort: false)
        defer { Socket.closeFD(listener) }
        let selectors = [makeSelector(.epoll), makeSelector(.epoll)]
        defer { for s in selectors { s.close() } }
        for s in selectors { s.register(fd: listener, interest: exclusive ? [.read, .exclusive] : .read) }
        let woken = [AtomicInt(), AtomicInt()]
        let group = DispatchGroup()
        let started = DispatchGroup()
        for (s, w) in zip(selectors, woken) {
            started.enter()
            DispatchQueue.global().async(group: group) {
                var events: [SelectorEvent] = []
                started.leave()
                s.wait(timeoutMs: 1500, into: &events)
                if events.contains(where: { $0.fd == listener && $0.readable }) { w.store(1) }
            }
        }
        XCTAssertEqual(started.wait(timeout: .now() + 5), .success)
        usleep(200_000)   // both are waiting in epoll_wait by now: exclusivity is about waiters
        let client = try Socket.connect(host: "127.0.0.1", port: Socket.localPort(listener))
        defer { Socket.closeFD(client) }
        XCTAssertEqual(group.wait(timeout: .now() + 5), .success)
        return woken.reduce(0) { $0 + $1.load() }
    }

    private func checkWakeUp(_ kind: SelectorKind) {
        let selector = makeSelector(kind)
        defer { selector.close() }
        let start = LoopClock.monotonicNanos()
        Thread.detachNewThread { usleep(50_000); selector.wakeUp() }
        var events: [SelectorEvent] = []
        selector.wait(timeoutMs: 10_000, into: &events)
        XCTAssertTrue(events.isEmpty)
        XCTAssertLessThan(LoopClock.monotonicNanos() - start, 5_000_000_000, "\(kind): wakeUp ends the wait")
    }

    func testEpollWakeUpEndsAWait() { checkWakeUp(.epoll) }
    func testPollWakeUpEndsAWait() { checkWakeUp(.poll) }
}

final class EventLoopTests: XCTestCase {
    func testExecuteFromAnotherThreadAndTimersRunOnTheLoopThread() {
        for kind in [SelectorKind.epoll, .poll] {
            let loop = EventLoop(selector: kind)
            let done = expectation(description: "ran \(kind)")
            var order: [String] = []
            loop.start(name: "test-loop")
            loop.execute {
                XCTAssertTrue(loop.isOnLoopThread)
                loop.schedule(afterNanos: 20_000_000) { order.append("late") }
                loop.schedule(afterNanos: 1_000_000) { order.append("early") }
                loop.schedule(afterNanos: 40_000_000) {
                    XCTAssertEqual(order, ["early", "late"])
                    done.fulfill()
                }
            }
            wait(for: [done], timeout: 5)
            loop.stop()
        }
    }
}
