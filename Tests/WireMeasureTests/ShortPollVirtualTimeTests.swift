// The short poller on a loop whose clock only moves when the test says so (WireLoop.ManualClock):
// which poll goes out at which virtual time, exactly, however busy the machine is. Replaces a
// 10 s wall-clock race that had to send "9 to 11" polls.
import XCTest
import Foundation
@testable import WireMeasure
import WireServer
import WireLoop

final class ShortPollVirtualTimeTests: XCTestCase {
    private var server: Server!
    private var loop: EventLoop!
    private let clock = ManualClock()
    /// Clients hold their context unowned and the loop thread may outlive a test by a moment
    /// (stop() is asynchronous): keep every context for the process's life.
    private static var keptAlive: [RaceContext] = []

    private func makeContext() -> RaceContext {
        let context = RaceContext(loop: loop, endpoint: RaceEndpoint(host: "127.0.0.1", port: server.port))
        Self.keptAlive.append(context)
        return context
    }

    override func setUpWithError() throws {
        var config = ServerConfig()
        config.port = 0
        config.rate = 0          // the test publishes every event itself
        server = Server(config: config)
        try server.start()
        loop = EventLoop(index: 0, clock: clock)
        loop.start(name: "virtual-poller")
    }

    override func tearDown() {
        onLoop { for c in Self.keptAlive { _ = c } }
        loop.stop()
        server.shutdown(grace: 0.2)
    }

    /// Runs `work` on the loop thread and returns its value. Because the loop runs due timers
    /// before queued work, this is also a barrier: every timer due at the clock's time has fired.
    private func onLoop<T>(_ work: @escaping () -> T) -> T {
        let done = DispatchSemaphore(value: 0)
        var value: T?
        loop.execute { value = work(); done.signal() }
        done.wait()
        return value!
    }

    /// Waits (real time, bounded) for a condition on the loop thread: sockets need real time.
    private func waitFor(_ what: String, _ condition: @escaping () -> Bool) {
        let deadline = Date().addingTimeInterval(10)
        while !onLoop(condition) {
            if Date() > deadline { XCTFail("timed out waiting for \(what)"); return }
            usleep(1_000)
        }
    }

    func testPollsGoOutOnTheIntervalGridAndOnceMoreAtTheEnd() throws {
        let context = makeContext()
        let client = ShortPollClient(name: "virtual-poll", context: context, interval: 1, runDuration: 10, phaseFraction: 0)
        onLoop { client.begin() }
        waitFor("the connection") { client.isReady }
        onLoop {
            context.firstID = 1
            client.startRun(at: self.clock.nowNanos())
        }
        XCTAssertEqual(onLoop { client.counts.requests }, 0, "nothing at t = 0: the first poll is one interval in")
        for second in 1...9 {
            clock.advance(seconds: 0.999)
            XCTAssertEqual(onLoop { client.counts.requests }, second - 1, "t = \(second - 1).999 s")
            clock.advance(seconds: 0.001)
            XCTAssertEqual(onLoop { client.counts.requests }, second, "t = \(second) s")
            waitFor("the answer to poll \(second)") { !client.awaiting }
            if second == 3 { server.feed.publish(topic: .chat, data: "between 3 and 4") }
        }
        // t = 10 s is the end of the run: no grid poll, the final poll instead.
        clock.advance(seconds: 1)
        XCTAssertEqual(onLoop { client.counts.requests }, 9, "the poll at t = 10 s is the final one, sent when the run ends")
        onLoop {
            context.lastID = 1
            client.runEnded()
        }
        waitFor("the final answer") { !client.awaiting }
        XCTAssertEqual(onLoop { client.counts.requests }, 10, "--duration 10 --poll-interval 1 sends 10")
        XCTAssertEqual(onLoop { client.counts.connections }, 1)
        // Polls at 1, 2, 3 found nothing; the one at 4 carried the event; 5...9 and the final one nothing.
        XCTAssertEqual(onLoop { client.counts.emptyResponses }, 9)
        XCTAssertEqual(onLoop { client.receipts.distinct(through: 1) }, 1)
    }

    func testALateAnswerSkipsTheTickInsteadOfQueueingRequests() throws {
        let context = makeContext()
        let client = ShortPollClient(name: "virtual-skip", context: context, interval: 0.5, runDuration: 100, phaseFraction: 0)
        onLoop { client.begin() }
        waitFor("the connection") { client.isReady }
        onLoop {
            context.firstID = 1
            client.startRun(at: self.clock.nowNanos())
        }
        // Three intervals pass in one jump: the timer fires once (the grid does not burst).
        clock.advance(seconds: 1.5)
        XCTAssertEqual(onLoop { client.counts.requests }, 1)
        waitFor("the answer") { !client.awaiting }
        clock.advance(seconds: 0.5)
        XCTAssertEqual(onLoop { client.counts.requests }, 2)
    }
}
