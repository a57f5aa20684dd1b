// RFC 9113 §4 and §6: bytes to frames, incrementally ("sans-I/O"). `feed` whatever arrived,
// then call `nextFrame()` until it returns nil (needs more bytes) or throws an `HTTP2Error`.
//
//     [readingPreface] → readingHeader → readingPayload(header) → frame → readingHeader → ...
//
// A server's decoder first checks the 24-byte client preface (§3.4), byte by byte as it
// arrives, so an HTTP/1.1 request is refused at its first differing byte.
//
// What this decoder checks is what one frame shows on its own (§4.2 sizes, §6 per-type rules:
// which types may use stream 0, fixed lengths, padding). Rules that need the connection's
// memory (stream states, CONTINUATION sequencing, flow control) live in HTTP2Connection.
// The header's rules are checked as soon as its 9 bytes are in, so an oversized frame is
// refused before its payload is buffered.
//
// Errors: a connection error fails the decoder for good (every later call throws it again).
// A stream error (PRIORITY of the wrong length, a zero WINDOW_UPDATE on a stream) is thrown
// once, *after* the frame was consumed, and the decoder goes on with the next frame.

public struct HTTP2FrameDecoder {
    public struct FrameHeader: Equatable, Sendable {
        public var length: Int
        public var type: UInt8
        public var flags: UInt8
        public var streamID: UInt32
        func has(_ flag: UInt8) -> Bool { flags & flag != 0 }
    }

    private enum State {
        /// The client preface is expected; `matched` of its 24 bytes were seen.
        case readingPreface(matched: Int)
        case readingHeader
        case readingPayload(FrameHeader)
        case failed(HTTP2Error)
    }

    private var state: State
    private var buffer: [UInt8] = []
    private var readIndex = 0
    /// Our SETTINGS_MAX_FRAME_SIZE (§4.2): a larger frame is a FRAME_SIZE_ERROR.
    public var maxFrameSize: Int

    /// `expectPreface`: true on a server, which must first see the client preface (§3.4).
    public init(expectPreface: Bool, maxFrameSize: Int = HTTP2Settings.defaultMaxFrameSize) {
        state = expectPreface ? .readingPreface(matched: 0) : .readingHeader
        self.maxFrameSize = maxFrameSize
    }

    public var bufferedByteCount: Int { buffer.count - readIndex }

    public mutating func feed(_ bytes: [UInt8]) {
        guard prepareToAppend() else { return }
        buffer.append(contentsOf: bytes)
    }

    public mutating func feed(_ bytes: UnsafeRawBufferPointer) {
        guard prepareToAppend() else { return }
        buffer.append(contentsOf: bytes)
    }

    /// The next frame, nil when more bytes are needed, or an HTTP2Error.
    public mutating func nextFrame() throws(HTTP2Error) -> HTTP2Frame? {
        while true {
            switch state {
            case .failed(let error):
                throw error
            case .readingPreface(var matched):
                while matched < http2ClientPreface.count {
                    guard readIndex < buffer.count else { state = .readingPreface(matched: matched); return nil }
                    // §3.4: "Clients and servers MUST treat an invalid connection preface as a
                    // connection error of type PROTOCOL_ERROR."
                    guard buffer[readIndex] == http2ClientPreface[matched] else {
                        try fail(.connection(.protocolError, "invalid connection preface (RFC 9113 §3.4)"))
                    }
                    readIndex += 1
                    matched += 1
                }
                state = .readingHeader
            case .readingHeader:
                guard bufferedByteCount >= HTTP2FrameEncoder.frameHeaderSize else {
                    // Idle with a large buffer left from a big frame: give the memory back.
                    if readIndex == buffer.count && buffer.capacity > 4096 { buffer = []; readIndex = 0 }
                    return nil
                }
                let b = buffer[readIndex..<readIndex + 9]
                let i = b.startIndex
                let header = FrameHeader(
                    length: Int(b[i]) << 16 | Int(b[i + 1]) << 8 | Int(b[i + 2]),
                    type: b[i + 3], flags: b[i + 4],
                    // §4.1: the reserved bit "MUST remain unset (0x0) when sending and MUST be
                    // ignored when receiving".
                    streamID: readUInt32(at: readIndex + 5) & 0x7FFF_FFFF)
                readIndex += 9
                if let error = checkHeader(header) { try fail(error) }
                state = .readingPayload(header)
            case .readingPayload(let header):
                guard bufferedByteCount >= header.length else { return nil }
                let start = readIndex
                readIndex += header.length
                state = .readingHeader
                do {
                    return try parsePayload(header, from: start)
                } catch {
                    if error.scope == .connection { try fail(error) }
                    throw error   // stream error: this frame is consumed, the next one may follow
                }
            }
        }
    }

