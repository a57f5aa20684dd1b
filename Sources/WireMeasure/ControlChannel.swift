// Control requests: GET /stats, GET /time, POST /control — blocking, one short connection
// each, on the calling thread. None is a transport endpoint and none carries `client=`, so the
// server counts them under no transport and no client (PROTOCOL.md §5: the race's tagged clients
// are the only thing it sends to /poll, /longpoll, /sse, /ws).
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation
import WireLoop
import WireCodec

public struct ControlError: Error, CustomStringConvertible {
    public var message: String
    public var description: String { message }
}

struct ControlChannel {
    let endpoint: RaceEndpoint
    var timeoutSeconds = 5.0

    struct Answer {
        var status: Int
        var body: [UInt8]
        /// Wall clock (µs) just before the request was written and just after the answer ended.
        var sent: Int64
        var received: Int64
    }

    func get(_ target: String) throws -> Answer { try exchange("GET", target, body: []) }

    func post(_ target: String, json: String) throws -> Answer {
        try exchange("POST", target, body: Array(json.utf8), contentType: "application/json")
    }

    /// The server's `events_published` (its latest id) from GET /stats.
    func latestID() throws -> Int {
        let a = try get("/stats")
        guard a.status == 200, let object = try? JSONSerialization.jsonObject(with: Data(a.body)) as? [String: Any],
              let n = object["events_published"] as? NSNumber else {
            throw ControlError(message: "GET /stats on \(endpoint.hostHeader) did not answer with events_published")
        }
        return n.intValue
    }

    /// GET /stats, the whole object.
    func stats() throws -> [String: Any] {
        let a = try get("/stats")
        guard a.status == 200, let object = try? JSONSerialization.jsonObject(with: Data(a.body)) as? [String: Any] else {
            throw ControlError(message: "GET /stats on \(endpoint.hostHeader) did not answer JSON")
        }
        return object
    }

    private func exchange(_ method: String, _ target: String, body: [UInt8], contentType: String? = nil) throws -> Answer {
        let where_ = "\(method) http://\(endpoint.hostHeader)\(target)"
        let fd: Int32
        do { fd = try Socket.connect(host: endpoint.host, port: endpoint.port) } catch {
            throw ControlError(message: "cannot connect to http://\(endpoint.hostHeader): \(error)")
        }
        defer { Socket.closeFD(fd) }
        let deadline = LoopClock.monotonicNanos() + LoopClock.nanos(seconds: timeoutSeconds)
        func wait(_ events: Int16) throws {
            var p = pollfd(fd: fd, events: events, revents: 0)
            while true {
                let left = (deadline - LoopClock.monotonicNanos()) / 1_000_000
                if left <= 0 { throw ControlError(message: "\(where_): no answer within \(Int(timeoutSeconds)) s") }
                let rc = poll(&p, 1, Int32(left))
                if rc > 0 { return }
                if rc < 0 && errno != EINTR { throw ControlError(message: "\(where_): poll failed") }
            }
        }
        try wait(Int16(POLLOUT))
        let err = Socket.pendingError(fd)
        if err != 0 { throw ControlError(message: "cannot connect to http://\(endpoint.hostHeader): \(String(cString: strerror(err)))") }

        var headers = HTTPHeaders()
        headers.add(name: "Host", value: endpoint.hostHeader)
        headers.add(name: "Connection", value: "close")
        if let ct = contentType { headers.add(name: "Content-Type", value: ct) }
        let bytes = HTTPSerializer.request(method: method, target: target, headers: headers, body: body)
        let sent = LoopClock.wallMicros()
        var offset = 0
        while offset < bytes.count {
            switch bytes.withUnsafeBytes({ Socket.write(fd, UnsafeRawBufferPointer(rebasing: $0[offset...])) }) {
            case .bytes(let n): offset += n
            case .wouldBlock: try wait(Int16(POLLOUT))
            case .closed: throw ControlError(message: "\(where_): connection closed")
            }
        }
        var parser = HTTPResponseParser()
        var status = 0
        var answer: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 64 * 1024)
        while true {
            do {
                while let part = try parser.nextPart() {
                    switch part {
                    case .head(let h): status = h.status
                    case .body(let b): answer += b
                    case .end: return Answer(status: status, body: answer, sent: sent, received: LoopClock.wallMicros())
                    }
                }
            } catch {
                throw ControlError(message: "\(where_): bad answer: \(error)")
            }
            try wait(Int16(POLLIN))
            let r = buffer.withUnsafeMutableBytes { Socket.read(fd, into: $0) }
            switch r {
            case .bytes(let n): parser.feed(Array(buffer[0..<n]))
            case .wouldBlock: continue
            case .closed: parser.closeInput()
            }
        }
    }
}

/// Clock offset, NTP-style: for each of `samples` requests to GET /time,
///     offset = server_ts − (t0 + t1) / 2,      uncertainty ±(t1 − t0) / 2,
/// and the sample with the smallest round trip wins (its midpoint guess is the tightest).
public struct ClockEstimate: Equatable {
    /// Server clock minus ours, µs.
    public var offsetMicros: Int64
    /// Half the best round trip, µs.
    public var uncertaintyMicros: Int64
    public var samples: Int

    static func measure(_ control: ControlChannel, samples: Int = 8) throws -> ClockEstimate {
        var best: (offset: Int64, rtt: Int64)?
        for _ in 0..<samples {
            let a = try control.get("/time")
            guard a.status == 200, let text = String(bytes: a.body, encoding: .utf8),
                  let range = text.range(of: "\"ts\":") else {
                throw ControlError(message: "GET /time did not answer {\"ts\":µs}")
            }
            let digits = text[range.upperBound...].prefix { $0.isNumber }
            guard let ts = Int64(digits) else { throw ControlError(message: "GET /time did not answer {\"ts\":µs}") }
            let rtt = a.received - a.sent
            let offset = ts - (a.sent + a.received) / 2
            if best == nil || rtt < best!.rtt { best = (offset, rtt) }
        }
        return ClockEstimate(offsetMicros: best!.offset, uncertaintyMicros: best!.rtt / 2, samples: samples)
    }

    /// "clock: offset −3.2 ms ± 0.4 ms from 8 samples"
    public var description: String {
        let ms = (Double(offsetMicros) / 100).rounded() / 10
        let sign = ms < 0 ? "−" : "+"
        return "clock: offset \(sign)\(String(format: "%.1f", abs(ms))) ms ± \(String(format: "%.1f", Double(uncertaintyMicros) / 1000)) ms from \(samples) samples"
    }
}
