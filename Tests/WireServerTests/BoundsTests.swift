// PROTOCOL.md §9 over real sockets: each bound is attacked the way a hostile client broke the
// server before it existed, and a watcher connection must keep being served meanwhile.
// Memory figures are the test process's own (the server runs in it), with generous margins:
// each bound's failure mode is hundreds of megabytes, not a few.
import XCTest
import Glibc
import Foundation
import WireCodec
import WireLoop
@testable import WireServer

enum SelfProcess {
    /// Resident set size of this process, in bytes (/proc/self/statm, field 2, in pages).
    static func residentBytes() -> Int {
        guard let text = try? String(contentsOfFile: "/proc/self/statm", encoding: .utf8) else { return 0 }
        let fields = text.split(separator: " ")
        return (Int(fields[1]) ?? 0) * Int(sysconf(Int32(_SC_PAGESIZE)))
    }
    static func openDescriptors() -> Int {
        (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd").count) ?? -1
    }
    /// CPU seconds (user + system) this process has used.
    static func cpuSeconds() -> Double {
        var usage = rusage()
        getrusage(RUSAGE_SELF.rawValue, &usage)
        return Double(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) + Double(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6
    }
}

/// Polls `condition` until it holds or `seconds` pass.
func waitFor(_ seconds: Double, _ condition: () -> Bool) -> Bool {
    let deadline = Date().addingTimeInterval(seconds)
    while Date() < deadline {
        if condition() { return true }
        usleep(20_000)
    }
    return condition()
}

extension RawClient {
    /// Sends without blocking until the kernel refuses more or `limit` bytes or `seconds` pass;
    /// returns how many bytes the kernel took.
    func sendUntilRefused(_ chunk: [UInt8], limit: Int, seconds: Double) -> Int {
        var total = 0
        let deadline = Date().addingTimeInterval(seconds)
        var stalls = 0
        while total < limit && Date() < deadline {
            let n = chunk.withUnsafeBytes { Glibc.send(fd, $0.baseAddress!, chunk.count, Int32(MSG_DONTWAIT | MSG_NOSIGNAL)) }
            if n > 0 { total += n; stalls = 0; continue }
            if errno == EAGAIN { stalls += 1; if stalls > 25 { break }; usleep(20_000); continue }
            break
        }
        return total
    }
}

final class BoundsTests: XCTestCase {
    private func openConnections(_ s: TestServer) -> Int {
        s.connectionsPerLoop().reduce(0, +)
    }

    /// The watcher: a long poll is answered by a published event, promptly.
    private func assertWatcherServed(_ s: TestServer, file: StaticString = #filePath, line: UInt = #line) throws {
        let w = try RawClient(port: s.port)
        let since = s.server.feed.latestID
        w.send("GET /longpoll?since=\(since)&timeout=10 HTTP/1.1\r\nHost: t\r\n\r\n")
        usleep(50_000)
        let started = Date()
        s.server.feed.publish(topic: .chat, data: "watcher")
        let r = w.readResponse()
        XCTAssertEqual(r?.head.status, 200, file: file, line: line)
        XCTAssertTrue(String(decoding: r?.body ?? [], as: UTF8.self).contains("watcher"), file: file, line: line)
        XCTAssertLessThan(Date().timeIntervalSince(started), 2.0, "watcher delayed", file: file, line: line)
    }

    /// PROTOCOL.md §9 Input. The attack: behind a parked long poll, one socket sent 1 GB and
    /// the server buffered it all. Now reading stops after one more request head.
    func testGarbageBehindAParkedLongPollIsNotRead() throws {
        let s = try TestServer()
        let c = try RawClient(port: s.port)
        c.send("GET /longpoll?timeout=30 HTTP/1.1\r\nHost: t\r\n\r\n")
        usleep(50_000)
        let rssBefore = SelfProcess.residentBytes()
        let taken = c.sendUntilRefused([UInt8](repeating: UInt8(ascii: "A"), count: 65536), limit: 256 << 20, seconds: 5)
        XCTAssertLessThan(taken, 64 << 20, "the kernel's buffers fill; the server stops reading")
        XCTAssertLessThan(SelfProcess.residentBytes() - rssBefore, 64 << 20)
        try assertWatcherServed(s)
    }

    /// PROTOCOL.md §9: output amplification. The attack: connections pipeline 15 big polls each
    /// and never read. Answers are made one at a time, each at most --max-queue.
    func testPipelinedPollsThatAreNeverReadHoldAtMostOneAnswerEach() throws {
        let s = try TestServer { $0.maxQueue = 256 * 1024 }
        for _ in 0..<500 { s.server.feed.publish(topic: .tick, data: String(repeating: "p", count: 1000)) }
        let request = String(repeating: "GET /poll?since=0&limit=1000 HTTP/1.1\r\nHost: t\r\n\r\n", count: 15)
        var clients: [RawClient] = []
        for _ in 0..<20 {
            let c = try RawClient(port: s.port)
            c.send(request)
            clients.append(c)
        }
        usleep(300_000)
        // Each connection: at most one answer queued (256 KiB) beyond what the kernel took.
        let buffered = s.server.buffered.total
        XCTAssertLessThanOrEqual(buffered, 20 * 256 * 1024 + 20 * 4096, "queued output: \(buffered)")
        try assertWatcherServed(s)
        // A client that reads gets every answer, in order.
        let reader = clients[0]
        for _ in 0..<15 { XCTAssertEqual(reader.readResponse()?.head.status, 200) }
    }

    /// PROTOCOL.md §9 --max-queue for push subscribers. The attack: WebSocket clients that stop
    /// reading while events flow. Each gets close 1013 and is closed within the close wait.
    func testSlowWebSocketReadersAreDroppedWith1013() throws {
        let s = try TestServer { $0.maxQueue = 64 * 1024 }
        var clients: [RawClient] = []
        for _ in 0..<3 {
            let c = try RawClient(port: s.port)
            c.send("GET /ws HTTP/1.1\r\nHost: t\r\n\(ConversationTests.upgrade)\r\n")
            clients.append(c)
        }
        // Every client subscribed (its 101 read) before the events flow: a loaded machine may
        // take a while to answer the upgrades.
        for c in clients { XCTAssertEqual(c.readResponse()?.head.status, 101, "upgrade answered") }
        // More than the kernel's socket buffers hold (several MB on loopback), then some.
        let payload = String(repeating: "s", count: 8192)
        for i in 0..<2500 {
            s.server.feed.publish(topic: .tick, data: payload)
            if i % 200 == 0 { usleep(10_000) }
        }
        try assertWatcherServed(s)
        // The clients read again: what they get ends with a Close frame carrying 1013. The
        // first answers it (the server then closes at once); the others do not, and the server
        // closes TCP after its close wait (5 s).
        // All three read at once: the server waits 5 s after queueing its Close (PROTOCOL.md
        // §9), so a reader that comes back later than that may find the connection gone.
        var codes = [UInt16?](repeating: nil, count: clients.count)
        let lock = NSLock()
        DispatchQueue.concurrentPerform(iterations: clients.count) { i in
            let code = readUntilClose(clients[i], headRead: true)
            lock.lock(); codes[i] = code; lock.unlock()
        }
        for (i, c) in clients.enumerated() {
            XCTAssertEqual(codes[i], 1013)
            if i == 0 {
                c.send(WebSocketFrameEncoder.encode(opcode: .close, payload: WebSocketFrameEncoder.closePayload(code: 1013), maskingKey: [1, 2, 3, 4]))
                XCTAssertTrue(c.readToEnd().isEmpty, "EOF after the closing handshake")
            }
        }
        XCTAssertTrue(waitFor(15) { self.openConnections(s) == 0 }, "slow readers closed")
    }

    /// Reads a WebSocket stream until a Close frame; returns its code. `headRead`: the 101 head
    /// was already taken (by `readResponse`), and `c.buffer` holds the frames read behind it.
    private func readUntilClose(_ c: RawClient, headRead: Bool = false) -> UInt16? {
        var decoder = WebSocketFrameDecoder(requireMasked: false, maxPayload: 1 << 20)
        var headDone = headRead
        if headRead {
            decoder.feed(c.buffer)
            c.buffer = []
            while let f = try? decoder.nextFrame() {
                if f.opcode == .close { return UInt16(f.payload[0]) << 8 | UInt16(f.payload[1]) }
            }
        }
        var chunk = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = recv(c.fd, &chunk, chunk.count, 0)
            if n <= 0 { return nil }
            var bytes = Array(chunk[0..<n])
            if !headDone {
                c.buffer += bytes
                let crlf2: [UInt8] = [13, 10, 13, 10]
                guard let end = (0...max(0, c.buffer.count - 4)).first(where: { Array(c.buffer[$0..<min($0 + 4, c.buffer.count)]) == crlf2 }) else { continue }
                bytes = Array(c.buffer[(end + 4)...])
                c.buffer = []
                headDone = true
            }
            decoder.feed(bytes)
            while let f = try? decoder.nextFrame() {
                if f.opcode == .close { return UInt16(f.payload[0]) << 8 | UInt16(f.payload[1]) }
            }
        }
    }

    /// PROTOCOL.md §9 --send-timeout: queued output that makes no progress closes the connection.
    func testSendTimeoutClosesAStuckReader() throws {
        let s = try TestServer { $0.sendTimeout = 0.5; $0.maxQueue = 64 << 20 }
        let c = try RawClient(port: s.port)
        var size = Int32(4096)
        setsockopt(c.fd, SOL_SOCKET, SO_RCVBUF, &size, socklen_t(4))
        c.send("GET /sse HTTP/1.1\r\nHost: t\r\n\r\n")
        usleep(100_000)
        let payload = String(repeating: "t", count: 64 * 1024)
        for _ in 0..<200 { s.server.feed.publish(topic: .tick, data: payload) }
        XCTAssertTrue(waitFor(10) { self.openConnections(s) == 0 }, "stuck reader closed after the send timeout")
    }

    /// PROTOCOL.md §9 --max-buffered: past it, the biggest holders are dropped.
    func testMaxBufferedDropsTheBiggestHolders() throws {
        let s = try TestServer { $0.maxBuffered = 4 << 20; $0.maxQueue = 64 << 20; $0.sendTimeout = 60 }
        var clients: [RawClient] = []
        for _ in 0..<4 {
            let c = try RawClient(port: s.port)
            var size = Int32(4096)
            setsockopt(c.fd, SOL_SOCKET, SO_RCVBUF, &size, socklen_t(4))
            c.send("GET /sse HTTP/1.1\r\nHost: t\r\n\r\n")
            clients.append(c)
        }
        usleep(100_000)
        let payload = String(repeating: "b", count: 256 * 1024)
        for _ in 0..<40 { s.server.feed.publish(topic: .tick, data: payload) }
        XCTAssertTrue(waitFor(5) { s.server.buffered.total <= 4 << 20 }, "buffered: \(s.server.buffered.total)")
        XCTAssertLessThan(openConnections(s), 4, "at least one holder dropped")
        XCTAssertTrue(waitFor(5) { (try? RawClient(port: s.port).get("/healthz")?.head.status) == 200 })
    }

    /// PROTOCOL.md §9 --max-clients. The attack: 200,000 distinct names made /stats 18.6 MB.
    func testClientNamesBeyondMaxClientsCountUnderOther() throws {
        let s = try TestServer { $0.maxClients = 20 }
        let c = try RawClient(port: s.port)
        for i in 0..<60 { XCTAssertEqual(c.get("/poll?client=n\(i)")?.head.status, 200) }
        let stats = try s.statsJSON()
        let clients = try XCTUnwrap(stats["clients"] as? [String: Any])
        XCTAssertEqual(clients.count, 21)
        XCTAssertEqual((clients["(other)"] as? [String: Any])?["requests"] as? Int, 40)
    }

    /// PROTOCOL.md §9: out of descriptors, the server stops accepting for a moment instead of
    /// spinning; connections already open are served.
    func testOutOfDescriptorsDoesNotSpin() throws { try outOfDescriptors(loops: 1) }

    /// Two loops watch the one listening socket: each backs off on its own, neither spins.
    func testOutOfDescriptorsDoesNotSpinWithTwoLoops() throws { try outOfDescriptors(loops: 2) }

    private func outOfDescriptors(loops: Int) throws {
        let s = try TestServer { $0.loops = loops; $0.acceptBackoff = 0.1 }
        let keeper = try RawClient(port: s.port)
        XCTAssertEqual(keeper.get("/healthz")?.head.status, 200)
        var saved = rlimit()
        getrlimit(Int32(RLIMIT_NOFILE.rawValue), &saved)
        var low = saved
        low.rlim_cur = rlim_t(SelfProcess.openDescriptors() + 10)
        setrlimit(Int32(RLIMIT_NOFILE.rawValue), &low)
        defer { setrlimit(Int32(RLIMIT_NOFILE.rawValue), &saved) }
        // Connect until this process (client and server share the table) is out of descriptors;
        // the last connections wait in the listener's backlog, where the server cannot take them.
        var fds: [Int32] = []
        defer { for fd in fds { close(fd) } }
        for _ in 0..<20 {
            let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            if fd < 0 { break }
            var addr = sockaddr_in()
            addr.sin_family = sa_family_t(AF_INET)
            addr.sin_port = UInt16(s.port).bigEndian
            addr.sin_addr.s_addr = inet_addr("127.0.0.1")
            _ = withUnsafePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
            fds.append(fd)
        }
        XCTAssertTrue(waitFor(3) { s.server.workers.contains { $0.acceptBackoffs > 0 } }, "the server ran out of descriptors")
        let cpu0 = SelfProcess.cpuSeconds()
        usleep(1_000_000)
        let cpu = SelfProcess.cpuSeconds() - cpu0
        XCTAssertLessThan(cpu, 0.5, "a spinning loop burns a whole core: \(cpu) s of CPU in 1 s")
        XCTAssertEqual(keeper.get("/healthz")?.head.status, 200, "open connections are not disturbed")
    }

    /// Memory is returned after a burst: buffers are sized to need, not kept at their peak.
    /// The attack: 1,000 echoes of 1 MiB left ~900 MB resident.
    func testMemoryIsReturnedAfterABurstOfLargeEchoes() throws {
        let s = try TestServer()
        var clients: [RawClient] = []
        for _ in 0..<24 {
            let c = try RawClient(port: s.port)
            c.send("GET /echo HTTP/1.1\r\nHost: t\r\n\(ConversationTests.upgrade)\r\n")
            while !c.buffer.contains(10) || !String(decoding: c.buffer, as: UTF8.self).contains("\r\n\r\n") { XCTAssertTrue(c.readMore()) }
            c.buffer = []
            clients.append(c)
        }
        let rss = SelfProcess.residentBytes()
        let message = WebSocketFrameEncoder.encode(opcode: .binary, payload: [UInt8](repeating: 0x5A, count: 1 << 20), maskingKey: [1, 2, 3, 4])
        for c in clients {
            for _ in 0..<4 {
                c.send(message)
                var got = 0
                var chunk = [UInt8](repeating: 0, count: 1 << 16)
                while got < (1 << 20) + 10 {
                    let n = recv(c.fd, &chunk, chunk.count, 0)
                    XCTAssertGreaterThan(n, 0); if n <= 0 { break }
                    got += n
                }
            }
        }
        // 24 connections held 1 MiB buffers each (decoder, message, output) at the peak (kept,
        // that is ~38 MB); idle now, they hold none of it.
        usleep(200_000)
        XCTAssertLessThan(SelfProcess.residentBytes() - rss, 16 << 20, "memory kept after the burst")
        try assertWatcherServed(s)
    }

    /// Stopped servers give back their descriptors (listeners, epoll and wake fds) and memory.
    func testStartingAndStoppingServersReleasesDescriptorsAndMemory() throws {
        do { let warm = try TestServer(); _ = try RawClient(port: warm.port).get("/healthz") }
        let fds = SelfProcess.openDescriptors()
        let rss = SelfProcess.residentBytes()
        for _ in 0..<100 {
            let s = try TestServer { $0.loops = 2 }
            _ = try RawClient(port: s.port).get("/healthz")
            s.server.shutdown(grace: 0.5)
        }
        XCTAssertLessThanOrEqual(SelfProcess.openDescriptors(), fds + 2, "descriptors leaked")
        XCTAssertLessThan(SelfProcess.residentBytes() - rss, 24 << 20, "memory not returned")
    }
}