    // MARK: - Rules on the 9-byte header

    private func checkHeader(_ h: FrameHeader) -> HTTP2Error? {
        // §4.2: "An endpoint MUST send an error code of FRAME_SIZE_ERROR if a frame exceeds the
        // size defined in SETTINGS_MAX_FRAME_SIZE". We make it a connection error for every
        // type (§5.4.1 allows treating a stream error as a connection error), so we never
        // read or skip a payload larger than we agreed to.
        if h.length > maxFrameSize {
            return .connection(.frameSizeError, "frame of \(h.length) bytes exceeds SETTINGS_MAX_FRAME_SIZE \(maxFrameSize)")
        }
        let onStreamZero = h.streamID == 0
        switch h.type {
        case HTTP2FrameType.data, HTTP2FrameType.headers, HTTP2FrameType.priority, HTTP2FrameType.rstStream,
             HTTP2FrameType.pushPromise, HTTP2FrameType.continuation:
            // §6.1, §6.2, §6.3, §6.4, §6.6, §6.10: "MUST be associated with a stream. If a ...
            // frame is received whose Stream Identifier field is 0x00, the recipient MUST
            // respond with a connection error ... of type PROTOCOL_ERROR."
            if onStreamZero { return .connection(.protocolError, "\(Self.name(h.type)) on stream 0") }
        case HTTP2FrameType.settings, HTTP2FrameType.ping, HTTP2FrameType.goAway:
            // §6.5, §6.7, §6.8: these apply to the connection; any other stream → PROTOCOL_ERROR.
            if !onStreamZero { return .connection(.protocolError, "\(Self.name(h.type)) on stream \(h.streamID)") }
        default: break
        }
        switch h.type {
        case HTTP2FrameType.rstStream where h.length != 4:
            // §6.4: "A RST_STREAM frame with a length other than 4 octets MUST be treated as a
            // connection error ... FRAME_SIZE_ERROR."
            return .connection(.frameSizeError, "RST_STREAM of \(h.length) bytes")
        case HTTP2FrameType.settings where h.has(HTTP2Flags.ack) && h.length != 0:
            // §6.5: "Receipt of a SETTINGS frame with the ACK flag set and a length field value
            // other than 0 MUST be treated as a connection error ... FRAME_SIZE_ERROR."
            return .connection(.frameSizeError, "SETTINGS ACK with a payload")
        case HTTP2FrameType.settings where h.length % 6 != 0:
            // §6.5: "A SETTINGS frame with a length other than a multiple of 6 octets MUST be
            // treated as a connection error ... FRAME_SIZE_ERROR."
            return .connection(.frameSizeError, "SETTINGS of \(h.length) bytes, not a multiple of 6")
        case HTTP2FrameType.ping where h.length != 8:
            // §6.7: "Receipt of a PING frame with a length field value other than 8 MUST be
            // treated as a connection error ... FRAME_SIZE_ERROR."
            return .connection(.frameSizeError, "PING of \(h.length) bytes")
        case HTTP2FrameType.goAway where h.length < 8:
            // §4.2: "too small to contain mandatory frame data".
            return .connection(.frameSizeError, "GOAWAY of \(h.length) bytes")
        case HTTP2FrameType.windowUpdate where h.length != 4:
            // §6.9: "A WINDOW_UPDATE frame with a length other than 4 octets MUST be treated as
            // a connection error ... FRAME_SIZE_ERROR."
            return .connection(.frameSizeError, "WINDOW_UPDATE of \(h.length) bytes")
        default:
            return nil
        }
    }

