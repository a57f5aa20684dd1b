// RFC 9113: one HTTP/2 connection, sans-I/O. Events in, actions out; no sockets, no clocks.
//
//     start()                          → our preface (client: the 24 bytes + SETTINGS; server: SETTINGS)
//     receive(bytes, now:)             → actions: bytes to write, header lists and data received,
//                                        streams reset, GOAWAY received, a connection error
//     sendHeaders / sendData / resetStream / ping / goAway → actions (usually one .write)
//
// Every call returns at most one `.write`, holding all frames the call produced, so the loop
// makes one write per call. The loop feeds socket bytes in, performs the actions, and closes
// the socket after a `.connectionError` once that last write is out.
//
// Both roles use this type: a server (the client opens odd-numbered streams, §5.1.1) and a
// client (it opens odd streams with `openStream()` and refuses the even, pushed ones). What it
// enforces for a server facing a hostile peer:
//   - every frame-level rule (HTTP2FrameDecoder), stream states (HTTP2StreamState), flow
//     control (HTTP2FlowControl), header blocks (HPACK, CONTINUATION sequencing);
//   - SETTINGS_MAX_CONCURRENT_STREAMS: a stream past it is refused with RST_STREAM REFUSED_STREAM;
//   - header lists past SETTINGS_MAX_HEADER_LIST_SIZE (16 KiB): answered 431 and reset, with
//     the HPACK table kept in step, so an "HPACK bomb" costs one decode pass and no memory;
//   - a field block over `maxFieldBlockBytes` or more than `maxContinuationFrames`
//     CONTINUATION frames: GOAWAY ENHANCE_YOUR_CALM (the 2024 "CONTINUATION flood");
//   - streams the peer resets (or that we refuse) more than `maxResetsPerWindow` times per
//     `resetWindowNanoseconds`: GOAWAY ENHANCE_YOUR_CALM (rapid reset, CVE-2023-44487).
// Frame handling is in HTTP2Connection+Receive.swift.

/// Bytes one stream (or, for stream 0, the connection itself) moved in each direction.
public struct HTTP2ByteCount: Equatable, Sendable {
    public var received = 0
    public var sent = 0
    public init(received: Int = 0, sent: Int = 0) { self.received = received; self.sent = sent }
}

public struct HTTP2Connection {
    public enum Role: Sendable { case server, client }

    public struct Configuration: Sendable {
        public var maxConcurrentStreams = 100
        public var initialWindowSize = 65_535
        public var maxFrameSize = HTTP2Settings.defaultMaxFrameSize
        public var maxHeaderListSize = 16_384
        public var headerTableSize = 4096
        /// RFC 8441: announce SETTINGS_ENABLE_CONNECT_PROTOCOL = 1 (server) so WebSocket can use CONNECT.
        public var enableConnectProtocol = true
        /// Connection receive window; above 65,535 we announce it with a WINDOW_UPDATE on stream 0.
        public var connectionWindowSize = 1 << 20
        /// true: received DATA counts as consumed as soon as it is handed out (the application
        /// bounds what it keeps, e.g. by resetting a stream whose body is too long). false: the
        /// application calls `consumed(streamID:count:)` when it has processed the bytes, and
        /// the peer can never have more than the windows in flight.
        public var automaticWindowUpdates = true
        public var maxFieldBlockBytes = 65_536
        public var maxContinuationFrames = 32
        public var maxResetsPerWindow = 200
        public var resetWindowNanoseconds: UInt64 = 1_000_000_000
        public init() {}
    }

    public enum Action: Equatable, Sendable {
        /// Bytes for the socket, in order.
        case write([UInt8])
        /// A complete header list (request, response or trailers) on a stream.
        case headers(streamID: UInt32, fields: [HPACKHeaderField], endStream: Bool)
        case data(streamID: UInt32, bytes: [UInt8], endStream: Bool)
        /// A stream ended abnormally: reset by the peer (`byPeer`) or by us after a stream error.
        case streamReset(streamID: UInt32, code: HTTP2ErrorCode, byPeer: Bool)
        /// The peer sent GOAWAY: streams above `lastStreamID` we opened were not processed.
        case goAway(lastStreamID: UInt32, code: HTTP2ErrorCode, debugData: [UInt8])
        /// We found a connection error and queued GOAWAY: write, then close.
        case connectionError(HTTP2Error)
    }

