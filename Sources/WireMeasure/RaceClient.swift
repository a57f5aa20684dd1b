// RaceClient: one client's TCP connection on the race's event loop — connect, write, read,
// close — with the byte accounting of PROTOCOL.md §5 taken at the socket. The four transport
// clients (ShortPollClient, LongPollClient, SSEClient, WebSocketClient) subclass it and only
// say what to send and what the bytes mean.
//
// Lifecycle:  idle ──connect()──▶ connecting ──writable, SO_ERROR 0──▶ open ──closeSocket()──▶ idle
// A client may open several connections in a run (a server that closes an idle keep-alive
// connection, a dropped stream); each counts in `counts.connections`.
// Everything here runs on the race loop's thread.
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import WireLoop
import WireCodec

/// What all clients of one race share: the loop, the endpoint, a read buffer, the run's id range,
/// and each transport's latency histogram. Loop thread only.
final class RaceContext {
    let loop: EventLoop
    let endpoint: RaceEndpoint
    let readBuffer: UnsafeMutableRawBufferPointer
    /// Which request headers the clients send (`race --headers`).
    var headers = RequestHeaderSet.minimal
    /// Server clock minus ours (µs); 0 on the same host.
    var clockOffsetMicros: Int64 = 0
    /// First id of the run (server latest at start + 1); Int.max before the run starts.
    var firstID = Int.max
    /// Last id of the run, known once it ended.
    var lastID: Int?
    var histograms: [RaceTransport: LatencyBook] = [:]
    /// Called when a client is connected and subscribed (or failed trying).
    var clientReady: (RaceClient) -> Void = { _ in }
    /// Called when a client has closed for good after the run.
    var clientDone: (RaceClient) -> Void = { _ in }

    init(loop: EventLoop, endpoint: RaceEndpoint) {
        self.loop = loop
        self.endpoint = endpoint
        readBuffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 64 * 1024, alignment: 16)
    }
    deinit { readBuffer.deallocate() }

    var runOver: Bool { lastID != nil }
}

/// A transport's histogram, shared by its clients (a class: no copy per record).
final class LatencyBook {
    var histogram = LatencyHistogram()
}

class RaceClient: FDHandler {
    let name: String
    let transport: RaceTransport
    unowned let context: RaceContext
    let book: LatencyBook
    var counts = ClientCounts()
    var receipts = EventReceipts()
    /// This client's first receipts: latency sum (µs) and count, for per-client means (a lesson's
    /// median and spread over clients and runs).
    var latencySumMicros: Int64 = 0
    var latencyCount = 0
    /// Why the client gave up, if it did.
    var failure: String?
    /// Ready: connected and, for streams, subscribed. Done: closed for good.
    private(set) var isReady = false
    private(set) var isDone = false
    /// Monotonic ns when the first connect started and when the client became ready.
    var connectStarted: Int64 = 0
    var readyAt: Int64 = 0

    private(set) var fd: Int32 = -1
    private var connecting = false
    private var ipv6 = false
    /// The peer's FIN arrived before we closed (decides the closing segments, TCPOverhead).
    private var peerClosed = false
    private var output: [UInt8] = []
    private var outputOffset = 0

    init(name: String, transport: RaceTransport, context: RaceContext) {
        self.name = name
        self.transport = transport
        self.context = context
        if let b = context.histograms[transport] { book = b } else {
            book = LatencyBook()
            context.histograms[transport] = book
        }
    }

    var isOpen: Bool { fd >= 0 && !connecting }
    var isConnecting: Bool { connecting }

    // MARK: hooks for the transports

    /// The setup step: connect (and subscribe). Call `becameReady()` when done.
    func begin() { connect() }
    /// The run started (firstID is set).
    func runStarted(runStart: Int64) {}

    /// Called by the race when the run starts.
    final func startRun(at runStart: Int64) {
        receipts.start(firstID: context.firstID)
        runStarted(runStart: runStart)
    }
    /// The run ended (lastID is set): finish politely, then `finishedForGood()`.
    func runEnded() {}
    func didConnect() {}
    func didReceive(_ bytes: UnsafeRawBufferPointer) {}
    /// The peer closed (or the connection broke). The socket is already closed.
    func connectionLost() {}

    // MARK: connecting

    func connect() {
        guard fd < 0 else { return }
        if connectStarted == 0 { connectStarted = LoopClock.monotonicNanos() }
        do {
            fd = try Socket.connect(host: context.endpoint.host, port: context.endpoint.port)
        } catch {
            return fail("cannot connect to \(context.endpoint.hostHeader): \(error)")
        }
        ipv6 = Self.isIPv6(fd)
        peerClosed = false
        counts.connections += 1
        connecting = true
        context.loop.add(fd: fd, handler: self, interest: .write)
    }

    func becameReady() {
        guard !isReady else { return }
        isReady = true
        readyAt = LoopClock.monotonicNanos()
        context.clientReady(self)
    }

    /// Gives up: closes, records why, and counts as ready and done so the race goes on.
    func fail(_ why: String) {
        if failure == nil { failure = why }
        closeSocket()
        if !isReady { becameReady() }
        finishedForGood()
    }

    func finishedForGood() {
        guard !isDone else { return }
        closeSocket()
        isDone = true
        context.clientDone(self)
    }

    // MARK: FDHandler

