// The raw-TCP floor: what one 64-byte message costs over a loopback socket with nothing on top
// (no HTTP, no framing, no event loop), so transport latencies can be read as multiples of it.
//
// Two threads, blocking sockets, TCP_NODELAY: the client writes 64 bytes, the echo thread reads
// them and writes them back. One-way latency is estimated as half the round trip.
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation
import WireLoop

public struct FloorResult: Equatable {
    public var roundTrips: Int
    public var messageBytes: Int
    /// Half of each round trip, in nanoseconds (a loopback round trip is a few µs).
    public var oneWayNanos: LatencyHistogram
    /// The same in whole microseconds, the unit of race's latencies (LatencySummary(oneWay)).
    public var oneWay: LatencyHistogram

    /// p50, p95, p99, max, mean in ms.
    public var summary: LatencySummary? {
        let h = oneWayNanos
        guard let p50 = h.value(atPercentile: 50), let p95 = h.value(atPercentile: 95), let p99 = h.value(atPercentile: 99) else { return nil }
        return LatencySummary(p50: Double(p50) / 1e6, p95: Double(p95) / 1e6, p99: Double(p99) / 1e6,
                              max: Double(h.max) / 1e6, mean: h.mean / 1e6)
    }

    public var json: String {
        let s = summary
        return JSONValue.object([
            ("floor", .string("tcp-loopback-ping-pong")), ("message_bytes", .number(Double(messageBytes))),
            ("round_trips", .number(Double(roundTrips))),
            ("one_way_ms", .object([("p50", .number(s?.p50 ?? 0)), ("p95", .number(s?.p95 ?? 0)),
                                    ("p99", .number(s?.p99 ?? 0)), ("max", .number(s?.max ?? 0)),
                                    ("mean", .number(s?.mean ?? 0))])),
        ]).text
    }
}

public enum Floor {
    public static func measure(roundTrips: Int = 20_000, messageBytes: Int = 64) throws -> FloorResult {
        let listener: Int32
        do { listener = try Socket.listen(host: "127.0.0.1", port: 0, reusePort: false) } catch {
            throw RaceError("floor: cannot listen: \(error)")
        }
        let port = Socket.localPort(listener)
        let total = roundTrips + roundTrips / 10      // the first 10 % warm up and are not recorded
        let echo = Thread {
            var fd: Int32 = -1
            while fd < 0 {
                if let a = Socket.accept(listener) { fd = a.fd } else { usleep(100) }
            }
            Self.setBlocking(fd)
            var buffer = [UInt8](repeating: 0, count: messageBytes)
            for _ in 0..<total {
                guard Self.readExactly(fd, &buffer), Self.writeAll(fd, buffer) else { break }
            }
            Socket.closeFD(fd)
        }
        echo.start()
        let fd = try Socket.connect(host: "127.0.0.1", port: port)
        var p = pollfd(fd: fd, events: Int16(POLLOUT), revents: 0)
        _ = poll(&p, 1, 5_000)
        Self.setBlocking(fd)
        var message = [UInt8](repeating: UInt8(ascii: "x"), count: messageBytes)
        var histogram = LatencyHistogram(), micros = LatencyHistogram()
        for i in 0..<total {
            let t0 = LoopClock.monotonicNanos()
            guard Self.writeAll(fd, message), Self.readExactly(fd, &message) else {
                Socket.closeFD(fd); Socket.closeFD(listener)
                throw RaceError("floor: the echo connection broke")
            }
            let t1 = LoopClock.monotonicNanos()
            if i >= total - roundTrips {
                histogram.record((t1 - t0) / 2)
                micros.record((t1 - t0 + 1_000) / 2_000)     // rounded to the nearest µs
            }
        }
        Socket.closeFD(fd)
        Socket.closeFD(listener)
        return FloorResult(roundTrips: roundTrips, messageBytes: messageBytes, oneWayNanos: histogram, oneWay: micros)
    }

    private static func setBlocking(_ fd: Int32) {
        let flags = fcntl(fd, F_GETFL)
        _ = fcntl(fd, F_SETFL, flags & ~O_NONBLOCK)
    }

    private static func writeAll(_ fd: Int32, _ bytes: [UInt8]) -> Bool {
        var off = 0
        while off < bytes.count {
            let n = bytes.withUnsafeBytes { send(fd, $0.baseAddress! + off, bytes.count - off, Int32(MSG_NOSIGNAL)) }
            if n <= 0 { if errno == EINTR { continue }; return false }
            off += n
        }
        return true
    }

    private static func readExactly(_ fd: Int32, _ buffer: inout [UInt8]) -> Bool {
        var off = 0
        let count = buffer.count
        while off < count {
            let n = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress! + off, count - off, 0) }
            if n <= 0 { if n < 0 && errno == EINTR { continue }; return false }
            off += n
        }
        return true
    }
}
