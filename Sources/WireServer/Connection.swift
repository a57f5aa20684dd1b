// A Connection is one accepted TCP socket: it owns the socket and the output queue, feeds what
// it reads to its `Conversation` (the state machine that decides what the bytes mean, see
// Conversation.swift) and applies the actions the conversation returns. Nothing else decides
// anything here: reading, writing, timers and closing are all it does.
// A connection belongs to one Worker and is touched only on that worker's loop thread.
import WireLoop
import WireCodec

final class Connection: FDHandler {
    let fd: Int32
    let worker: Worker   // strong: an unowned reference costs a slow refcount path on every access
    let conversation: Conversation
    /// Slots in the worker's registries (swap-remove bookkeeping).
    var registryIndex = -1
    var subscriberSlot = -1

    // The output queue: byte arrays (shared, not copied: an event's frame is one array written
    // to every subscriber) with the offset already written of the first.
    private var output: [(bytes: [UInt8], tag: CounterTag)] = []
    private var outputHead = 0
    private var outputOffset = 0
    private(set) var pendingOutput = 0
    /// When the queue last made progress (PROTOCOL.md §9 `--send-timeout`).
    private var lastProgress: Int64 = 0
    private var interest = SelectorInterest.read
    private var timer: LoopTimer?
    private(set) var isClosed = false

    init(fd: Int32, worker: Worker, isLoopback: Bool) {
        self.fd = fd
        self.worker = worker
        conversation = Conversation(context: worker.context, isLoopback: isLoopback,
                                    localAddress: { Socket.localAddressLiteral(fd) })
    }

    var stats: StatsShard { worker.stats }

    // MARK: events from the loop

    func handleReadable() {
        assert(worker.loop.isOnLoopThread, "a connection is touched only by its own loop's thread")
        // One buffer per wake-up (level-triggered: the rest wakes us again next turn), so a peer
        // that pipelines thousands of requests cannot hold the loop: the loop's queue (events to
        // fan out, /stats snapshots) runs between its reads. Never more than the conversation allows.
        let allowance = min(conversation.readAllowance, worker.readBuffer.count)
        guard !isClosed, allowance > 0 else { return apply() }
        let buffer = UnsafeMutableRawBufferPointer(rebasing: worker.readBuffer[0..<allowance])
        switch Socket.read(fd, into: buffer) {
        case .bytes(let n):
            conversation.bytesRead(UnsafeRawBufferPointer(rebasing: buffer[0..<n]))
            apply()
        case .wouldBlock:
            return
        case .closed:
            conversation.peerClosed()
            apply()
        }
    }

    func handleHangup() {
        guard !isClosed else { return }
        conversation.peerClosed()
        apply()
    }

    func handleWritable() {
        assert(worker.loop.isOnLoopThread, "a connection is touched only by its own loop's thread")
        flush()
        apply()
    }

    /// An event published on the feed (the worker's broadcast).
    func deliver(_ event: PublishedEvent, webSocket: Bool) {
        // The common case first (Conversation.liveWebSocketFrame): one frame to an idle socket.
        // Written whole, nothing changed that the conversation must hear about (its queue was
        // and is empty), so no actions are applied; otherwise (a short write, a closed peer)
        // `apply` tells it, as after any event.
        if webSocket, pendingOutput == 0, let (frame, tag) = conversation.liveWebSocketFrame(event) {
            send(frame, tag: tag)
            if pendingOutput == 0 && worker.context.actions.isEmpty { return }
            return apply()
        }
        if webSocket { conversation.deliverToWebSocket(event) } else { conversation.deliverToSSE(event) }
        apply()
    }

    /// An event for the streams of this connection's HTTP/2 session.
    func deliverHTTP2(_ event: PublishedEvent) {
        conversation.http2Session?.eventPublished(event)
        apply()
    }

    func answerLongPoll(_ body: PollBody) {
        conversation.answerLongPoll(body)
        apply()
    }

    func statsGathered(_ totals: StatsTotals, uptime: Double) {
        guard !isClosed else { return }
        conversation.statsGathered(totals, uptime: uptime)
        apply()
    }

    /// The worker's sweep, a few times a second: the send timeout, then the conversation's clock
    /// if something may be due (`Conversation.timerDue`; most connections have nothing due).
    func housekeeping(now: Int64) {
        if pendingOutput > 0 && now - lastProgress >= LoopClock.nanos(seconds: worker.config.sendTimeout) {
            conversation.end()      // PROTOCOL.md §9: queued output made no progress
        } else if now >= conversation.timerDue {
            conversation.timer(now: now)
        } else {
            return
        }
        apply()
    }

