// Thin, non-blocking socket calls: listen, accept, connect, read, write, close.
// Everything returns plain values; errors are errno numbers wrapped in SocketError.
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import CWireSystem

public struct SocketError: Error, CustomStringConvertible {
    public var call: String
    public var code: Int32
    public init(_ call: String, _ code: Int32 = errno) { self.call = call; self.code = code }
    public var description: String { code == 0 ? call : "\(call): \(String(cString: strerror(code)))" }
}

/// The result of one non-blocking read or write.
public enum IOResult {
    case bytes(Int)      // > 0
    case wouldBlock      // EAGAIN: try again when the selector says so
    case closed          // read: EOF (peer closed); write: EPIPE/ECONNRESET
}

public enum Socket {
    public static func setNonBlocking(_ fd: Int32) {
        let flags = fcntl(fd, F_GETFL)
        _ = fcntl(fd, F_SETFL, flags | O_NONBLOCK)
    }

    public static func setOption(_ fd: Int32, _ level: Int32, _ name: Int32, _ value: Int32) {
        var v = value
        _ = setsockopt(fd, level, name, &v, socklen_t(MemoryLayout<Int32>.size))
    }

    /// Resolves host (name or literal, IPv4 or IPv6) for a listening or connecting socket.
    public static func resolve(host: String, port: Int) throws -> [(family: Int32, address: [UInt8])] {
        var hints = addrinfo()
        hints.ai_family = AF_UNSPEC
        #if canImport(Glibc)
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        #else
        hints.ai_socktype = SOCK_STREAM
        #endif
        hints.ai_flags = AI_NUMERICSERV
        var result: UnsafeMutablePointer<addrinfo>?
        let rc = getaddrinfo(host, String(port), &hints, &result)
        guard rc == 0, let first = result else {
            throw SocketError("getaddrinfo(\(host)): \(String(cString: gai_strerror(rc)))", 0)
        }
        defer { freeaddrinfo(first) }
        var out: [(Int32, [UInt8])] = []
        var p: UnsafeMutablePointer<addrinfo>? = first
        while let ai = p {
            let bytes = UnsafeRawBufferPointer(start: ai.pointee.ai_addr, count: Int(ai.pointee.ai_addrlen))
            out.append((ai.pointee.ai_family, Array(bytes)))
            p = ai.pointee.ai_next
        }
        return out
    }

    /// `count` listeners on one port, one per loop thread (SO_REUSEPORT: the kernel spreads new
    /// connections across them). SO_REUSEPORT would also let us join *another* process's group
    /// on a busy port and share its connections, so with more than one listener the port is first
    /// claimed alone: a busy port fails here, with EADDRINUSE. `port` 0 picks a free port; the
    /// port actually bound is returned.
    public static func listenGroup(host: String, port: Int, count: Int) throws -> (fds: [Int32], port: Int) {
        let reuse = count > 1
        var port = port
        if reuse {
            let probe = try listen(host: host, port: port, reusePort: false)
            port = localPort(probe)
            _ = closeFD(probe)
        }
        var fds = [try listen(host: host, port: port, reusePort: reuse)]
        port = localPort(fds[0])
        for _ in 1..<max(1, count) {
            do { fds.append(try listen(host: host, port: port, reusePort: true)) }
            catch { for fd in fds { _ = closeFD(fd) }; throw error }
        }
        return (fds, port)
    }

