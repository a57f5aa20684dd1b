// `race --http 2`: one HTTP/2 connection with prior knowledge (h2c, RFC 9113 §3.3) on the race's
// loop, carrying the streams of one client (or, with `--share`, one client of every transport,
// as one browser tab would). The protocol is WireCodec's sans-I/O `HTTP2Connection` in the
// client role; this type only owns the socket and hands each stream's headers and DATA to the
// client that opened it (HTTP2RaceClient).
//
// Byte accounting (PROTOCOL.md §11 `race --http 2`, §2 /stats): bytes are counted where they cross the socket,
// and the codec says which stream each frame belonged to (`takeByteCounts`): a stream's frames
// are its client's bytes, as the server charges them to that client's transport; stream 0 (the
// preface, SETTINGS, PING, connection WINDOW_UPDATE, GOAWAY) belongs to the connection, as the
// server's top-level "http2" object of /stats counts it. The two add up to the socket's total,
// and the race checks that they do.
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import WireLoop
import WireCodec

final class HTTP2Carrier: FDHandler {
    unowned let context: RaceContext
    /// The clients whose streams ride on this connection.
    private(set) var users: [HTTP2RaceClient] = []
    private var fd: Int32 = -1
    private var connecting = false
    private var connection = HTTP2Connection(role: .client)
    private var owners: [UInt32: HTTP2RaceClient] = [:]
    private var output: [UInt8] = []
    private var outputOffset = 0
    /// Counts the connection's generation: a client counts a connection once per generation.
    private(set) var generation = 0

    // What crossed the sockets of this carrier over the run, and the stream-0 part of it.
    private(set) var socketUp = 0
    private(set) var socketDown = 0
    private(set) var connectionBytes = HTTP2ByteCount()
    private(set) var connections = 0
    /// A byte-count difference between the socket and the codec's per-stream split (a bug if > 0).
    var unaccounted: Int { socketUp + socketDown - connectionBytes.sent - connectionBytes.received - streamBytes }
    private var streamBytes = 0
    /// Clients done with the connection, told once it is closed (their bytes all counted).
    private var finished: [() -> Void] = []
    /// While lingering (after our GOAWAY and FIN): the timer that ends the wait.
    private var lingerTimer: LoopTimer?
    /// Our FIN went out with shutdown(SHUT_WR) before the close (decides the closing segments).
    private var halfClosed = false
    private var peerClosed = false

    init(context: RaceContext) { self.context = context }

    func add(_ user: HTTP2RaceClient) { users.append(user) }

    var isOpen: Bool { fd >= 0 && !connecting }

    /// A client wants the connection: open it if nobody has, tell the client at once if it is up.
    func attach(_ user: HTTP2RaceClient) {
        if isOpen { return user.carrierOpened(generation: generation) }
        if connecting { return }
        do {
            fd = try Socket.connect(host: context.endpoint.host, port: context.endpoint.port)
        } catch {
            return user.fail("cannot connect to \(context.endpoint.hostHeader): \(error)")
        }
        connecting = true
        halfClosed = false
        peerClosed = false
        connections += 1
        generation += 1
        owners = [:]
        var configuration = HTTP2Connection.Configuration()
        configuration.enableConnectProtocol = false
        connection = HTTP2Connection(role: .client, configuration: configuration)
        context.loop.add(fd: fd, handler: self, interest: .write)
    }

    // MARK: streams (for the clients)

    /// Opens a stream with a request's header list: its id and the bytes of its HEADERS frame(s)
    /// (for the byte ledger); nil when the peer's concurrency limit is reached.
    func openStream(for user: HTTP2RaceClient, _ fields: [HPACKHeaderField], endStream: Bool) -> (id: UInt32, headerBytes: Int)? {
        guard isOpen, connection.canOpenStream else { return nil }
        let id = connection.openStream()
        owners[id] = user
        let actions: [HTTP2Connection.Action]
        do { actions = try connection.sendHeaders(streamID: id, fields: fields, endStream: endStream) } catch { return nil }
        var written = 0
        for case .write(let bytes) in actions { written += bytes.count }
        perform(actions)
        return (id, written)
    }