    struct Stream {
        var state: HTTP2StreamState = .idle
        var sendWindow: HTTP2SendWindow
        var receiveWindow: HTTP2ReceiveWindow
        /// DATA waiting for flow-control window; `pendingEnd`: END_STREAM after it.
        var pending: [UInt8] = []
        var pendingEnd = false
        /// Trailers or a response already started (for the next HEADERS to be trailers).
        var receivedHeaders = false
        /// A request's content-length, checked against its DATA (§8.1.1).
        var expectedContentLength: Int?
        var receivedDataBytes = 0
        let openedByPeer: Bool
    }

    /// A field block being received across HEADERS/PUSH_PROMISE + CONTINUATION frames (§4.3).
    struct FieldBlockInProgress {
        var streamID: UInt32
        var endStream: Bool
        var priority: HTTP2Priority?
        var bytes: [UInt8]
        var continuationFrames = 0
    }

    public let role: Role
    public let configuration: Configuration
    /// What we announced. DEVIATION: we enforce it from the start, not from the peer's SETTINGS
    /// ACK (§6.5.3). With the default configuration only MAX_CONCURRENT_STREAMS and
    /// MAX_HEADER_LIST_SIZE differ from the initial values, and the RFC lets an endpoint refuse
    /// streams and oversized lists regardless (§5.1.2, §10.5.1).
    public internal(set) var localSettings = HTTP2Settings()
    /// What the peer announced.
    public internal(set) var remoteSettings = HTTP2Settings()

    var decoder: HTTP2FrameDecoder
    var hpackDecoder: HPACKDecoder
    var hpackEncoder = HPACKEncoder()
    var streams: [UInt32: Stream] = [:]
    /// Recently closed streams and why, so late frames get the §5.1 answer; bounded FIFO.
    var closedStreams: [UInt32: HTTP2StreamState.ClosedReason] = [:]
    var closedOrder: [UInt32] = []
    var connectionSendWindow = HTTP2SendWindow(65_535)
    var connectionReceiveWindow: HTTP2ReceiveWindow
    var highestPeerStreamID: UInt32 = 0
    var nextLocalStreamID: UInt32
    var fieldBlock: FieldBlockInProgress?
    var sawPeerSettings = false
    var goAwaySent = false
    var peerGoAwayLastStreamID: UInt32?
    var failed = false
    var resetWindowStart: UInt64 = 0
    var resetsInWindow = 0
    var lastNow: UInt64 = 0
    var output: [UInt8] = []
    var byteCounts: [UInt32: HTTP2ByteCount] = [:]
    var actions: [Action] = []

    public init(role: Role, configuration: Configuration = Configuration()) {
        self.role = role
        self.configuration = configuration
        decoder = HTTP2FrameDecoder(expectPreface: role == .server, maxFrameSize: configuration.maxFrameSize)
        hpackDecoder = HPACKDecoder(maxTableSize: configuration.headerTableSize, maxHeaderListSize: configuration.maxHeaderListSize)
        connectionReceiveWindow = HTTP2ReceiveWindow(65_535)
        nextLocalStreamID = role == .client ? 1 : 2
        localSettings.maxConcurrentStreams = configuration.maxConcurrentStreams
        localSettings.initialWindowSize = configuration.initialWindowSize
        localSettings.maxFrameSize = configuration.maxFrameSize
        localSettings.maxHeaderListSize = configuration.maxHeaderListSize
        localSettings.headerTableSize = configuration.headerTableSize
        localSettings.enablePush = false   // a client that accepts no pushes says so (§8.4)
        localSettings.enableConnectProtocol = role == .server && configuration.enableConnectProtocol
    }

    /// Streams currently open or half-closed.
    public var activeStreamCount: Int { streams.count }
    public var isFailed: Bool { failed }

    // MARK: - Events from the application

    /// Our connection preface (§3.4): the client's magic, then SETTINGS from both roles, and a
    /// WINDOW_UPDATE raising the connection window past its fixed initial 65,535 (§6.9.2).
    public mutating func start() -> [Action] {
        if role == .client {
            output.append(contentsOf: http2ClientPreface)
            byteCounts[0, default: HTTP2ByteCount()].sent += http2ClientPreface.count
        }
        var parameters = localSettings.nonDefaultParameters
        // SETTINGS_ENABLE_PUSH is the client's to send: "A server MUST NOT explicitly set this
        // value to 1" (§6.5.2), and 0 from a server says nothing, so a server leaves it out.
        if role == .server { parameters.removeAll { $0.id == .enablePush } }
        write(HTTP2Frame(streamID: 0, .settings(parameters)))
        let extra = configuration.connectionWindowSize - 65_535
        if extra > 0 {
            connectionReceiveWindow = HTTP2ReceiveWindow(configuration.connectionWindowSize)
            write(HTTP2Frame(streamID: 0, .windowUpdate(increment: UInt32(extra))))
        }
        return flush()
    }