    /// A non-blocking listening socket. `reusePort` lets each loop thread own a listener on the
    /// same port; the kernel spreads new connections across them (Linux SO_REUSEPORT).
    public static func listen(host: String, port: Int, reusePort: Bool, backlog: Int32 = 4096) throws -> Int32 {
        let candidates = try resolve(host: host, port: port)
        var lastError = SocketError("bind", EADDRNOTAVAIL)
        for (family, address) in candidates {
            #if canImport(Glibc)
            let fd = socket(family, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
            #else
            let fd = socket(family, SOCK_STREAM, 0)
            #endif
            if fd < 0 { lastError = SocketError("socket"); continue }
            setOption(fd, SOL_SOCKET, SO_REUSEADDR, 1)
            if reusePort { setOption(fd, SOL_SOCKET, SO_REUSEPORT, 1) }
            let ok = address.withUnsafeBytes {
                bind(fd, $0.baseAddress!.assumingMemoryBound(to: sockaddr.self), socklen_t(address.count))
            }
            if ok != 0 { lastError = SocketError("bind \(host):\(port)"); _ = closeFD(fd); continue }
            if Glibc.listen(fd, backlog) != 0 { lastError = SocketError("listen"); _ = closeFD(fd); continue }
            setNonBlocking(fd)
            return fd
        }
        throw lastError
    }

    /// The port a socket is bound to (after `--port 0`).
    public static func localPort(_ fd: Int32) -> Int {
        var storage = sockaddr_storage()
        var len = socklen_t(MemoryLayout<sockaddr_storage>.size)
        _ = withUnsafeMutablePointer(to: &storage) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &len) }
        }
        return portOf(storage)
    }

    static func portOf(_ storage: sockaddr_storage) -> Int {
        var s = storage
        if Int32(s.ss_family) == AF_INET {
            return withUnsafePointer(to: &s) { $0.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { Int(UInt16(bigEndian: $0.pointee.sin_port)) } }
        } else {
            return withUnsafePointer(to: &s) { $0.withMemoryRebound(to: sockaddr_in6.self, capacity: 1) { Int(UInt16(bigEndian: $0.pointee.sin6_port)) } }
        }
    }

    /// Accepts one connection, non-blocking, with TCP_NODELAY (we write whole messages; Nagle
    /// would add up to 40 ms to a small event). Returns nil when none is pending.
    public static func accept(_ listener: Int32) -> (fd: Int32, isLoopback: Bool)? {
        var storage = sockaddr_storage()
        var len = socklen_t(MemoryLayout<sockaddr_storage>.size)
        let fd = withUnsafeMutablePointer(to: &storage) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                cws_accept_nonblocking(listener, $0, &len)
            }
        }
        if fd < 0 { return nil }
        setOption(fd, Int32(IPPROTO_TCP), TCP_NODELAY, 1)
        return (fd, isLoopback(storage))
    }

    public enum AcceptResult {
        case accepted(fd: Int32, isLoopback: Bool)
        /// Nothing pending (EAGAIN), or the connection was gone before we took it.
        case none
        /// EMFILE / ENFILE / ENOBUFS / ENOMEM: the pending connection stays in the backlog, so
        /// the listener stays readable; the caller must stop watching it for a moment or spin.
        case outOfResources
    }

    /// `accept`, telling "nothing pending" from "out of descriptors" (PROTOCOL.md §9).
    public static func acceptNext(_ listener: Int32) -> AcceptResult {
        if let (fd, loopback) = accept(listener) { return .accepted(fd: fd, isLoopback: loopback) }
        switch errno {
        case EMFILE, ENFILE, ENOBUFS, ENOMEM: return .outOfResources
        default: return .none
        }
    }

    /// The literal address a connection arrived at, as an origin writes it: "10.0.0.5" or
    /// "[fe80::1]" (an IPv4-mapped IPv6 address as its IPv4 form). nil on error.
    public static func localAddressLiteral(_ fd: Int32) -> String? {
        var storage = sockaddr_storage()
        var len = socklen_t(MemoryLayout<sockaddr_storage>.size)
        let rc = withUnsafeMutablePointer(to: &storage) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &len) }
        }
        guard rc == 0 else { return nil }
        var text = [CChar](repeating: 0, count: Int(INET6_ADDRSTRLEN) + 1)
        if Int32(storage.ss_family) == AF_INET {
            var addr = withUnsafePointer(to: &storage) { $0.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { $0.pointee.sin_addr } }
            guard inet_ntop(AF_INET, &addr, &text, socklen_t(text.count)) != nil else { return nil }
            return String(cString: text)
        }
        var addr6 = withUnsafePointer(to: &storage) { $0.withMemoryRebound(to: sockaddr_in6.self, capacity: 1) { $0.pointee.sin6_addr } }
        let bytes = withUnsafeBytes(of: addr6) { Array($0) }
        if bytes[0..<10].allSatisfy({ $0 == 0 }) && bytes[10] == 0xff && bytes[11] == 0xff {
            return bytes[12...].map(String.init).joined(separator: ".")
        }
        guard inet_ntop(AF_INET6, &addr6, &text, socklen_t(text.count)) != nil else { return nil }
        return "[" + String(cString: text) + "]"
    }

    /// 127.0.0.0/8, ::1 and ::ffff:127.x.x.x are loopback.
    static func isLoopback(_ storage: sockaddr_storage) -> Bool {
        var s = storage
        if Int32(s.ss_family) == AF_INET {
            let addr = withUnsafePointer(to: &s) { $0.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { UInt32(bigEndian: $0.pointee.sin_addr.s_addr) } }
            return addr >> 24 == 127
        }
        if Int32(s.ss_family) == AF_INET6 {
            let bytes: [UInt8] = withUnsafePointer(to: &s) {
                $0.withMemoryRebound(to: sockaddr_in6.self, capacity: 1) {
                    withUnsafeBytes(of: $0.pointee.sin6_addr) { Array($0) }
                }
            }
            if bytes == [UInt8](repeating: 0, count: 15) + [1] { return true }
            if bytes[0..<10].allSatisfy({ $0 == 0 }) && bytes[10] == 0xff && bytes[11] == 0xff && bytes[12] == 127 { return true }
        }
        return false
    }

    /// Starts a non-blocking connect; the socket becomes writable when connected.
    public static func connect(host: String, port: Int) throws -> Int32 {
        let candidates = try resolve(host: host, port: port)
        var lastError = SocketError("connect", ECONNREFUSED)
        for (family, address) in candidates {
            #if canImport(Glibc)
            let fd = socket(family, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue) | Int32(SOCK_NONBLOCK.rawValue), 0)
            #else
            let fd = socket(family, SOCK_STREAM, 0)
            if fd >= 0 { setNonBlocking(fd) }
            #endif
            if fd < 0 { lastError = SocketError("socket"); continue }
            setOption(fd, Int32(IPPROTO_TCP), TCP_NODELAY, 1)
            let rc = address.withUnsafeBytes {
                #if canImport(Glibc)
                Glibc.connect(fd, $0.baseAddress!.assumingMemoryBound(to: sockaddr.self), socklen_t(address.count))
                #else
                Darwin.connect(fd, $0.baseAddress!.assumingMemoryBound(to: sockaddr.self), socklen_t(address.count))
                #endif
            }
            if rc == 0 || errno == EINPROGRESS { return fd }
            lastError = SocketError("connect \(host):\(port)")
            _ = closeFD(fd)
        }
        throw lastError
    }

    /// The pending error of a non-blocking connect (0 when connected).
    public static func pendingError(_ fd: Int32) -> Int32 {
        var err: Int32 = 0
        var len = socklen_t(MemoryLayout<Int32>.size)
        _ = getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len)
        return err
    }

    @inline(__always)
    public static func read(_ fd: Int32, into buffer: UnsafeMutableRawBufferPointer) -> IOResult {
        while true {
            let n = recv(fd, buffer.baseAddress, buffer.count, 0)
            if n > 0 { return .bytes(n) }
            if n == 0 { return .closed }
            if errno == EINTR { continue }
            if errno == EAGAIN || errno == EWOULDBLOCK { return .wouldBlock }
            return .closed
        }
    }

    @inline(__always)
    public static func write(_ fd: Int32, _ bytes: UnsafeRawBufferPointer) -> IOResult {
        if bytes.count == 0 { return .bytes(0) }
        while true {
            #if canImport(Glibc)
            let n = send(fd, bytes.baseAddress, bytes.count, Int32(MSG_NOSIGNAL))
            #else
            let n = send(fd, bytes.baseAddress, bytes.count, 0)
            #endif
            if n >= 0 { return .bytes(n) }
            if errno == EINTR { continue }
            if errno == EAGAIN || errno == EWOULDBLOCK { return .wouldBlock }
            return .closed
        }
    }

    @discardableResult
    public static func closeFD(_ fd: Int32) -> Int32 {
        #if canImport(Glibc)
        return Glibc.close(fd)
        #else
        return Darwin.close(fd)
        #endif
    }

    /// Half-close: we are done writing (used after a final response so the peer reads EOF).
    public static func shutdownWrite(_ fd: Int32) {
        _ = shutdown(fd, Int32(SHUT_WR))
    }

    /// Kernel TCP counters (segments in/out) for wire-byte estimates. nil where unsupported.
    public static func tcpInfo(_ fd: Int32) -> cws_tcp_info? {
        var info = cws_tcp_info()
        return cws_tcp_info_get(fd, &info) == 0 ? info : nil
    }

    /// Raises the open-file soft limit to the hard limit (10,000 connections need it).
    @discardableResult
    public static func raiseOpenFileLimit() -> Int {
        var rl = rlimit()
        #if canImport(Glibc)
        let resource = Int32(RLIMIT_NOFILE.rawValue)
        getrlimit(__rlimit_resource_t(UInt32(resource)), &rl)
        rl.rlim_cur = rl.rlim_max
        setrlimit(__rlimit_resource_t(UInt32(resource)), &rl)
        getrlimit(__rlimit_resource_t(UInt32(resource)), &rl)
        #else
        getrlimit(RLIMIT_NOFILE, &rl)
        rl.rlim_cur = min(rl.rlim_max, 10_240 * 2)
        setrlimit(RLIMIT_NOFILE, &rl)
        #endif
        return Int(rl.rlim_cur)
    }
}
