// A Relay is one proxied connection: the client's socket (downstream), the socket we open to the
// upstream server, and one RelayDirection per direction. It does the socket work the directions
// leave out: reads, writes, readiness interest, one timer, and closing.
//
//     .connecting ──(connect done)──▶ .open ──(both directions ended, idle, cut, kill)──▶ .closed
//          └──(refused, unreachable)──▶ .failing: 502 to the client, then close (PROTOCOL.md §7)
//
// Backpressure: a direction that holds more than its bound stops reading its source; the
// kernel's window then pushes back on the sender. A half-close (EOF) is passed on as a half-close
// once the bytes before it are out, so HTTP/1.0 clients and `nc` behave as without the proxy.
// A relay belongs to one ProxyWorker and is touched only on that worker's loop thread.
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import WireLoop

/// One of the relay's two sockets, as the loop sees it.
final class RelaySocket: FDHandler {
    let fd: Int32
    var relay: Relay?                // cleared on close (breaks the cycle)
    var interest: SelectorInterest = []
    var readPaused = false
    var readEnded = false
    var writeShut = false
    init(fd: Int32) { self.fd = fd }
    func handleReadable() { relay?.readable(self) }
    func handleWritable() { relay?.writable(self) }
    func handleHangup() { relay?.hangup(self) }
}

final class Relay {
    enum State { case connecting(deadline: Int64), open, failing(deadline: Int64), closed }

    /// An upstream that neither accepts nor refuses within this long is unreachable: 502.
    static let connectTimeoutNanos: Int64 = 10_000_000_000

    let worker: ProxyWorker
    let down: RelaySocket
    var up: RelaySocket?
    var state: State
    var request: RelayDirection          // client → server
    var response: RelayDirection         // server → client
    var idle: IdleTimer?
    var killer: WebSocketKiller?
    /// When the client's connection was accepted (--cut-every spares what came after a cut).
    let acceptedAt: Int64
    private var timer: LoopTimer?
    private var timerDeadline = Int64.max
    private let bound: Int

    init(worker: ProxyWorker, fd: Int32, now: Int64) {
        self.worker = worker
        let config = worker.config
        down = RelaySocket(fd: fd)
        acceptedAt = now
        state = .connecting(deadline: now + Relay.connectTimeoutNanos)
        request = RelayDirection(config.directionSettings(request: true), now: now, seed: worker.nextSeed())
        response = RelayDirection(config.directionSettings(request: false), now: now, seed: worker.nextSeed())
        bound = config.directionBound
        if let s = config.idleTimeoutSeconds { idle = IdleTimer(timeoutNanos: LoopClock.nanos(seconds: s), now: now) }
        if let ms = config.killWebSocketAfterMs { killer = WebSocketKiller(afterNanos: ProxyConfig.nanos(ms: ms)) }
        down.relay = self
    }

    /// Registers the client socket and starts connecting upstream.
    func start(now: Int64) {
        applyInterest(down)
        do {
            let fd = try Socket.connect(host: worker.config.upstreamHost, port: worker.config.upstreamPort)
            let sock = RelaySocket(fd: fd)
            sock.relay = self
            up = sock
            applyInterest(sock)         // write interest: connect done (or failed)
        } catch {
            fail502(now: now)
        }
        scheduleTimer()
    }

    var isClosed: Bool { if case .closed = state { return true } else { return false } }
    private var isOpen: Bool { if case .open = state { return true } else { return false } }

    // MARK: readiness interest

    private func wantedInterest(_ s: RelaySocket) -> SelectorInterest {
        var i: SelectorInterest = []
        if s === down {
            if !s.readPaused && !s.readEnded { i.insert(.read) }
            if !response.ready.isEmpty && !s.writeShut { i.insert(.write) }
        } else {
            switch state {
            case .connecting: i.insert(.write)
            case .open:
                if !s.readPaused && !s.readEnded { i.insert(.read) }
                if !request.ready.isEmpty && !s.writeShut { i.insert(.write) }
            case .failing, .closed: break
            }
        }
        return i
    }

    /// An fd with no interest is taken out of the selector: epoll would otherwise keep reporting
    /// a peer's half-close (RDHUP) on a socket we have stopped reading.
    private func applyInterest(_ s: RelaySocket) {
        let wanted = wantedInterest(s)
        guard wanted != s.interest else { return }
        if wanted.isEmpty { worker.loop.remove(fd: s.fd) }
        else if s.interest.isEmpty { worker.loop.add(fd: s.fd, handler: s, interest: wanted) }
        else { worker.loop.setInterest(fd: s.fd, wanted) }
        s.interest = wanted
    }

