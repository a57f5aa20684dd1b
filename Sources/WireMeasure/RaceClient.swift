// RaceClient: one client's TCP connection on the race's event loop — connect, write, read,
// close — with the byte accounting of PROTOCOL.md §5 taken at the socket. The four transport
// clients (ShortPollClient, LongPollClient, SSEClient, WebSocketClient) subclass it and only
// say what to send and what the bytes mean.
//
// Lifecycle:  idle ──connect()──▶ connecting ──writable, SO_ERROR 0──▶ open ──closeSocket()──▶ idle
//             open ──finishedForGood(), server may still write──▶ lingering ──peer's FIN or 2 s──▶ idle
// A client may open several connections in a run (a server that closes an idle keep-alive
// connection, a dropped stream); each counts in `counts.connections`.
//
// Surviving the network (PROTOCOL.md §8): a connection that drops before the client has every
// event of the run goes through `reconnectAfterDrop()`: the drop is booked in the ledger, the
// reconnect policy says how long to wait, and the transport resumes where it stopped
// (`resumeID`: since= / Last-Event-ID), so a drop costs latency, never events. A client that
// belongs to an `auto` client (its `supervisor`) asks it first: the drop may be a reason to
// move down the ladder instead.
// Everything here runs on the race loop's thread.
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import WireLoop
import WireCodec

class RaceClient: FDHandler {
    let name: String
    let transport: RaceTransport
    unowned let context: RaceContext
    private(set) var book: LatencyBook
    private(set) var ledger: ClientLedger
    /// The auto client this one is a step of, if any.
    private(set) weak var supervisor: AutoClient?
    /// Why the client gave up, if it did.
    var failure: String?
    /// Ready: connected and, for streams, subscribed. Done: closed for good.
    private(set) var isReady = false
    private(set) var isDone = false
    /// Monotonic ns when the client became ready.
    var readyAt: Int64 = 0
    /// Monotonic ns when the current connection was established (nil: not yet), and the events
    /// it delivered: what AutoNegotiation judges a dropped connection by.
    private(set) var openedAt: Int64?
    private(set) var eventsSinceOpen = 0
    /// A reconnect is scheduled: nothing connects before it fires.
    private(set) var reconnectTimer: LoopTimer?

    var counts: ClientCounts {
        get { ledger.counts }
        _modify { yield &ledger.counts }
    }
    var receipts: EventReceipts {
        get { ledger.receipts }
        _modify { yield &ledger.receipts }
    }
    var connectStarted: Int64 { ledger.connectStarted }

    private(set) var fd: Int32 = -1
    private var connecting = false
    private var ipv6 = false
    /// The peer's FIN arrived before we closed (decides the closing segments, TCPOverhead).
    private var peerClosed = false
    /// We sent our FIN with shutdown(SHUT_WR) and read on until the peer's (`lingerThenClose`).
    private var halfClosed = false
    /// While lingering: the timer that ends it and who to tell when the socket is closed.
    private var linger: (timer: LoopTimer, then: () -> Void)?
    /// How long a lingering close waits for the server's FIN.
    static let lingerLimitNanos: Int64 = 2_000_000_000
    private var output: [UInt8] = []
    private var outputOffset = 0

    init(name: String, transport: RaceTransport, context: RaceContext) {
        self.name = name
        self.transport = transport
        self.context = context
        book = Self.book(transport, context)
        ledger = ClientLedger(transport: transport, policy: ReconnectPolicy(context.reconnect))
    }

    static func book(_ transport: RaceTransport, _ context: RaceContext) -> LatencyBook {
        if let b = context.histograms[transport] { return b }
        let b = LatencyBook()
        context.histograms[transport] = b
        return b
    }

    /// Makes this client a step of `auto`: its books, latencies and readiness are the auto
    /// client's.
    func join(_ auto: AutoClient) {
        supervisor = auto
        ledger = auto.ledger
        book = auto.book
    }

