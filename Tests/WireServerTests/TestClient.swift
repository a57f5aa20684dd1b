// A blocking raw-socket client for the integration tests: it counts every byte it sends and
// receives, so tests can compare with the server's /stats to the byte.
import Glibc
import Foundation
import XCTest
import WireCodec
@testable import WireServer
import WireLoop

final class RawClient {
    let fd: Int32
    private(set) var sent = 0
    private(set) var received = 0
    var buffer: [UInt8] = []

    init(port: Int) throws {
        fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_port = UInt16(port).bigEndian
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        let rc = withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        if rc != 0 { throw SocketError("connect") }
        var tv = timeval(tv_sec: 5, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
    }

    deinit { close(fd) }

    func send(_ bytes: [UInt8]) {
        var off = 0
        while off < bytes.count {
            let n = bytes.withUnsafeBytes { Glibc.send(fd, $0.baseAddress! + off, bytes.count - off, Int32(MSG_NOSIGNAL)) }
            if n <= 0 { return }
            off += n
            sent += n
        }
    }
    func send(_ text: String) { send(Array(text.utf8)) }

    /// Reads once (blocking up to the timeout); false on EOF or timeout.
    @discardableResult
    func readMore() -> Bool {
        var chunk = [UInt8](repeating: 0, count: 65536)
        let n = recv(fd, &chunk, chunk.count, 0)
        if n <= 0 { return false }
        received += n
        buffer += chunk[0..<n]
        return true
    }

    /// Reads one whole HTTP response (fixed length) and returns head and body.
    func readResponse() -> (head: HTTPResponseHeadValue, body: [UInt8])? {
        var parser = HTTPResponseParser()
        var head: HTTPResponseHeadValue?
        var body: [UInt8] = []
        parser.feed(buffer); buffer = []
        while true {
            do {
                while let part = try parser.nextPart() {
                    switch part {
                    case .head(let h): head = h
                    case .body(let b): body += b
                    case .end:
                        buffer = parser.takeBufferedBytes()
                        return head.map { ($0, body) }
                    }
                }
            } catch { return nil }
            guard readMore() else { parser.closeInput(); if let h = head { return (h, body) }; return nil }
            parser.feed(buffer); buffer = []
        }
    }

    func get(_ target: String, headers: String = "") -> (head: HTTPResponseHeadValue, body: [UInt8])? {
        send("GET \(target) HTTP/1.1\r\nHost: t\r\n\(headers)\r\n")
        return readResponse()
    }

    /// Whether bytes (or EOF) are waiting within `ms` milliseconds, without reading them. A
    /// "nothing yet" check: it can only pass wrongly on a stalled machine, never fail wrongly.
    func hasInput(withinMillis ms: Int32) -> Bool {
        if !buffer.isEmpty { return true }
        var p = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
        return poll(&p, 1, ms) > 0
    }

    /// Reads until EOF (or timeout); returns everything read.
    func readToEnd() -> [UInt8] {
        while readMore() {}
        let all = buffer
        buffer = []
        return all
    }
}

/// A server on a free port for one test.
final class TestServer {
    let server: Server
    var port: Int { server.port }

    init(rate: Double = 0, selector: SelectorKind = .epoll, configure: (inout ServerConfig) -> Void = { _ in }) throws {
        var config = ServerConfig()
        config.port = 0
        config.rate = rate
        config.selector = selector
        configure(&config)
        server = Server(config: config)
        try server.start()
    }

    deinit { server.shutdown(grace: 0.5) }

    /// Open connections on each loop, counted on that loop's own thread.
    func connectionsPerLoop() -> [Int] {
        server.workers.map { w in
            let done = DispatchGroupLite(count: 1)
            var n = -1
            w.loop.execute { n = w.connections.count; done.leave() }
            done.wait(seconds: 2)
            return n
        }
    }

    /// Waits (real time, at most `seconds`) until `condition` holds on a fresh /stats answer:
    /// tests wait for what they need, never for a fixed sleep.
    @discardableResult
    func waitForStats(client: String? = nil, seconds: Double = 10, _ condition: ([String: Any]) -> Bool) throws -> [String: Any] {
        let deadline = LoopClock.monotonicNanos() + LoopClock.nanos(seconds: seconds)
        while true {
            let stats = try statsJSON(client: client)
            if condition(stats) { return stats }
            if LoopClock.monotonicNanos() > deadline { return stats }
            usleep(2_000)
        }
    }

    func statsJSON(client: String? = nil) throws -> [String: Any] {
        let c = try RawClient(port: port)
        let target = client.map { "/stats?client=\($0)" } ?? "/stats"
        guard let r = c.get(target) else { throw SocketError("stats", 0) }
        return try JSONSerialization.jsonObject(with: Data(r.body)) as! [String: Any]
    }
}
