// Whose are the bytes an HTTP/2 peer sent? (PROTOCOL.md §11 Counting.) Every frame belongs to
// its stream, and the stream to a transport and a client; the connection preface and frames on
// stream 0 (SETTINGS, PING, WINDOW_UPDATE, GOAWAY) belong to the connection itself, the
// `"http2"` object of /stats. Counted that way, transports + http2 add up to what crossed the
// socket, to the byte.
//
// This is a scanner of frame boundaries only (RFC 9113 §4.1: a 9-byte header whose first 24
// bits are the payload length, whose last 31 bits are the stream identifier), kept apart from
// HTTP2FrameDecoder so that counting never depends on whether a frame turns out to be valid.
// It is fed the same bytes as the decoder and returns runs: (stream, byte count).
// A frame header split across reads is held back until it is complete (its stream is not
// known before); the session charges what is still held when the connection closes.
import WireCodec

struct HTTP2FrameCounter {
    /// Consecutive received bytes that belong to one stream (0: the connection).
    struct Run: Equatable {
        var streamID: UInt32
        var count: Int
    }

    /// Bytes of the client preface still expected (RFC 9113 §3.4: 24 octets).
    private var prefaceLeft: Int
    private var header: (UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8) = (0, 0, 0, 0, 0, 0, 0, 0, 0)
    /// Bytes of the current frame header received so far (0...8).
    private(set) var heldHeaderBytes = 0
    private var payloadLeft = 0
    private var currentStream: UInt32 = 0
    /// A field block (HEADERS without END_HEADERS, §4.3) is open on this stream: the request is
    /// not complete, so its stream is not routed yet.
    private(set) var openFieldBlock: UInt32?

    init(expectPreface: Bool = true) {
        prefaceLeft = expectPreface ? http2ClientPreface.count : 0
    }

    /// The stream of a frame whose header is in but whose payload is not (nil at a boundary).
    var partialFrameStream: UInt32? { payloadLeft > 0 ? currentStream : nil }

    mutating func scan(_ bytes: UnsafeRawBufferPointer) -> [Run] {
        var runs: [Run] = []
        func add(_ id: UInt32, _ n: Int) {
            guard n > 0 else { return }
            if let last = runs.last, last.streamID == id { runs[runs.count - 1].count += n } else { runs.append(Run(streamID: id, count: n)) }
        }
        var i = 0
        while i < bytes.count {
            if prefaceLeft > 0 {
                let k = min(prefaceLeft, bytes.count - i)
                prefaceLeft -= k; i += k
                add(0, k)
            } else if payloadLeft > 0 {
                let k = min(payloadLeft, bytes.count - i)
                payloadLeft -= k; i += k
                add(currentStream, k)
            } else {
                withUnsafeMutableBytes(of: &header) { $0[heldHeaderBytes] = bytes[i] }
                heldHeaderBytes += 1; i += 1
                if heldHeaderBytes == HTTP2FrameEncoder.frameHeaderSize { frameHeaderComplete(add) }
            }
        }
        return runs
    }

    private mutating func frameHeaderComplete(_ add: (UInt32, Int) -> Void) {
        let h = header
        payloadLeft = Int(h.0) << 16 | Int(h.1) << 8 | Int(h.2)
        // §4.1: the reserved bit is ignored.
        currentStream = (UInt32(h.5) << 24 | UInt32(h.6) << 16 | UInt32(h.7) << 8 | UInt32(h.8)) & 0x7FFF_FFFF
        heldHeaderBytes = 0
        add(currentStream, HTTP2FrameEncoder.frameHeaderSize)
        let endHeaders = h.4 & HTTP2Flags.endHeaders != 0
        if h.3 == HTTP2FrameType.headers {
            openFieldBlock = endHeaders ? nil : currentStream
        } else if h.3 == HTTP2FrameType.continuation && endHeaders {
            openFieldBlock = nil
        }
    }

    /// Splits bytes we send (whole frames, as HTTP2Connection writes them) into runs by stream.
    static func runs(ofFrames bytes: [UInt8]) -> [(range: Range<Int>, streamID: UInt32)] {
        var out: [(range: Range<Int>, streamID: UInt32)] = []
        var i = 0
        while i + HTTP2FrameEncoder.frameHeaderSize <= bytes.count {
            let length = Int(bytes[i]) << 16 | Int(bytes[i + 1]) << 8 | Int(bytes[i + 2])
            let id = (UInt32(bytes[i + 5]) << 24 | UInt32(bytes[i + 6]) << 16 | UInt32(bytes[i + 7]) << 8 | UInt32(bytes[i + 8])) & 0x7FFF_FFFF
            let end = min(bytes.count, i + HTTP2FrameEncoder.frameHeaderSize + length)
            if let last = out.last, last.streamID == id {
                out[out.count - 1].range = last.range.lowerBound..<end
            } else {
                out.append((i..<end, id))
            }
            i = end
        }
        if i < bytes.count { out.append((i..<bytes.count, 0)) }   // never happens: frames are whole
        return out
    }
}