    /// May a client open another stream now? Not after the peer's GOAWAY (§6.8), nor past the
    /// peer's SETTINGS_MAX_CONCURRENT_STREAMS (§5.1.2).
    public var canOpenStream: Bool {
        guard role == .client, !failed, peerGoAwayLastStreamID == nil else { return false }
        let ours = streams.values.filter { !$0.openedByPeer }.count
        return ours < (remoteSettings.maxConcurrentStreams ?? Int.max)
    }

    /// A client's next stream identifier (odd, increasing; §5.1.1).
    public mutating func openStream() -> UInt32 {
        let id = nextLocalStreamID
        nextLocalStreamID += 2
        return id
    }

    /// Sends a header list (request, response or trailers) as HEADERS + CONTINUATION (§4.3).
    public mutating func sendHeaders(streamID id: UInt32, fields: [HPACKHeaderField], endStream: Bool) throws(HTTP2Error) -> [Action] {
        guard !failed else { throw .connection(.internalError, "connection failed") }
        var stream = streams[id] ?? Stream(sendWindow: HTTP2SendWindow(remoteSettings.initialWindowSize),
                                           receiveWindow: HTTP2ReceiveWindow(localSettings.initialWindowSize),
                                           openedByPeer: false)
        if streams[id] == nil {
            // A stream we open: ours by parity and above all we opened (§5.1.1).
            guard role == .client, id % 2 == 1, id < nextLocalStreamID, closedStreams[id] == nil else {
                throw .stream(id, .internalError, "stream \(id) is not open")
            }
            guard peerGoAwayLastStreamID == nil else { throw .stream(id, .refusedStream, "the peer sent GOAWAY") }
        }
        try stream.state.send(.headers(endStream: endStream), streamID: id)
        let block = hpackEncoder.encode(fields)
        for frame in HTTP2FrameEncoder.headerFrames(streamID: id, fieldBlock: block, endStream: endStream,
                                                    maxFrameSize: remoteSettings.maxFrameSize) {
            write(frame)
        }
        store(stream, id)
        return flush()
    }

    /// Sends DATA, as far as the flow-control windows allow; the rest waits for WINDOW_UPDATE.
    public mutating func sendData(streamID id: UInt32, bytes: [UInt8], endStream: Bool) throws(HTTP2Error) -> [Action] {
        guard !failed else { throw .connection(.internalError, "connection failed") }
        guard var stream = streams[id], stream.state.weCanSend, !stream.pendingEnd else {
            throw .stream(id, .internalError, "cannot send DATA on stream \(id)")
        }
        stream.pending.append(contentsOf: bytes)
        stream.pendingEnd = endStream
        streams[id] = stream
        flushData(id)
        return flush()
    }

    /// Bytes accepted by `sendData` but not yet sent for lack of window.
    public func pendingDataCount(streamID: UInt32) -> Int { streams[streamID]?.pending.count ?? 0 }

    /// With `automaticWindowUpdates` off: the application processed `count` bytes of DATA
    /// received on the stream; the windows re-open (WINDOW_UPDATE) once half of them is used.
    public mutating func consumed(streamID id: UInt32, count: Int) -> [Action] {
        guard !failed, count > 0 else { return [] }
        connectionReceiveWindow.consume(count)
        if let update = connectionReceiveWindow.takeUpdate() {
            write(HTTP2Frame(streamID: 0, .windowUpdate(increment: UInt32(update))))
        }
        if var stream = streams[id], stream.state.peerCanSend {
            stream.receiveWindow.consume(count)
            if let update = stream.receiveWindow.takeUpdate() {
                write(HTTP2Frame(streamID: id, .windowUpdate(increment: UInt32(update))))
            }
            streams[id] = stream
        }
        return flush()
    }

    public mutating func resetStream(streamID id: UInt32, code: HTTP2ErrorCode) -> [Action] {
        guard !failed, streams[id] != nil else { return flush() }
        sendReset(id, code)
        return flush()
    }

    public mutating func ping(_ opaque: UInt64) -> [Action] {
        guard !failed else { return [] }
        write(HTTP2Frame(streamID: 0, .ping(opaque)))
        return flush()
    }

