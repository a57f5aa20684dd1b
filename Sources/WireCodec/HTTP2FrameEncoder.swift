// RFC 9113 §4.1 and §6: frames to bytes. Stateless: the connection decides what to send; this
// only lays out bits. `appendHeader` writes just the 9-byte header so a DATA frame's payload
// can be written from the caller's buffer without copying.

public enum HTTP2FrameEncoder {
    public static let frameHeaderSize = 9

    /// §4.1: length (24 bits), type, flags, R bit 0 + stream identifier (31 bits).
    public static func appendHeader(length: Int, type: UInt8, flags: UInt8, streamID: UInt32, to out: inout [UInt8]) {
        precondition(length >= 0 && length < 1 << 24)
        out.append(UInt8(truncatingIfNeeded: length >> 16))
        out.append(UInt8(truncatingIfNeeded: length >> 8))
        out.append(UInt8(truncatingIfNeeded: length))
        out.append(type)
        out.append(flags)
        appendUInt32(streamID & 0x7FFF_FFFF, to: &out)
    }

    public static func encode(_ frame: HTTP2Frame) -> [UInt8] {
        var out: [UInt8] = []
        append(frame, to: &out)
        return out
    }

    public static func payloadLength(of frame: HTTP2Frame) -> Int {
        func padded(_ p: Int?) -> Int { p.map { $0 + 1 } ?? 0 }
        switch frame.payload {
        case .data(let bytes, _, let padding): return bytes.count + padded(padding)
        case .headers(let block, _, _, let priority, let padding): return block.count + padded(padding) + (priority == nil ? 0 : 5)
        case .priority: return 5
        case .rstStream: return 4
        case .settings(let list, _): return list.count * 6
        case .pushPromise(_, let block, _, let padding): return 4 + block.count + padded(padding)
        case .ping: return 8
        case .goAway(_, _, let debug): return 8 + debug.count
        case .windowUpdate: return 4
        case .continuation(let block, _): return block.count
        case .unknown(_, _, let payload): return payload.count
        }
    }