    func handleWritable() {
        if connecting {
            let error = Socket.pendingError(fd)
            guard error == 0 else {
                return fail("cannot connect to \(context.endpoint.hostHeader): \(String(cString: strerror(error)))")
            }
            connecting = false
            context.loop.setInterest(fd: fd, output.isEmpty ? .read : [.read, .write])
            didConnect()
            return
        }
        flush()
    }

    func handleReadable() {
        guard fd >= 0, !connecting else { return }
        let buffer = context.readBuffer
        for _ in 0..<8 {
            guard fd >= 0 else { return }
            switch Socket.read(fd, into: buffer) {
            case .bytes(let n):
                counts.bytesDown += n
                didReceive(UnsafeRawBufferPointer(rebasing: buffer[0..<n]))
                if n < buffer.count { return }
            case .wouldBlock:
                return
            case .closed:
                peerClosed = true
                lost()
                return
            }
        }
    }

    func handleHangup() {
        guard fd >= 0 else { return }
        if connecting {
            let error = Socket.pendingError(fd)
            return fail("cannot connect to \(context.endpoint.hostHeader): \(String(cString: strerror(error == 0 ? ECONNREFUSED : error)))")
        }
        lost()
    }

    private func lost() {
        closeSocket()
        connectionLost()
    }

    // MARK: writing

    /// Writes now what the socket takes, queues the rest; counts what write() accepted.
    func send(_ bytes: [UInt8]) {
        guard fd >= 0 else { return }
        if connecting || !output.isEmpty {
            output += bytes
            return
        }
        switch bytes.withUnsafeBytes({ Socket.write(fd, $0) }) {
        case .bytes(let n):
            counts.bytesUp += n
            if n < bytes.count { queue(Array(bytes[n...])) }
        case .wouldBlock:
            queue(bytes)
        case .closed:
            lost()
        }
    }

    private func queue(_ rest: [UInt8]) {
        output += rest
        context.loop.setInterest(fd: fd, [.read, .write])
    }

    private func flush() {
        while outputOffset < output.count {
            let r = output.withUnsafeBytes { Socket.write(fd, UnsafeRawBufferPointer(rebasing: $0[outputOffset...])) }
            switch r {
            case .bytes(let n):
                counts.bytesUp += n
                outputOffset += n
            case .wouldBlock:
                return
            case .closed:
                return lost()
            }
        }
        output.removeAll(keepingCapacity: false)
        outputOffset = 0
        context.loop.setInterest(fd: fd, .read)
    }

    var hasPendingOutput: Bool { outputOffset < output.count }

    // MARK: closing

    /// Reads what is already there (so the count includes bytes the server sent), takes the
    /// kernel's segment counts for the wire estimate, then closes.
    func closeSocket() {
        guard fd >= 0 else { return }
        if !connecting {
            drainReadable()
        }
        guard fd >= 0 else { return }
        if !connecting, let info = Socket.tcpInfo(fd), info.available != 0 {
            counts.segmentsOut += Int(info.segs_out)
            counts.segmentsIn += Int(info.segs_in)
            let h = TCPOverhead.headerBytes(segsOut: Int(info.segs_out), segsIn: Int(info.segs_in),
                                            ipv6: ipv6, peerClosedFirst: peerClosed)
            counts.headerBytesUp += h.up
            counts.headerBytesDown += h.down
        }
        context.loop.remove(fd: fd)
        Socket.closeFD(fd)
        fd = -1
        connecting = false
        output.removeAll()
        outputOffset = 0
    }

    /// Counts bytes still waiting in the socket without acting on them.
    private func drainReadable() {
        let buffer = context.readBuffer
        while fd >= 0 {
            switch Socket.read(fd, into: buffer) {
            case .bytes(let n): counts.bytesDown += n
            case .closed: peerClosed = true; return
            case .wouldBlock: return
            }
        }
    }

    // MARK: events

    /// An event arrived (after parsing): note it, and its latency the first time.
    func received(_ stamp: EventScanner.Stamp) {
        if receipts.firstID == Int.max, context.firstID != Int.max { receipts.start(firstID: context.firstID) }
        counts.eventMessages += 1
        if receipts.note(stamp.id) {
            let now = LoopClock.wallMicros()
            let latency = now - stamp.ts + context.clockOffsetMicros
            book.histogram.record(latency)
            latencySumMicros += latency
            latencyCount += 1
        }
    }

    /// Has it everything up to the run's last id?
    var hasAllEvents: Bool {
        guard let last = context.lastID else { return false }
        return last < context.firstID || receipts.highestID >= last     // (none published: nothing to wait for)
    }

    // MARK: requests

    /// GET `target` with `Host` and the given extra fields (PROTOCOL.md §2 endpoints).
    func request(_ target: String, _ fields: [(String, String)] = []) -> [UInt8] {
        counts.requests += 1
        var headers = HTTPHeaders()
        headers.add(name: "Host", value: context.endpoint.hostHeader)
        for (n, v) in fields { headers.add(name: n, value: v) }
        return HTTPSerializer.request(method: "GET", target: target, headers: headers)
    }

    static func isIPv6(_ fd: Int32) -> Bool {
        var storage = sockaddr_storage()
        var len = socklen_t(MemoryLayout<sockaddr_storage>.size)
        _ = withUnsafeMutablePointer(to: &storage) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &len) }
        }
        return Int32(storage.ss_family) == AF_INET6
    }
}