    // MARK: - Payloads

    private func parsePayload(_ h: FrameHeader, from start: Int) throws(HTTP2Error) -> HTTP2Frame {
        let end = start + h.length
        let id = h.streamID
        switch h.type {
        case HTTP2FrameType.data:
            let (body, padding) = try unpad(h, start, end, fixed: 0)
            return HTTP2Frame(streamID: id, .data(Array(buffer[body]), endStream: h.has(HTTP2Flags.endStream), padding: padding))
        case HTTP2FrameType.headers:
            let fixed = h.has(HTTP2Flags.priority) ? 5 : 0
            let (body, padding) = try unpad(h, start, end, fixed: fixed)
            let priority = fixed == 5 ? readPriority(at: body.lowerBound) : nil
            return HTTP2Frame(streamID: id, .headers(fieldBlock: Array(buffer[(body.lowerBound + fixed)..<body.upperBound]),
                                                     endStream: h.has(HTTP2Flags.endStream), endHeaders: h.has(HTTP2Flags.endHeaders),
                                                     priority: priority, padding: padding))
        case HTTP2FrameType.priority:
            // §6.3: "A PRIORITY frame with a length other than 5 octets MUST be treated as a
            // stream error ... FRAME_SIZE_ERROR."
            guard h.length == 5 else { throw .stream(id, .frameSizeError, "PRIORITY of \(h.length) bytes") }
            let priority = readPriority(at: start)
            // §5.3.1: "A stream cannot depend on itself. An endpoint MUST treat this as a stream
            // error ... PROTOCOL_ERROR." (Kept although RFC 9113 deprecates the scheme.)
            guard priority.dependency != id else { throw .stream(id, .protocolError, "stream depends on itself") }
            return HTTP2Frame(streamID: id, .priority(priority))
        case HTTP2FrameType.rstStream:
            return HTTP2Frame(streamID: id, .rstStream(HTTP2ErrorCode(rawValue: readUInt32(at: start))))
        case HTTP2FrameType.settings:
            if h.has(HTTP2Flags.ack) { return HTTP2Frame(streamID: 0, .settings([], ack: true)) }
            var list: [HTTP2Setting] = []
            list.reserveCapacity(h.length / 6)
            for offset in stride(from: start, to: end, by: 6) {
                let idValue = UInt16(buffer[offset]) << 8 | UInt16(buffer[offset + 1])
                list.append(HTTP2Setting(HTTP2SettingID(rawValue: idValue), readUInt32(at: offset + 2)))
            }
            return HTTP2Frame(streamID: 0, .settings(list))
        case HTTP2FrameType.pushPromise:
            let (body, padding) = try unpad(h, start, end, fixed: 4)
            let promised = readUInt32(at: body.lowerBound) & 0x7FFF_FFFF
            return HTTP2Frame(streamID: id, .pushPromise(promisedStreamID: promised,
                                                         fieldBlock: Array(buffer[(body.lowerBound + 4)..<body.upperBound]),
                                                         endHeaders: h.has(HTTP2Flags.endHeaders), padding: padding))
        case HTTP2FrameType.ping:
            let opaque = UInt64(readUInt32(at: start)) << 32 | UInt64(readUInt32(at: start + 4))
            return HTTP2Frame(streamID: 0, .ping(opaque, ack: h.has(HTTP2Flags.ack)))
        case HTTP2FrameType.goAway:
            return HTTP2Frame(streamID: 0, .goAway(lastStreamID: readUInt32(at: start) & 0x7FFF_FFFF,
                                                   error: HTTP2ErrorCode(rawValue: readUInt32(at: start + 4)),
                                                   debugData: Array(buffer[(start + 8)..<end])))
        case HTTP2FrameType.windowUpdate:
            let increment = readUInt32(at: start) & 0x7FFF_FFFF
            // §6.9: "A receiver MUST treat the receipt of a WINDOW_UPDATE frame with a flow-control
            // window increment of 0 as a stream error ... PROTOCOL_ERROR; errors on the
            // connection flow-control window MUST be treated as a connection error".
            if increment == 0 {
                throw id == 0 ? .connection(.protocolError, "WINDOW_UPDATE of 0 on the connection")
                              : .stream(id, .protocolError, "WINDOW_UPDATE of 0")
            }
            return HTTP2Frame(streamID: id, .windowUpdate(increment: increment))
        case HTTP2FrameType.continuation:
            return HTTP2Frame(streamID: id, .continuation(fieldBlock: Array(buffer[start..<end]), endHeaders: h.has(HTTP2Flags.endHeaders)))
        default:
            return HTTP2Frame(streamID: id, .unknown(type: h.type, flags: h.flags, payload: Array(buffer[start..<end])))
        }
    }