    /// Graceful shutdown (§6.8): no new streams; the ones up to the last we saw may finish.
    public mutating func goAway(code: HTTP2ErrorCode = .noError, debugData: [UInt8] = []) -> [Action] {
        guard !failed else { return [] }
        goAwaySent = true
        write(HTTP2Frame(streamID: 0, .goAway(lastStreamID: highestPeerStreamID, error: code, debugData: debugData)))
        return flush()
    }

    // MARK: - Output helpers

    mutating func write(_ frame: HTTP2Frame) {
        HTTP2FrameEncoder.append(frame, to: &output)
        byteCounts[frame.streamID, default: HTTP2ByteCount()].sent += frame.wireSize
    }

    /// Bytes received and sent since the last call, per stream, each frame (header included)
    /// charged to its stream identifier; 0 holds the connection's own frames (SETTINGS, PING,
    /// GOAWAY, connection WINDOW_UPDATE), the preface, and received bytes that formed no
    /// frame (a frame refused by a stream error in the decoder, or bytes after a connection
    /// error). Bytes still buffered (an incomplete frame) are counted when their frame completes,
    /// so over a connection's life the sums equal what crossed the socket.
    public mutating func takeByteCounts() -> [UInt32: HTTP2ByteCount] {
        defer { byteCounts = [:] }
        return byteCounts
    }

    mutating func flush() -> [Action] {
        var result: [Action] = []
        if !output.isEmpty {
            result.append(.write(output))
            output = []
        }
        // Received items come after the write of the same call, which carries our answers
        // (SETTINGS ACK, PING ACK, WINDOW_UPDATE) to the frames that produced them.
        result.append(contentsOf: actions)
        actions = []
        return result
    }

    /// Sends what the windows allow of a stream's pending DATA, in frames ≤ the peer's max size.
    mutating func flushData(_ id: UInt32) {
        guard var stream = streams[id] else { return }
        while true {
            let allowed = min(stream.pending.count, max(0, stream.sendWindow.size), max(0, connectionSendWindow.size),
                              remoteSettings.maxFrameSize)
            let last = allowed == stream.pending.count
            // Send when there is something allowed, or when only END_STREAM remains (an empty
            // DATA frame with END_STREAM needs no window, §6.9.1).
            guard allowed > 0 || (last && stream.pendingEnd) else { break }
            let chunk = Array(stream.pending[..<allowed])
            stream.pending.removeFirst(allowed)
            stream.sendWindow.consume(allowed)
            connectionSendWindow.consume(allowed)
            let end = last && stream.pendingEnd
            write(HTTP2Frame(streamID: id, .data(chunk, endStream: end)))
            if end {
                stream.pendingEnd = false
                try? stream.state.send(.data(endStream: true), streamID: id)
                break
            }
            if stream.pending.isEmpty { break }
        }
        store(stream, id)
    }

    /// Keeps a stream, or moves it to `closedStreams` once closed.
    mutating func store(_ stream: Stream, _ id: UInt32) {
        if case .closed(let reason) = stream.state {
            streams[id] = nil
            rememberClosed(id, reason)
        } else {
            streams[id] = stream
        }
    }

    mutating func rememberClosed(_ id: UInt32, _ reason: HTTP2StreamState.ClosedReason) {
        if closedStreams.updateValue(reason, forKey: id) == nil { closedOrder.append(id) }
        // Kept small: an idle connection should cost little memory (issue 10 asks ≤ 4 KB);
        // a frame for a stream older than this gets the answer for a stream that ended.
        if closedOrder.count > 64 {
            let drop = closedOrder.count - 32
            for old in closedOrder[..<drop] { closedStreams[old] = nil }
            closedOrder.removeFirst(drop)
        }
    }

    mutating func sendReset(_ id: UInt32, _ code: HTTP2ErrorCode) {
        write(HTTP2Frame(streamID: id, .rstStream(code)))
        streams[id] = nil
        rememberClosed(id, .sentReset)
        actions.append(.streamReset(streamID: id, code: code, byPeer: false))
    }

    /// §5.4.1: GOAWAY with the last peer stream we processed and the code, then close.
    mutating func connectionError(_ error: HTTP2Error) {
        guard !failed else { return }
        failed = true
        write(HTTP2Frame(streamID: 0, .goAway(lastStreamID: highestPeerStreamID, error: error.code,
                                              debugData: Array(error.reason.utf8.prefix(256)))))
        actions.append(.connectionError(error))
    }
}
