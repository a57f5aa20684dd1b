// A Connection is one accepted TCP socket and the small state machine that drives it
// (design: reading head -> routing -> streaming / upgraded / closing):
//
//     .http ──(GET /longpoll, nothing new)──▶ .longPolling ──(event or timeout)──▶ .http
//       │ ──(GET /sse)──────────────────────▶ .sse
//       │ ──(GET /ws, /echo + Upgrade)──────▶ .webSocket
//       └──(error, Connection: close, shutdown)──▶ .draining ──(EOF or 2 s)──▶ .closed
//
// This file holds the socket side: reading, the output queue, closing. The phases live in
// Connection+HTTP.swift, LongPoll.swift, SSEStream.swift and WebSocketSession.swift.
// A connection belongs to one Worker and is touched only on that worker's loop thread.
import WireLoop
import WireCodec

final class Connection: FDHandler {
    enum Phase { case http, longPolling, sse, webSocket, draining, closed }

    let fd: Int32
    let worker: Worker   // strong: an unowned reference costs a slow refcount path on every access
    let isLoopback: Bool
    var phase = Phase.http
    /// Slots in the worker's registries (swap-remove bookkeeping).
    var registryIndex = -1
    var subscriberSlot = -1

    // Reading HTTP.
    var parser: HTTPRequestParser
    /// Bytes read whose request is not complete yet; attributed when it is.
    var unattributedIn = 0
    var consumedSoFar = 0
    /// 408 deadline for an incomplete head (monotonic ns, 0: none).
    var headDeadline: Int64
    /// Silent close of an idle keep-alive connection (0: none).
    var idleDeadline: Int64 = 0
    /// Which transports and clients this connection has already been counted for.
    var countedTransports: UInt8 = 0
    var countedClients: [ClientCounters] = []
    /// Who the bytes of the current exchange belong to.
    var tag = CounterTag.none

    // Writing: a queue of byte arrays (shared, not copied: an event's frame is one array
    // written to every subscriber) with the offset already written of the first.
    private var output: [(bytes: [UInt8], tag: CounterTag)] = []
    private var outputHead = 0
    private var outputOffset = 0
    private(set) var pendingOutput = 0
    private var wantsWritable = false
    var closeWhenFlushed = false
    private var drainDeadline: Int64 = 0

    // Phase state.
    var longPoll: LongPollWait?
    var sse: SSEStream?
    var webSocket: WebSocketSession?

    init(fd: Int32, worker: Worker, isLoopback: Bool) {
        self.fd = fd
        self.worker = worker
        self.isLoopback = isLoopback
        parser = HTTPRequestParser(maxHeadBytes: worker.config.maxHeadBytes, maxBodyBytes: worker.config.maxBodyBytes)
        headDeadline = LoopClock.monotonicNanos() + LoopClock.nanos(seconds: worker.config.headTimeout)
    }

    var stats: StatsShard { worker.stats }

    // MARK: reading

    func handleReadable() {
        // Read until the kernel has nothing more, but at most 4 buffers per wake-up so one busy
        // peer cannot starve the others on this loop.
        for _ in 0..<4 {
            guard phase != .closed else { return }
            switch Socket.read(fd, into: worker.readBuffer) {
            case .bytes(let n):
                received(UnsafeRawBufferPointer(rebasing: worker.readBuffer[0..<n]))
                if n < worker.readBuffer.count { return }
            case .wouldBlock:
                return
            case .closed:
                peerClosedInput()
                return
            }
        }
    }

    private func received(_ bytes: UnsafeRawBufferPointer) {
        switch phase {
        case .http, .longPolling:
            unattributedIn += bytes.count
            parser.feed(bytes)
            if phase == .http { processRequests() }
        case .sse:
            stats.addBytesIn(bytes.count, tag)       // a stream's client has nothing to say; count it anyway
        case .webSocket:
            stats.addBytesIn(bytes.count, tag)
            receivedWebSocketBytes(bytes)
        case .draining:
            stats.addBytesIn(bytes.count, tag)
        case .closed:
            break
        }
    }

    private func peerClosedInput() {
        // HTTP/1.0-style half-close after a request is rare; a closed reader is a gone client.
        close()
    }

    func handleHangup() { close() }

    // MARK: writing