    // MARK: reading

    func readable(_ s: RelaySocket) {
        let fromClient = s === down
        if case .failing = state { return drainAfterFailure() }
        if !fromClient, case .connecting = state { return writable(s) }   // a refused connect reads as an error
        guard !isClosed, !s.readEnded else { return }
        let buffer = worker.readBuffer
        let now = LoopClock.monotonicNanos()
        let dir = fromClient ? request : response
        var bytesIn = 0
        // True while every read went straight out whole (the fast path): then no queue, interest or
        // timer changed, and flushBoth, which would only find that out, is skipped. One relayed
        // message then costs one recv and one send and nothing else (PROTOCOL.md §7).
        var settled = true
        reading: for _ in 0..<4 {      // at most 4 buffers per wake-up: one busy peer cannot starve the rest
            if dir.heldBytes >= bound { s.readPaused = true; settled = false; break reading }     // backpressure
            switch Socket.read(s.fd, into: buffer) {
            case .bytes(let n):
                bytesIn += n
                let bytes = UnsafeRawBufferPointer(rebasing: buffer[0..<n])
                let sink = fromClient ? (isOpen && up?.writeShut == false ? up : nil) : down
                if !relayIn(bytes, into: dir, sink: sink, now: now) { settled = false }
                if isClosed { return }
                if n < buffer.count { break reading }        // the kernel had no more
            case .wouldBlock:
                break reading
            case .closed:
                s.readEnded = true
                dir.endInput(now: now)
                settled = false
                break reading
            }
        }
        if bytesIn > 0 {
            idle?.touch(now: now)       // only moves the deadline later: the timer may stay as it is
            if fromClient { worker.counters.downstreamBytesIn += bytesIn } else { worker.counters.upstreamBytesIn += bytesIn }
        }
        if !settled { flushBoth() }
    }

    /// The fast path: a transparent direction with nothing queued writes straight from the read
    /// buffer; otherwise the bytes enter the direction's pipeline. Returns true when the bytes
    /// went out whole on the fast path (nothing was queued).
    private func relayIn(_ bytes: UnsafeRawBufferPointer, into dir: RelayDirection, sink: RelaySocket?, now: Int64) -> Bool {
        if dir.isTransparent, dir.ready.isEmpty, let sink {
            switch Socket.write(sink.fd, bytes) {
            case .bytes(let n):
                countOut(n, to: sink)
                if n == bytes.count { return true }
                dir.ready.append(Array(bytes[n...]))
            case .wouldBlock:
                dir.ready.append(Array(bytes))
            case .closed:
                close()
            }
            return false
        }
        if dir.push(Array(bytes), now: now) {
            // A 101 went by: requests are not HTTP anymore, and the WebSocket killer starts its
            // clock when the 101 reaches the client, after the one-way delay.
            killer?.switchedProtocols(now: now + ProxyConfig.nanos(ms: worker.config.delayMs))
            request.stopParsingRequests(now: now)
        }
        return false
    }

    private func countOut(_ n: Int, to sink: RelaySocket) {
        if sink === down { worker.counters.downstreamBytesOut += n } else { worker.counters.upstreamBytesOut += n }
    }

    // MARK: writing

    func writable(_ s: RelaySocket) {
        if s !== down, case .connecting = state {
            if Socket.pendingError(s.fd) != 0 { return fail502(now: LoopClock.monotonicNanos()) }
            state = .open
            applyInterest(s)
        }
        flushBoth()
    }

    /// Writes what each direction has ready, passes half-closes on, re-arms interest and timer.
    private func flushBoth() {
        guard isOpen || { if case .connecting = state { return true } else { return false } }() else { return }
        if isOpen, let up, !up.writeShut { flush(request, to: up) }
        if isClosed { return }
        if !down.writeShut { flush(response, to: down) }
        if isClosed { return }
        if down.writeShut && (up?.writeShut ?? false) { return close() }
        applyInterest(down)
        if let up { applyInterest(up) }
        scheduleTimer()
    }

    private func flush(_ dir: RelayDirection, to sink: RelaySocket) {
        write: while !dir.ready.isEmpty {
            switch dir.ready.withFirst({ Socket.write(sink.fd, $0) }) {
            case .bytes(let n):
                countOut(n, to: sink)
                dir.ready.consume(n)
            case .wouldBlock:
                break write
            case .closed:
                close()
                return
            }
        }
        if dir.inputEnded && dir.isEmpty && !sink.writeShut {
            Socket.shutdownWrite(sink.fd)       // pass the half-close on
            sink.writeShut = true
        }
        let source = sink === down ? up : down
        if let source, source.readPaused, dir.heldBytes < bound { source.readPaused = false }
    }