    func sendData(_ id: UInt32, _ bytes: [UInt8], endStream: Bool = false) {
        guard isOpen else { return }
        if let actions = try? connection.sendData(streamID: id, bytes: bytes, endStream: endStream) { perform(actions) }
    }

    func reset(_ id: UInt32) {
        guard isOpen else { return }
        perform(connection.resetStream(streamID: id, code: .cancel))
    }

    /// A client is done with the connection: `then` runs once the connection is closed. The
    /// last one closes it: GOAWAY NO_ERROR (RFC 9113 §6.8), then a lingering close. Our FIN
    /// (shutdown SHUT_WR) tells the server we are gone and we read until its FIN, so the DATA of
    /// an SSE stream or a held long poll that the server wrote meanwhile is counted here as it
    /// was there (RaceClient's lingering close says why).
    func userFinished(then: @escaping () -> Void) {
        finished.append(then)
        guard users.allSatisfy({ $0.isDone }) else { return }
        guard isOpen, !context.lingerOver else { closeSocket(); return tellFinished() }
        perform(connection.goAway(code: .noError))
        guard fd >= 0 else { return tellFinished() }        // the write failed: already closed
        if outputOffset >= output.count { halfClose() }    // else once flush() has written the rest
        lingerTimer = context.loop.schedule(afterNanos: RaceClient.lingerLimitNanos) { [weak self] in self?.endLinger() }
    }

    private func halfClose() {
        Socket.shutdownWrite(fd)
        halfClosed = true
    }

    /// The server's FIN came (or the wait is over, or the race gives up): close and tell.
    func endLinger() {
        guard lingerTimer != nil else { return }
        lingerTimer?.cancel()
        lingerTimer = nil
        closeSocket()
        tellFinished()
    }

    private func tellFinished() {
        let f = finished
        finished = []
        for then in f { then() }
    }

    // MARK: FDHandler

