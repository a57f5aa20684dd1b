// A blocking TCP client for `inspect` and the lessons: one exchange at a time, read with a
// timeout. (The measurement clients in WireMeasure run on the event loop; showing one exchange
// needs nothing more than this.)
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import WireLoop

public final class BlockingClient {
    let fd: Int32
    public private(set) var buffer: [UInt8] = []

    public init(host: String, port: Int, timeoutSeconds: Int = 10) throws {
        let candidates = try Socket.resolve(host: host, port: port)
        var connected: Int32 = -1
        for (family, address) in candidates {
            #if canImport(Glibc)
            let fd = socket(family, Int32(SOCK_STREAM.rawValue), 0)
            #else
            let fd = socket(family, SOCK_STREAM, 0)
            #endif
            if fd < 0 { continue }
            let rc = address.withUnsafeBytes {
                connect(fd, $0.baseAddress!.assumingMemoryBound(to: sockaddr.self), socklen_t(address.count))
            }
            if rc == 0 { connected = fd; break }
            Socket.closeFD(fd)
        }
        guard connected >= 0 else { throw SocketError("connect \(host):\(port)") }
        fd = connected
        var tv = timeval(tv_sec: timeoutSeconds, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
        Socket.setOption(fd, Int32(IPPROTO_TCP), TCP_NODELAY, 1)
    }

    deinit { Socket.closeFD(fd) }

    public func send(_ bytes: [UInt8]) {
        var offset = 0
        while offset < bytes.count {
            let n = bytes.withUnsafeBytes { Socket.write(fd, UnsafeRawBufferPointer(rebasing: $0[offset...])) }
            guard case .bytes(let k) = n, k > 0 else { return }
            offset += k
        }
    }

    /// Reads once; false on EOF or timeout.
    @discardableResult
    public func readMore() -> Bool {
        var chunk = [UInt8](repeating: 0, count: 65536)
        let n = recv(fd, &chunk, chunk.count, 0)
        if n <= 0 { return false }
        buffer += chunk[0..<n]
        return true
    }

    /// Reads until `done(buffer)` says enough, or EOF/timeout. Returns whether it was satisfied.
    @discardableResult
    public func read(until done: ([UInt8]) -> Bool) -> Bool {
        while !done(buffer) {
            if !readMore() { return done(buffer) }
        }
        return true
    }

    /// Removes and returns the first `count` buffered bytes.
    public func take(_ count: Int) -> [UInt8] {
        let n = min(count, buffer.count)
        let out = Array(buffer[0..<n])
        buffer.removeFirst(n)
        return out
    }

    /// Index just past the first CRLFCRLF, if the head is complete.
    public static func headEnd(_ bytes: [UInt8]) -> Int? {
        guard bytes.count >= 4 else { return nil }
        for i in 3..<bytes.count where bytes[i] == 0x0A && bytes[i - 1] == 0x0D && bytes[i - 2] == 0x0A && bytes[i - 3] == 0x0D {
            return i + 1
        }
        return nil
    }
}