    /// §6.1 / §6.2 / §6.6 padding: returns the range after the Pad Length field with the padding
    /// cut off, and the padding length (nil when not PADDED). `fixed` bytes must remain for the
    /// type's own fields (priority, promised stream).
    private func unpad(_ h: FrameHeader, _ start: Int, _ end: Int, fixed: Int) throws(HTTP2Error) -> (Range<Int>, Int?) {
        guard h.has(HTTP2Flags.padded) else {
            guard h.length >= fixed else { throw .connection(.frameSizeError, "\(Self.name(h.type)) too short") }
            return (start..<end, nil)
        }
        guard h.length >= 1 + fixed else { throw .connection(.frameSizeError, "\(Self.name(h.type)) too short for its padding") }
        let padding = Int(buffer[start])
        // §6.1: "If the length of the padding is the length of the frame payload or greater,
        // the recipient MUST treat this as a connection error ... PROTOCOL_ERROR."
        guard padding <= h.length - 1 - fixed else {
            throw .connection(.protocolError, "padding of \(padding) bytes in a \(h.length)-byte \(Self.name(h.type))")
        }
        return ((start + 1)..<(end - padding), padding)
    }

    private func readPriority(at i: Int) -> HTTP2Priority {
        let word = readUInt32(at: i)
        return HTTP2Priority(exclusive: word & 0x8000_0000 != 0, dependency: word & 0x7FFF_FFFF, weight: buffer[i + 4])
    }

    private func readUInt32(at i: Int) -> UInt32 {
        UInt32(buffer[i]) << 24 | UInt32(buffer[i + 1]) << 16 | UInt32(buffer[i + 2]) << 8 | UInt32(buffer[i + 3])
    }

    static func name(_ type: UInt8) -> String {
        let names = ["DATA", "HEADERS", "PRIORITY", "RST_STREAM", "SETTINGS", "PUSH_PROMISE", "PING", "GOAWAY",
                     "WINDOW_UPDATE", "CONTINUATION"]
        return Int(type) < names.count ? names[Int(type)] : "frame type 0x" + String(type, radix: 16)
    }

    // MARK: - Buffer (same policy as WebSocketFrameDecoder)

    private mutating func fail(_ error: HTTP2Error) throws(HTTP2Error) -> Never {
        state = .failed(error)
        buffer = []
        readIndex = 0
        throw error
    }

    private mutating func prepareToAppend() -> Bool {
        if case .failed = state { return false }
        if readIndex == buffer.count {
            buffer.removeAll(keepingCapacity: true)
            readIndex = 0
        } else if readIndex >= 4096 && readIndex >= buffer.count / 2 {
            buffer.removeSubrange(0..<readIndex)
            readIndex = 0
        }
        return true
    }
}