    func handleWritable() {
        if connecting {
            let error = Socket.pendingError(fd)
            guard error == 0 else {
                return connectFailed("cannot connect to \(context.endpoint.hostHeader): \(String(cString: strerror(error)))")
            }
            connecting = false
            context.loop.setInterest(fd: fd, .read)
            perform(connection.start())
            for u in users where u.wantsConnection { u.carrierOpened(generation: generation) }
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
                socketDown += n
                perform(connection.receive(Array(UnsafeRawBufferPointer(rebasing: buffer[0..<n]))))
                if n < buffer.count { return }
            case .wouldBlock: return
            case .closed:
                peerClosed = true
                return lingerTimer != nil ? endLinger() : lost()
            }
        }
    }

    func handleHangup() {
        guard fd >= 0 else { return }
        if lingerTimer != nil { return endLinger() }
        if connecting { return connectFailed("cannot connect to \(context.endpoint.hostHeader)") }
        lost()
    }

    /// A TCP connect failed: before a client was ever ready that ends it (nothing listens);
    /// afterwards it is one more drop (a server restarting, a proxy gone for a moment).
    private func connectFailed(_ why: String) {
        closeSocket()
        for u in users where !u.isDone {
            if u.isReady { u.carrierLost() } else { u.fail(why) }
        }
    }

    // MARK: the codec's actions

    private func perform(_ actions: [HTTP2Connection.Action]) {
        var closeAfter = false
        for action in actions {
            switch action {
            case .write(let bytes): send(bytes)
            case .headers(let id, let fields, let end): owners[id]?.h2Headers(id, fields, endStream: end)
            case .data(let id, let bytes, let end): owners[id]?.h2Data(id, bytes, endStream: end)
            case .streamReset(let id, _, _): owners[id]?.h2StreamLost(id)
            case .goAway: closeAfter = true
            case .connectionError: closeAfter = true
            }
        }
        distributeBytes()
        // Lingering, the server's GOAWAY is no reason to stop reading: its FIN is.
        if closeAfter && lingerTimer == nil { lost() }
    }

    // LESSON: h2-stream-bytes
    /// Each stream's bytes to the client that opened it; stream 0 to the connection.
    private func distributeBytes() {
        for (id, count) in connection.takeByteCounts() {
            if id != 0, let owner = owners[id] {
                owner.counts.bytesUp += count.sent
                owner.counts.bytesDown += count.received
                streamBytes += count.sent + count.received
            } else {
                connectionBytes.sent += count.sent
                connectionBytes.received += count.received
            }
        }
    }

    private func send(_ bytes: [UInt8]) {
        guard fd >= 0 else { return }
        guard !halfClosed else { return unsend(bytes) }
        if connecting || outputOffset < output.count { output += bytes; return }
        switch bytes.withUnsafeBytes({ Socket.write(fd, $0) }) {
        case .bytes(let n):
            socketUp += n
            if n < bytes.count { output = Array(bytes[n...]); outputOffset = 0; context.loop.setInterest(fd: fd, [.read, .write]) }
        case .wouldBlock:
            output = bytes; outputOffset = 0
            context.loop.setInterest(fd: fd, [.read, .write])
        case .closed:
            context.loop.execute { [weak self] in self?.lost() }
        }
    }

    /// After our FIN nothing more can go out: a WINDOW_UPDATE the codec writes for DATA read
    /// while lingering (§6.9.1, once half a window is used) is dropped, and its frames' bytes
    /// are taken back from the stream the codec counted them in (the frame header's stream id,
    /// RFC 9113 §4.1), so the counts stay what crossed the socket.
    private func unsend(_ bytes: [UInt8]) {
        distributeBytes()
        var at = 0
        while at + 9 <= bytes.count {
            let size = 9 + (Int(bytes[at]) << 16 | Int(bytes[at + 1]) << 8 | Int(bytes[at + 2]))
            let id = (UInt32(bytes[at + 5]) << 24 | UInt32(bytes[at + 6]) << 16 | UInt32(bytes[at + 7]) << 8 | UInt32(bytes[at + 8])) & 0x7fff_ffff
            if id != 0, let owner = owners[id] {
                owner.counts.bytesUp -= size
                streamBytes -= size
            } else {
                connectionBytes.sent -= size
            }
            at += size
        }
    }

    private func flush() {
        while outputOffset < output.count {
            switch output.withUnsafeBytes({ Socket.write(fd, UnsafeRawBufferPointer(rebasing: $0[outputOffset...])) }) {
            case .bytes(let n): socketUp += n; outputOffset += n
            case .wouldBlock: return
            case .closed: return lost()
            }
        }
        output = []
        outputOffset = 0
        context.loop.setInterest(fd: fd, .read)
        if lingerTimer != nil && !halfClosed { halfClose() }
    }

    /// The connection is gone: every client still on it loses its streams.
    private func lost() {
        guard fd >= 0 else { return }
        if lingerTimer != nil { return endLinger() }
        closeSocket()
        for u in users where !u.isDone { u.carrierLost() }
    }

    /// Reads what is already there (counted and split like any read), segment counts for a
    /// single client's wire estimate, then close.
    private func closeSocket() {
        guard fd >= 0 else { return }
        if !connecting {
            let buffer = context.readBuffer
            reading: while fd >= 0 {
                switch Socket.read(fd, into: buffer) {
                case .bytes(let n):
                    socketDown += n
                    _ = connection.receive(Array(UnsafeRawBufferPointer(rebasing: buffer[0..<n])))
                case .closed: peerClosed = true; break reading
                case .wouldBlock: break reading
                }
            }
            distributeBytes()
            if users.count == 1, let info = Socket.tcpInfo(fd), info.available != 0 {
                let h = TCPOverhead.headerBytes(segsOut: Int(info.segs_out), segsIn: Int(info.segs_in), ipv6: RaceClient.isIPv6(fd),
                                                close: TCPOverhead.Close(halfClosed: halfClosed, peerClosed: peerClosed))
                users[0].counts.segmentsOut += Int(info.segs_out)
                users[0].counts.segmentsIn += Int(info.segs_in)
                users[0].counts.headerBytesUp += h.up
                users[0].counts.headerBytesDown += h.down
            }
        }
        context.loop.remove(fd: fd)
        Socket.closeFD(fd)
        fd = -1
        connecting = false
        output = []
        outputOffset = 0
    }
}