    func shutdown() { conversation.shutdown(); apply() }
    func drop() { conversation.drop(); apply() }

    // MARK: applying actions

    /// Performs the conversation's actions, then tells it how much output is still queued
    /// (which may produce more: the next pipelined answer, the next piece of a replay).
    private func apply() {
        let context = worker.context      // PERF: the loop's action buffer itself, not a copy of it per read
        repeat {
            var i = 0
            while i < context.actions.count {
                perform(context.actions[i])     // (it may append: a failed write emits `.close`)
                i += 1
            }
            conversation.clearActions()
            if isClosed { return }
            conversation.outputChanged(queued: pendingOutput)
        } while !conversation.actions.isEmpty
    }

    private func perform(_ action: Conversation.Action) {
        switch action {
        case .write(let bytes, let tag): send(bytes, tag: tag)
        case .pauseReading: setInterest(read: false)
        case .resumeReading: setInterest(read: true)
        case .subscribe(.sse): worker.sseSubscribers.add(self)
        case .subscribe(.webSocket): worker.webSocketSubscribers.add(self)
        case .subscribe(.longPoll): worker.longPollWaiters.add(self)
        case .subscribe(.http2): worker.http2Sessions.add(self)
        case .unsubscribe: worker.unsubscribe(self)
        case .schedule(let deadline):
            timer?.cancel()
            timer = worker.loop.schedule(atNanos: deadline) { [weak self] in
                guard let self = self, !self.isClosed else { return }
                self.conversation.timer(now: self.worker.loop.nowNanos)
                self.apply()
            }
        case .dropQueuedOutput: dropUnstartedOutput()
        case .gatherStats: worker.gatherStats(for: self)
        case .halfClose: Socket.shutdownWrite(fd)
        case .close: closeSocket()
        }
    }

    private func setInterest(read: Bool? = nil) {
        var wanted = SelectorInterest()
        if read ?? interest.contains(.read) { wanted.insert(.read) }
        if outputHead < output.count { wanted.insert(.write) }
        guard wanted != interest, !isClosed else { return }
        interest = wanted
        worker.loop.setInterest(fd: fd, wanted)
    }

    // MARK: writing

    /// Writes `bytes` now if the socket takes them, else queues the rest. Bytes are counted for
    /// `tag` as write() accepts them.
    // LESSON: byte-counting
    private func send(_ bytes: [UInt8], tag: CounterTag) {
        guard !isClosed, !bytes.isEmpty else { return }
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
                return conversation.peerClosed()
            }
            outputOffset = offset
            lastProgress = worker.loop.nowNanos
        }
        output.append((bytes, tag))
        changePending(by: bytes.count - offset)
        setInterest()
    }

    private func flush() {
        var progressed = false
        while outputHead < output.count {
            let (bytes, tag) = output[outputHead]
            let result = bytes.withUnsafeBytes { Socket.write(fd, UnsafeRawBufferPointer(rebasing: $0[outputOffset...])) }
            switch result {
            case .bytes(let n):
                stats.addBytesOut(n, tag)
                changePending(by: -n)
                progressed = true
                outputOffset += n
                if outputOffset == bytes.count {
                    outputHead += 1
                    outputOffset = 0
                }
            case .wouldBlock:
                if progressed { lastProgress = worker.loop.nowNanos }
                return
            case .closed:
                return conversation.peerClosed()
            }
        }
        // Drained: give the queue's memory back (a burst's peak is not kept).
        output = []
        outputHead = 0
        setInterest()
    }

    /// Drops queued arrays the socket has not started on; a half-written one is kept whole so
    /// the peer never sees half a frame or chunk.
    private func dropUnstartedOutput() {
        let keep = outputHead < output.count && outputOffset > 0 ? 1 : 0
        let dropFrom = outputHead + keep
        guard dropFrom < output.count else { return }
        var dropped = 0
        for i in dropFrom..<output.count { dropped += output[i].bytes.count }
        output.removeSubrange(dropFrom...)
        changePending(by: -dropped)
    }

    private func changePending(by delta: Int) {
        pendingOutput += delta
        worker.queuedBytesChanged(by: delta)
    }

    /// Between requests on a keep-alive connection: nothing half-read, nothing to write.
    var isIdleBetweenRequests: Bool { pendingOutput == 0 && conversation.isIdleBetweenRequests }

    // MARK: closing

    private func closeSocket() {
        guard !isClosed else { return }
        isClosed = true
        timer?.cancel()
        timer = nil
        conversation.countClosed()
        worker.loop.remove(fd: fd)
        Socket.closeFD(fd)
        changePending(by: -pendingOutput)
        output = []
        outputHead = 0
        worker.forget(self)
    }
}