    /// Writes `bytes` now if the socket takes them, else queues the rest. Bytes are counted for
    /// `tag` as write() accepts them.
    // LESSON: byte-counting
    func send(_ bytes: [UInt8], tag: CounterTag) {
        guard phase != .closed, !bytes.isEmpty else { return }
        var offset = 0
        if outputHead == output.count {
            switch bytes.withUnsafeBytes({ Socket.write(fd, $0) }) {
            case .bytes(let n):
                stats.addBytesOut(n, tag)
                if n == bytes.count { return }
                offset = n
            case .wouldBlock:
                break
            case .closed:
                close()
                return
            }
        }
        if output.isEmpty || outputHead == output.count { outputOffset = offset }
        output.append((bytes, tag))
        pendingOutput += bytes.count - offset
        if pendingOutput > worker.config.maxPendingOutput {
            // A subscriber that cannot keep up would make us buffer without bound: drop it.
            close()
            return
        }
        if !wantsWritable {
            wantsWritable = true
            worker.loop.setInterest(fd: fd, [.read, .write])
        }
    }

    func handleWritable() {
        while outputHead < output.count {
            let (bytes, tag) = output[outputHead]
            let result = bytes.withUnsafeBytes { Socket.write(fd, UnsafeRawBufferPointer(rebasing: $0[outputOffset...])) }
            switch result {
            case .bytes(let n):
                stats.addBytesOut(n, tag)
                pendingOutput -= n
                outputOffset += n
                if outputOffset == bytes.count {
                    outputHead += 1
                    outputOffset = 0
                }
            case .wouldBlock:
                return
            case .closed:
                close()
                return
            }
        }
        output.removeAll(keepingCapacity: false)
        outputHead = 0
        if wantsWritable {
            wantsWritable = false
            worker.loop.setInterest(fd: fd, .read)
        }
        if closeWhenFlushed { lingeringClose() }
    }

    var hasPendingOutput: Bool { outputHead < output.count }

    /// Between requests on a keep-alive connection: nothing half-read, nothing to write.
    var isIdleBetweenRequests: Bool { phase == .http && !parser.hasPartialRequest && !hasPendingOutput && unattributedIn == 0 }

    // MARK: closing

    /// Close once everything queued is written.
    func closeAfterFlush() {
        closeWhenFlushed = true
        if !hasPendingOutput { lingeringClose() }
    }

    /// Half-close, then read and discard until the peer closes (or 2 s pass). Closing at once
    /// with unread input would make the kernel send RST, and the peer could lose our last
    /// response or close frame (RFC 9112 §9.6 describes the same "staged" close).
    private func lingeringClose() {
        guard phase != .closed, phase != .draining else { return }
        leavePhase()
        phase = .draining
        Socket.shutdownWrite(fd)
        drainDeadline = LoopClock.monotonicNanos() + 2_000_000_000
    }

    /// Close now.
    func close() {
        guard phase != .closed else { return }
        leavePhase()
        phase = .closed
        countClosed()
        worker.loop.remove(fd: fd)
        Socket.closeFD(fd)
        output.removeAll()
        worker.forget(self)
    }

    /// The connection is gone: it no longer counts as open for its transports and clients.
    private func countClosed() {
        for t in Transport.allCases where countedTransports & (1 << UInt8(t.rawValue)) != 0 {
            stats.connectionClosed(CounterTag(transport: t, client: nil))
        }
        for c in countedClients { stats.connectionClosed(CounterTag(transport: nil, client: c)) }
    }

    /// Undo what the current phase registered (timers, subscriber lists).
    private func leavePhase() {
        longPoll?.timer?.cancel()
        longPoll = nil
        worker.sseSubscribers.remove(self)
        worker.webSocketSubscribers.remove(self)
        worker.longPollWaiters.remove(self)
    }

    // MARK: timeouts and heartbeats (the worker's sweep calls this a few times a second)

    func housekeeping(now: Int64, heartbeat: Int64) {
        switch phase {
        case .http:
            if headDeadline > 0 && now >= headDeadline {
                requestTimedOut()
            } else if idleDeadline > 0 && now >= idleDeadline && !parser.hasPartialRequest {
                close()     // PROTOCOL.md §3: an idle keep-alive connection may be closed silently.
            }
        case .sse:
            sseHeartbeat(now: now, heartbeat: heartbeat)
        case .webSocket:
            webSocketHeartbeat(now: now, heartbeat: heartbeat)
        case .draining:
            if now >= drainDeadline { close() }
        case .longPolling, .closed:
            break
        }
    }

    /// Server shutdown: say goodbye the way each phase can.
    func shutdown() {
        switch phase {
        case .webSocket: webSocketShutdown()
        case .sse: sseShutdown()
        case .longPolling, .http, .draining: close()
        case .closed: break
        }
    }
}