    func hangup(_ s: RelaySocket) {
        // Error or both directions shut: nothing more can move on this socket.
        if s !== down, case .connecting = state { return fail502(now: LoopClock.monotonicNanos()) }
        guard s !== down, isOpen else { return close() }    // the client is gone: nothing to deliver
        // The server is gone, but what it sent may still be in the pipeline (a delay line, a
        // slow link): let the response drain to the client, then close.
        let now = LoopClock.monotonicNanos()
        if !s.readEnded { s.readEnded = true; response.endInput(now: now) }
        s.writeShut = true
        flushBoth()
    }

    // MARK: the timer (delay line, pacer, idle, kill, the end of a 502)

    private func scheduleTimer() {
        var deadline = Int64.max
        if let t = request.nextWake { deadline = min(deadline, t) }
        if let t = response.nextWake { deadline = min(deadline, t) }
        if let idle { deadline = min(deadline, idle.deadline) }
        if let d = killer?.deadline { deadline = min(deadline, d) }
        if case .failing(let d) = state { deadline = min(deadline, d) }
        if case .connecting(let d) = state { deadline = min(deadline, d) }
        guard deadline < timerDeadline else { return }
        timer?.cancel()
        timerDeadline = deadline
        timer = worker.loop.schedule(atNanos: deadline) { [self] in
            timer = nil
            timerDeadline = .max
            timerFired()
        }
    }

    private func timerFired() {
        guard !isClosed else { return }
        let now = LoopClock.monotonicNanos()
        if case .failing(let d) = state, now >= d { return close() }
        if case .connecting(let d) = state, now >= d { return fail502(now: now) }
        if let killer, killer.isDue(now: now) {
            worker.counters.fired.killWebSocket += 1
            return close(reset: true)
        }
        if let idle, idle.isExpired(now: now) {
            worker.counters.fired.idleTimeout += 1
            return close()
        }
        request.pump(now: now)
        response.pump(now: now)
        flushBoth()
        if !isClosed { scheduleTimer() }
    }

    // MARK: failure and closing

    /// The upstream refused or is unreachable: the client gets a 502 and the proxy goes on.
    private func fail502(now: Int64) {
        worker.counters.upstreamFailures += 1
        if let up {
            if !up.interest.isEmpty { worker.loop.remove(fd: up.fd) }
            Socket.closeFD(up.fd)
            up.relay = nil
            self.up = nil
        }
        state = .failing(deadline: now + 2_000_000_000)
        let body = "wirelab proxy: upstream \(worker.config.upstreamURL) is unreachable\n"
        let answer = "HTTP/1.1 502 Bad Gateway\r\nContent-Type: text/plain\r\nContent-Length: \(body.utf8.count)\r\nConnection: close\r\n\r\n" + body
        let sent = Array(answer.utf8).withUnsafeBytes { Socket.write(down.fd, $0) }
        if case .bytes(let n) = sent { worker.counters.downstreamBytesOut += n }
        // Half-close and read what the client still sends until it closes: closing with unread
        // input would send RST and could destroy the 502 before the client reads it.
        Socket.shutdownWrite(down.fd)
        down.writeShut = true
        request = RelayDirection(DirectionSettings(), now: now, seed: 0)
        response = RelayDirection(DirectionSettings(), now: now, seed: 0)
        down.readPaused = false
        applyInterest(down)
        scheduleTimer()
    }

    private func drainAfterFailure() {
        for _ in 0..<4 {
            switch Socket.read(down.fd, into: worker.readBuffer) {
            case .bytes(let n): worker.counters.downstreamBytesIn += n
            case .wouldBlock: return
            case .closed: return close()
            }
        }
    }

    /// Closes both sockets. `reset`: abort with RST (SO_LINGER 0), as a middlebox killing a flow.
    func close(reset: Bool = false) {
        guard !isClosed else { return }
        state = .closed
        timer?.cancel()
        timer = nil
        for s in [down, up].compactMap({ $0 }) {
            if !s.interest.isEmpty { worker.loop.remove(fd: s.fd) }
            if reset {
                var l = linger(l_onoff: 1, l_linger: 0)
                _ = setsockopt(s.fd, SOL_SOCKET, SO_LINGER, &l, socklen_t(MemoryLayout<linger>.size))
            }
            Socket.closeFD(s.fd)
            s.relay = nil
        }
        worker.counters.fired = worker.counters.fired + request.fired + response.fired
        worker.forget(self)
    }
}
