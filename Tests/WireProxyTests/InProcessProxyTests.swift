// The proxy in this process, in front of a real WireLab server in this process: the relay, its
// sockets and its timers together. Timing: lower bounds strict, upper bounds generous.
import Glibc
import XCTest
import WireCodec
import WireLoop
import WireServer
@testable import WireProxy

/// A blocking client socket with a receive timeout.
final class BlockingSocket {
    let fd: Int32
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
        Socket.setOption(fd, Int32(IPPROTO_TCP), TCP_NODELAY, 1)
        var tv = timeval(tv_sec: 5, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
    }
    deinit { close(fd) }
    func send(_ text: String) {
        let bytes = Array(text.utf8)
        _ = bytes.withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
    }
    /// One whole response (Content-Length framed), or nil on timeout/EOF.
    func readResponse() -> (status: Int, body: [UInt8])? {
        var parser = HTTPResponseParser()
        var status = 0
        var body: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 65536)
        while true {
            while let part = try? parser.nextPart() {
                switch part {
                case .head(let h): status = h.status
                case .body(let b): body += b
                case .end: return (status, body)
                }
            }
            let n = recv(fd, &chunk, chunk.count, 0)
            if n <= 0 { return nil }
            parser.feed(Array(chunk[0..<n]))
        }
    }
}

final class InProcessProxyTests: XCTestCase {
    func startServer() throws -> Server {
        var config = ServerConfig()
        config.port = 0
        config.rate = 0
        config.loops = 1
        let server = Server(config: config)
        try server.start()
        return server
    }

    func startProxy(upstreamPort: Int, _ tune: (inout ProxyConfig) -> Void) throws -> Proxy {
        var config = ProxyConfig()
        config.upstreamPort = upstreamPort
        config.upstreamURL = "http://127.0.0.1:\(upstreamPort)"
        config.loops = 1
        tune(&config)
        let proxy = Proxy(config: config)
        try proxy.start()
        return proxy
    }

    func testARoundTripThroughDelay30TakesAtLeast60msAndCountsEveryByte() throws {
        let server = try startServer()
        defer { server.shutdown() }
        let proxy = try startProxy(upstreamPort: server.port) { $0.delayMs = 30 }
        let client = try BlockingSocket(port: proxy.port)
        client.send("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")     // connects upstream first
        XCTAssertEqual(client.readResponse()?.body, Array("ok".utf8))
        var rtts: [Double] = []
        for _ in 0..<3 {
            let t0 = LoopClock.monotonicNanos()
            client.send("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
            let r = client.readResponse()
            XCTAssertEqual(r?.status, 200)
            rtts.append(Double(LoopClock.monotonicNanos() - t0) / 1e6)
        }
        XCTAssertGreaterThanOrEqual(rtts.min()!, 60, "2 x 30 ms: \(rtts)")
        XCTAssertLessThan(rtts.sorted()[1], 400, "generous upper bound: \(rtts)")
        let counters = proxy.shutdown()
        XCTAssertEqual(counters.connections, 1)
        XCTAssertEqual(counters.downstreamBytesIn, counters.upstreamBytesOut)
        XCTAssertEqual(counters.upstreamBytesIn, counters.downstreamBytesOut)
        XCTAssertEqual(counters.downstreamBytesIn, 4 * "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n".utf8.count)
        XCTAssertGreaterThanOrEqual(counters.fired.delay, 8)
    }

    func testStripUpgradeGets426FromTheServer() throws {
        let server = try startServer()
        defer { server.shutdown() }
        let proxy = try startProxy(upstreamPort: server.port) { $0.stripUpgrade = true }
        let client = try BlockingSocket(port: proxy.port)
        client.send("GET /ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n")
        XCTAssertEqual(client.readResponse()?.status, 426)
        XCTAssertEqual(proxy.shutdown().fired.stripUpgrade, 1)
    }

    func testWithoutLoopsTheProxyTakesHalfTheCoresAtLeastOne() {
        // PROTOCOL.md §7: the proxy shares its machine with the server and the clients.
        XCTAssertEqual([1, 2, 3, 4, 16].map { Proxy.defaultLoops(cores: $0) }, [1, 1, 1, 2, 8])
        XCTAssertEqual(Proxy.defaultLoops(cores: 0), 1, "sysconf failing still gives one loop")
    }

    func testARefusingUpstreamGets502AndTheNextClientToo() throws {
        // A port that was free a moment ago: nothing listens there.
        let probe = try Socket.listen(host: "127.0.0.1", port: 0, reusePort: false)
        let deadPort = Socket.localPort(probe)
        Socket.closeFD(probe)
        let proxy = try startProxy(upstreamPort: deadPort) { _ in }
        for _ in 0..<2 {
            let client = try BlockingSocket(port: proxy.port)
            client.send("GET /poll HTTP/1.1\r\nHost: x\r\n\r\n")
            XCTAssertEqual(client.readResponse()?.status, 502)
        }
        XCTAssertEqual(proxy.shutdown().upstreamFailures, 2)
    }
}
