// A real middlebox for lesson 10: Debian's nginx as a reverse proxy in front of the lesson's
// server, started with a configuration written under .build/wirelab-nginx/, on 127.0.0.1 and a
// free port, as its own foreground process (no root, no system files touched).
//
// Three configurations, printed by the lesson so a reader can copy them:
//   defaults    `proxy_pass` and nothing else: nginx speaks HTTP/1.0 upstream without the
//               Upgrade and Connection headers (they are hop-by-hop, RFC 9110 §7.6.1), so a
//               WebSocket upgrade never reaches the server; response buffering is on, but nginx
//               obeys the upstream's `X-Accel-Buffering: no` (our SSE responses send it,
//               PROTOCOL.md §2); idle upstream reads time out after 60 s.
//   buffering   the defaults, and `proxy_ignore_headers X-Accel-Buffering`: what a buffering box
//               that does not know nginx's header does to an event stream.
//   fixed       HTTP/1.1 upstream, Upgrade and Connection forwarded (the nginx WebSocket
//               recipe), buffering off, a read timeout longer than any silence.
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation
import WireLoop

final class NginxProxy {
    let port: Int
    private let process = Process()

    /// Where the configuration, logs and nginx's temporary files go.
    static var directory: String {
        let lessons = LessonFiles.directory() ?? FileManager.default.currentDirectoryPath + "/Lessons"
        return (lessons as NSString).deletingLastPathComponent + "/.build/wirelab-nginx"
    }

    static func executable() -> String? {
        ["/usr/sbin/nginx", "/usr/bin/nginx", "/usr/local/sbin/nginx"].first { FileManager.default.isExecutableFile(atPath: $0) }
    }

    /// The `location` block of each mode, as the lesson prints it.
    static func locationBlock(_ mode: String, upstreamPort: Int? = nil) -> [String] {
        let upstream = upstreamPort.map { "http://127.0.0.1:\($0)" } ?? "http://127.0.0.1:SERVER_PORT"
        switch mode {
        case "fixed":
            return ["location / {",
                    "    proxy_pass http://wirelab_upstream;   # upstream block: server \(upstream.dropFirst(7)); keepalive 16;",
                    "    proxy_http_version 1.1;                 # 1.0 by default: no chunked streams, no upgrade",
                    "    proxy_set_header Upgrade $http_upgrade; # hop-by-hop: nginx drops them unless told",
                    "    proxy_set_header Connection $connection_upgrade;   # map: \"upgrade\" or \"\"",
                    "    proxy_set_header Host $host;",
                    "    proxy_buffering off;                    # pass each chunk on as it comes",
                    "    proxy_read_timeout 1h;                  # longer than any silence between events",
                    "}"]
        case "buffering":
            return ["location / {",
                    "    proxy_pass \(upstream);",
                    "    proxy_ignore_headers X-Accel-Buffering; # as a box that does not know nginx's header",
                    "}"]
        default:
            return ["location / {",
                    "    proxy_pass \(upstream);                  # everything else nginx's default",
                    "}"]
        }
    }

    static func config(mode: String, port: Int, upstreamPort: Int, dir: String) -> String {
        """
        # Written by `wirelab lesson 10` (Sources/WireLessons/NginxProxy.swift); mode: \(mode)
        daemon off;
        master_process off;
        worker_processes 1;
        pid \(dir)/nginx.pid;
        error_log \(dir)/error.log warn;
        events { worker_connections 1024; }
        http {
            access_log off;
            client_body_temp_path \(dir)/tmp/body;
            proxy_temp_path \(dir)/tmp/proxy;
            fastcgi_temp_path \(dir)/tmp/fastcgi;
            uwsgi_temp_path \(dir)/tmp/uwsgi;
            scgi_temp_path \(dir)/tmp/scgi;
            map $http_upgrade $connection_upgrade { default upgrade; '' ''; }
            upstream wirelab_upstream { server 127.0.0.1:\(upstreamPort); keepalive 16; }
            server {
                listen 127.0.0.1:\(port);
        \(locationBlock(mode, upstreamPort: upstreamPort).map { "        " + $0 }.joined(separator: "\n"))
            }
        }

        """
    }

    init(upstreamPort: Int, mode: String, timeoutSeconds: Double = 5) throws {
        guard let exe = Self.executable() else {
            throw LessonError("nginx is not installed: `make lesson-10` installs it (apt-get install nginx-light), or install it yourself")
        }
        let dir = Self.directory
        try FileManager.default.createDirectory(atPath: dir + "/tmp", withIntermediateDirectories: true)
        port = try Self.freePort()
        let path = dir + "/nginx.conf"
        try Self.config(mode: mode, port: port, upstreamPort: upstreamPort, dir: dir).write(toFile: path, atomically: true, encoding: .utf8)
        process.executableURL = URL(fileURLWithPath: exe)
        process.arguments = ["-e", dir + "/error.log", "-p", dir, "-c", path]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        // Ready when it accepts a connection (bounded wait).
        let deadline = LoopClock.monotonicNanos() + Int64(timeoutSeconds * 1e9)
        while LoopClock.monotonicNanos() < deadline {
            if Self.accepts(port) { return }
            if !process.isRunning { break }
            usleep(20_000)
        }
        stop()
        let log = (try? String(contentsOfFile: dir + "/error.log", encoding: .utf8))?.split(separator: "\n").suffix(3).joined(separator: "\n") ?? ""
        throw LessonError("nginx did not start on 127.0.0.1:\(port) (see \(dir)/error.log): \(log)")
    }

    func stop() {
        guard process.isRunning else { return }
        kill(process.processIdentifier, SIGQUIT)     // graceful: finish, then exit
        let deadline = LoopClock.monotonicNanos() + 3_000_000_000
        while process.isRunning && LoopClock.monotonicNanos() < deadline { usleep(10_000) }
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        process.waitForExit()
    }

    /// A port the kernel picks for a socket bound to 0 (free now; nginx binds it next).
    static func freePort() throws -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw LessonError("socket: errno \(errno)") }
        defer { close(fd) }
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        addr.sin_port = 0
        var len = socklen_t(MemoryLayout<sockaddr_in>.size)
        let ok = withUnsafeMutablePointer(to: &addr) { p in
            p.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, len) == 0 && getsockname(fd, $0, &len) == 0 }
        }
        guard ok else { throw LessonError("bind: errno \(errno)") }
        return Int(UInt16(bigEndian: addr.sin_port))
    }

    static func accepts(_ port: Int) -> Bool {
        guard let c = try? BlockingClient(host: "127.0.0.1", port: port) else { return false }
        _ = c
        return true
    }
}
