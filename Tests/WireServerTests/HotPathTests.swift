// The request hot path's shortcuts (ConversationContext.emptyPollResponse, the Feed's lock-free
// latest id, the loop's action buffer) must answer exactly what the general path answers.
import XCTest
import WireCodec
import WireLoop
@testable import WireServer

final class HotPathTests: XCTestCase {
    /// The body and head of an up-to-date poll, whichever path built them.
    private func answer(_ m: MemoryConnection, _ request: String) -> String {
        m.receive(request)
        return m.takeText()
    }

    func testPrebuiltEmptyPollEqualsTheGeneralAnswerAndFollowsTheLatestID() {
        let m = MemoryConnection()
        let first = answer(m, "GET /poll HTTP/1.1\r\nHost: t\r\n\r\n")
        XCTAssertTrue(first.hasPrefix("HTTP/1.1 200 OK\r\nDate: "), first)
        XCTAssertTrue(first.hasSuffix("\r\nContent-Type: application/json\r\nContent-Length: 33\r\nCache-Control: no-store\r\n\r\n{\"events\":[],\"next\":0,\"missed\":0}"), first)
        // The same answer again (the cached bytes), and `since` = latest gives the same body.
        XCTAssertEqual(answer(m, "GET /poll HTTP/1.1\r\nHost: t\r\n\r\n"), first)
        XCTAssertEqual(answer(m, "GET /poll?since=0 HTTP/1.1\r\nHost: t\r\n\r\n"), first)
        // A publish changes `next`: the cache is rebuilt, not reused.
        _ = m.feed.publish(topic: .tick, data: "a")
        let second = answer(m, "GET /poll HTTP/1.1\r\nHost: t\r\n\r\n")
        XCTAssertTrue(second.hasSuffix("{\"events\":[],\"next\":1,\"missed\":0}"), second)
        XCTAssertTrue(answer(m, "GET /poll?since=1 HTTP/1.1\r\nHost: t\r\n\r\n").hasSuffix("{\"events\":[],\"next\":1,\"missed\":0}"))
        XCTAssertTrue(answer(m, "GET /poll?since=0 HTTP/1.1\r\nHost: t\r\n\r\n").contains("\"events\":[{\"id\":1,"))
        // Requests whose answer differs never get the cached bytes.
        let head = answer(m, "HEAD /poll HTTP/1.1\r\nHost: t\r\n\r\n")
        XCTAssertTrue(head.hasSuffix("Cache-Control: no-store\r\n\r\n"), head)
        let old = answer(m, "GET /poll HTTP/1.0\r\nConnection: keep-alive\r\n\r\n")
        XCTAssertTrue(old.contains("\r\nConnection: keep-alive\r\n"), old)
        let cors = answer(m, "GET /poll HTTP/1.1\r\nHost: t\r\nOrigin: http://localhost:8080\r\n\r\n")
        XCTAssertTrue(cors.contains("\r\nAccess-Control-Allow-Origin: http://localhost:8080\r\n"), cors)
        XCTAssertEqual(m.statusCodes(), [])
        // Counting is unchanged: every poll above is one request, its bytes exact.
        let poll = m.stats.snapshot().transports[Transport.poll.rawValue]
        XCTAssertEqual(poll.requests, 9)
        XCTAssertEqual(poll.eventsSent, 1)
    }

    func testCloseIsNotAnsweredFromTheCache() {
        let m = MemoryConnection()
        let text = answer(m, "GET /poll HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n")
        XCTAssertTrue(text.contains("\r\nConnection: close\r\n"), text)
        XCTAssertTrue(m.halfClosed || m.closed || m.conversation.isClosed || { if case .draining = m.conversation.state { return true }; return false }())
    }

    /// The latest id is read without the lock while another thread publishes: it never goes
    /// back, and the event it names is always retained and found.
    func testLatestIDIsReadWithoutTheLockWhilePublishing() {
        // History for every event published: a reader descheduled while the publisher runs on
        // (a busy machine) must not find its events evicted, which is retention, not a race.
        let feed = Feed(history: 20_000, rate: 0, size: 8)
        let done = AtomicInt(0)
        let publisher = Thread {
            for _ in 0..<20_000 { _ = feed.publish(topic: .tick, data: "x") }
            done.store(1)
        }
        publisher.start()
        var last = 0
        var reads = 0
        while done.load() == 0 || reads == 0 {
            let id = feed.latestID
            XCTAssertGreaterThanOrEqual(id, last)
            last = id
            if id > 0 {
                let slice = feed.events(after: id - 1, limit: 1)
                XCTAssertEqual(slice.events.first?.id, id)
            }
            // Up to date (lock-free), or what was published since (under the lock): no gap.
            let after = feed.events(after: id, limit: 10)
            XCTAssertEqual(after.missed, 0)
            if let first = after.events.first { XCTAssertEqual(first.id, id + 1) } else { XCTAssertGreaterThanOrEqual(after.next, id) }
            reads += 1
            if reads > 5_000_000 { break }
        }
        XCTAssertEqual(feed.latestID, 20_000)
    }
}