    /// Stops this step of an auto client for good, without telling anyone: the auto client
    /// moved on.
    func retire() {
        supervisor = nil
        reconnectTimer?.cancel()
        closeSocket()
        isDone = true
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
    /// The server may write to this client without being asked (an SSE stream, a long poll
    /// held open), so closing for good lingers (`lingerThenClose`).
    var serverMayStillWrite: Bool { false }

    // MARK: connecting

    func connect() {
        guard fd < 0, !isDone else { return }
        let now = LoopClock.monotonicNanos()
        if ledger.connectStarted == 0 { ledger.connectStarted = now }
        book.noteConnect(at: now, runStart: context.runStartNanos)
        openedAt = nil
        eventsSinceOpen = 0
        do {
            fd = try Socket.connect(host: context.endpoint.host, port: context.endpoint.port)
        } catch {
            return fail("cannot connect to \(context.endpoint.hostHeader): \(error)")
        }
        ipv6 = Self.isIPv6(fd)
        peerClosed = false
        halfClosed = false
        counts.connections += 1
        connecting = true
        context.loop.add(fd: fd, handler: self, interest: .write)
    }

    func becameReady() {
        guard !isReady else { return }
        isReady = true
        readyAt = LoopClock.monotonicNanos()
        if let supervisor { return supervisor.stepReady(self) }
        context.clientReady(self)
    }

    /// Gives up: closes, records why, and counts as ready and done so the race goes on.
    /// A step of an auto client tells the auto client instead, which may move on.
    func fail(_ why: String) {
        if let supervisor {
            closeSocket()
            return supervisor.stepFailed(self, why)
        }
        if failure == nil { failure = why }
        closeSocket()
        if !isReady { becameReady() }
        finishedForGood()
    }

    /// The server answered with an HTTP error (or no 101): for an auto client a reason to move
    /// down the ladder; for any other, a failure.
    func httpFailed(_ why: String) { fail(why) }

    func finishedForGood() {
        guard !isDone else { return }
        reconnectTimer?.cancel()
        isDone = true
        closeForGood { [unowned self] in
            if let supervisor { return supervisor.stepFinished(self) }
            context.clientDone(self)
        }
    }

    /// Closes the connection at the end and calls `then` once it is closed and its bytes are
    /// counted. HTTP2RaceClient leaves this to its carrier.
    func closeForGood(then: @escaping () -> Void) {
        if serverMayStillWrite && !context.lingerOver { return lingerThenClose(then: then) }
        closeSocket()
        then()
    }

    // MARK: lingering close

    // A server writes an SSE event (or answers a held long poll) whenever one is published. If
    // we simply closed at the end, an event written just before our FIN reached the server would
    // be counted in the server's bytes_out and never in ours: the race's check against /stats
    // would differ by one event. So we half-close instead (RFC 9293 §3.6: shutdown SHUT_WR sends
    // our FIN and keeps reading), the server sees end-of-file and closes, and we count every
    // byte up to its FIN. The same reason HTTP servers do a "lingering close" (RFC 9112 §9.6).
    private func lingerThenClose(then: @escaping () -> Void) {
        guard fd >= 0, !connecting else { closeSocket(); return then() }
        drainReadable()
        guard fd >= 0, !peerClosed else { closeSocket(); return then() }
        if !hasPendingOutput { halfClose() }     // else once flush() has written the rest
        let timer = context.loop.schedule(afterNanos: Self.lingerLimitNanos) { [weak self] in self?.endLinger() }
        linger = (timer, then)
    }

    private func halfClose() {
        Socket.shutdownWrite(fd)
        halfClosed = true
        context.loop.setInterest(fd: fd, .read)
    }

    /// The peer's FIN came (or the wait is over): close and report.
    private func endLinger() {
        guard let l = linger else { return }
        linger = nil
        l.timer.cancel()
        closeSocket()
        l.then()
    }

    /// The race gives up waiting (its grace is over): close now if lingering.
    func abandonLinger() { endLinger() }

    // MARK: surviving drops (PROTOCOL.md §8)

    /// Where to resume: the highest id seen, or just before the run's first id if nothing of
    /// the run arrived yet; nil before the run with nothing seen (start at the live edge).
    var resumeID: Int? {
        let seen = receipts.highestID
        if context.firstID != Int.max { return max(seen, context.firstID - 1) }
        return seen > 0 ? seen : nil
    }

    /// The connection dropped while the client still needs it: book the drop, wait as the
    /// policy says, then `connect()`; the transport resumes in `didConnect`. An auto client may
    /// rather move down its ladder.
    func reconnectAfterDrop(delay override: Int64? = nil) {
        guard !isDone else { return }
        let now = LoopClock.monotonicNanos()
        if let supervisor, supervisor.stepDropped(self, openedAt: openedAt, delivered: eventsSinceOpen, now: now) {
            return      // the auto client moved on and retired this step
        }
        ledger.dropped(at: now)
        let delay = override ?? ledger.policy.delayAfterDrop()
        reconnectTimer?.cancel()
        reconnectTimer = context.loop.schedule(afterNanos: delay) { [weak self] in
            guard let self, !self.isDone else { return }
            self.reconnectTimer = nil
            self.ledger.reconnecting()
            self.connect()
        }
    }

    var reconnectPending: Bool { reconnectTimer != nil }

    /// `connect()` once the loop has handled every event of this round (a timer of delay 0).
    /// Called from inside an I/O callback right after a close, the new socket may get the old
    /// one's descriptor number, and the rest of the old one's event (its hang-up) would be
    /// delivered to it.
    func connectSoon() {
        guard reconnectTimer == nil else { return }
        reconnectTimer = context.loop.schedule(afterNanos: 0) { [weak self] in
            guard let self, !self.isDone else { return }
            self.reconnectTimer = nil
            self.connect()
        }
    }

    // MARK: FDHandler

    func handleWritable() {
        if connecting {
            let error = Socket.pendingError(fd)
            guard error == 0 else {
                return connectFailed("cannot connect to \(context.endpoint.hostHeader): \(String(cString: strerror(error)))")
            }
            connecting = false
            openedAt = LoopClock.monotonicNanos()
            context.loop.setInterest(fd: fd, output.isEmpty ? .read : [.read, .write])
            didConnect()
            return
        }
        flush()
    }

    func handleReadable() {
        guard fd >= 0, !connecting else { return }
        if linger != nil {
            drainReadable()
            if peerClosed { endLinger() }
            return
        }
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
        if linger != nil { drainReadable(); return endLinger() }
        if connecting {
            let error = Socket.pendingError(fd)
            return connectFailed("cannot connect to \(context.endpoint.hostHeader): \(String(cString: strerror(error == 0 ? ECONNREFUSED : error)))")
        }
        lost()
    }

    /// A TCP connect failed. Before the client was ever ready that ends it (nothing listens);
    /// afterwards it is one more drop (a server restarting, a proxy gone for a moment).
    private func connectFailed(_ why: String) {
        guard isReady, !isDone else { return fail(why) }
        closeSocket()
        connectionLost()
    }

    private func lost() {
        if linger != nil { return endLinger() }
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
        if linger != nil && !halfClosed { halfClose() }
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
            let h = TCPOverhead.headerBytes(segsOut: Int(info.segs_out), segsIn: Int(info.segs_in), ipv6: ipv6,
                                            close: TCPOverhead.Close(halfClosed: halfClosed, peerClosed: peerClosed))
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
        eventsSinceOpen += 1
        if let outage = ledger.eventArrived(at: LoopClock.monotonicNanos()) {
            book.reconnect.record(outage / 1000)
        }
        counts.eventMessages += 1
        if receipts.note(stamp.id) {
            let now = LoopClock.wallMicros()
            let latency = now - stamp.ts + context.clockOffsetMicros
            book.histogram.record(latency)
            ledger.latencySumMicros += latency
            ledger.latencyCount += 1
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