    public static func append(_ frame: HTTP2Frame, to out: inout [UInt8]) {
        let length = payloadLength(of: frame)
        let id = frame.streamID
        func flag(_ on: Bool, _ bit: UInt8) -> UInt8 { on ? bit : 0 }
        func appendPadding(_ padding: Int?, _ body: (inout [UInt8]) -> Void) {
            if let padding { out.append(UInt8(padding)) }   // Pad Length
            body(&out)
            if let padding { out.append(contentsOf: repeatElement(0, count: padding)) }   // "MUST be set to zero when sending"
        }
        switch frame.payload {
        case .data(let bytes, let endStream, let padding):
            appendHeader(length: length, type: HTTP2FrameType.data,
                         flags: flag(endStream, HTTP2Flags.endStream) | flag(padding != nil, HTTP2Flags.padded), streamID: id, to: &out)
            appendPadding(padding) { $0.append(contentsOf: bytes) }
        case .headers(let block, let endStream, let endHeaders, let priority, let padding):
            let flags = flag(endStream, HTTP2Flags.endStream) | flag(endHeaders, HTTP2Flags.endHeaders)
                | flag(padding != nil, HTTP2Flags.padded) | flag(priority != nil, HTTP2Flags.priority)
            appendHeader(length: length, type: HTTP2FrameType.headers, flags: flags, streamID: id, to: &out)
            appendPadding(padding) { out in
                if let priority { appendPriority(priority, to: &out) }
                out.append(contentsOf: block)
            }
        case .priority(let priority):
            appendHeader(length: length, type: HTTP2FrameType.priority, flags: 0, streamID: id, to: &out)
            appendPriority(priority, to: &out)
        case .rstStream(let code):
            appendHeader(length: length, type: HTTP2FrameType.rstStream, flags: 0, streamID: id, to: &out)
            appendUInt32(code.rawValue, to: &out)
        case .settings(let list, let ack):
            appendHeader(length: length, type: HTTP2FrameType.settings, flags: flag(ack, HTTP2Flags.ack), streamID: id, to: &out)
            for setting in list {
                out.append(UInt8(setting.id.rawValue >> 8))
                out.append(UInt8(truncatingIfNeeded: setting.id.rawValue))
                appendUInt32(setting.value, to: &out)
            }
        case .pushPromise(let promised, let block, let endHeaders, let padding):
            appendHeader(length: length, type: HTTP2FrameType.pushPromise,
                         flags: flag(endHeaders, HTTP2Flags.endHeaders) | flag(padding != nil, HTTP2Flags.padded), streamID: id, to: &out)
            appendPadding(padding) { out in
                appendUInt32(promised & 0x7FFF_FFFF, to: &out)
                out.append(contentsOf: block)
            }
        case .ping(let opaque, let ack):
            appendHeader(length: length, type: HTTP2FrameType.ping, flags: flag(ack, HTTP2Flags.ack), streamID: id, to: &out)
            appendUInt32(UInt32(truncatingIfNeeded: opaque >> 32), to: &out)
            appendUInt32(UInt32(truncatingIfNeeded: opaque), to: &out)
        case .goAway(let last, let code, let debug):
            appendHeader(length: length, type: HTTP2FrameType.goAway, flags: 0, streamID: id, to: &out)
            appendUInt32(last & 0x7FFF_FFFF, to: &out)
            appendUInt32(code.rawValue, to: &out)
            out.append(contentsOf: debug)
        case .windowUpdate(let increment):
            appendHeader(length: length, type: HTTP2FrameType.windowUpdate, flags: 0, streamID: id, to: &out)
            appendUInt32(increment & 0x7FFF_FFFF, to: &out)
        case .continuation(let block, let endHeaders):
            appendHeader(length: length, type: HTTP2FrameType.continuation, flags: flag(endHeaders, HTTP2Flags.endHeaders), streamID: id, to: &out)
            out.append(contentsOf: block)
        case .unknown(let type, let flags, let payload):
            appendHeader(length: length, type: type, flags: flags, streamID: id, to: &out)
            out.append(contentsOf: payload)
        }
    }

    /// A field block as one HEADERS frame and as many CONTINUATION frames as `maxFrameSize`
    /// requires (§4.3: the block must be sent as a contiguous sequence of frames).
    public static func headerFrames(streamID: UInt32, fieldBlock: [UInt8], endStream: Bool,
                                    maxFrameSize: Int) -> [HTTP2Frame] {
        guard fieldBlock.count > maxFrameSize else {
            return [HTTP2Frame(streamID: streamID, .headers(fieldBlock: fieldBlock, endStream: endStream, endHeaders: true))]
        }
        var frames = [HTTP2Frame(streamID: streamID, .headers(fieldBlock: Array(fieldBlock[..<maxFrameSize]),
                                                             endStream: endStream, endHeaders: false))]
        var start = maxFrameSize
        while start < fieldBlock.count {
            let end = min(fieldBlock.count, start + maxFrameSize)
            frames.append(HTTP2Frame(streamID: streamID, .continuation(fieldBlock: Array(fieldBlock[start..<end]),
                                                                      endHeaders: end == fieldBlock.count)))
            start = end
        }
        return frames
    }

    static func appendPriority(_ p: HTTP2Priority, to out: inout [UInt8]) {
        appendUInt32((p.exclusive ? 0x8000_0000 : 0) | (p.dependency & 0x7FFF_FFFF), to: &out)
        out.append(p.weight)
    }

    static func appendUInt32(_ v: UInt32, to out: inout [UInt8]) {
        out.append(UInt8(truncatingIfNeeded: v >> 24))
        out.append(UInt8(truncatingIfNeeded: v >> 16))
        out.append(UInt8(truncatingIfNeeded: v >> 8))
        out.append(UInt8(truncatingIfNeeded: v))
    }
}
