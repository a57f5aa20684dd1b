// RFC 6455 §5.2 frame decoder. Frame-level rules only (RSV, opcodes, control frame limits,
// masking direction, length limit); message-level rules live in WebSocketMessageAssembler.
//
// Incremental ("sans-I/O"): `feed` whatever bytes arrived from the socket, then call
// `nextFrame` until it returns nil. A frame may arrive split at any byte; the decoder
// remembers how far it got in `state`, whose cases carry the part of the header read so far
// (the same design as swift-nio's NIOWebSocket WebSocketFrameDecoder).
//
// Every rule is checked as early as possible: RSV bits and the opcode on the first byte,
// masking direction and control frame length on the second, and the payload limit as soon as
// the length is known, before a single payload byte is buffered.

public struct WebSocketFrameDecoder {
    private enum State {
        /// Nothing read of the next frame.
        case waitingForFirstByte
        /// FIN, RSV and opcode read (and checked); the MASK bit and 7-bit length are next.
        case waitingForLength(firstByte: UInt8)
        /// The 7-bit length was 126 or 127: 2 or 8 more length bytes are next.
        case waitingForExtendedLength(firstByte: UInt8, masked: Bool, byteCount: Int)
        /// The length is known; the 4-byte masking key is next.
        case waitingForMask(firstByte: UInt8, length: Int)
        /// Header complete; `length` payload bytes are next.
        case waitingForPayload(firstByte: UInt8, maskingKey: [UInt8]?, length: Int)
        /// A protocol error was found; every later call throws it again.
        case failed(WebSocketError)
    }

    private let requireMasked: Bool
    private let maxPayload: Int
    private var state: State = .waitingForFirstByte
    /// Received bytes; `buffer[readIndex...]` are not consumed yet. Consumed bytes are
    /// dropped in bulk in `feed`, so decoding many small frames never shifts bytes per frame.
    private var buffer: [UInt8] = []
    private var readIndex = 0

    /// `requireMasked`: true on a server (§5.1: a server MUST close on an unmasked frame),
    /// false on a client (a client MUST close on a masked frame).
    /// `maxPayload`: a frame declaring more is rejected with 1009 before its payload is read.
    public init(requireMasked: Bool, maxPayload: Int) {
        self.requireMasked = requireMasked
        self.maxPayload = maxPayload
    }

    public mutating func feed(_ bytes: UnsafeRawBufferPointer) {
        guard prepareToAppend() else { return }
        bytes.withMemoryRebound(to: UInt8.self) { buffer.append(contentsOf: $0) }
    }

    public mutating func feed(_ bytes: [UInt8]) {
        guard prepareToAppend() else { return }
        buffer.append(contentsOf: bytes)
    }

    /// Bytes received but not yet returned as part of a frame.
    public var bufferedByteCount: Int { buffer.count - readIndex }

    /// The next complete frame, nil for more bytes, or WebSocketError (1002 / 1009).
    public mutating func nextFrame() throws -> WebSocketFrame? {
        while true {
            switch state {
            case .failed(let error):
                throw error

            case .waitingForFirstByte:
                guard let byte = readByte() else {
                    // Between frames with nothing buffered: free what a burst of large frames grew.
                    if buffer.capacity > 16 * 1024 { buffer = []; readIndex = 0 }
                    return nil
                }
                try fail(ifError: checkFirstByte(byte))
                state = .waitingForLength(firstByte: byte)

            case .waitingForLength(let firstByte):
                guard let byte = readByte() else { return nil }
                let masked = byte & WebSocketWire.maskBit != 0
                // §5.1: "A server MUST NOT mask any frames that it sends to the client. A
                // client MUST close a connection if it detects a masked frame." and "The
                // server MUST close the connection upon receiving a frame that is not masked."
                if requireMasked && !masked {
                    try fail(.protocolError, "client frames must be masked (RFC 6455 §5.1)")
                }
                if !requireMasked && masked {
                    try fail(.protocolError, "server frames must not be masked (RFC 6455 §5.1)")
                }
                let length7 = byte & WebSocketWire.lengthMask
                switch length7 {
                case WebSocketWire.sixteenBitLengthMarker:
                    state = .waitingForExtendedLength(firstByte: firstByte, masked: masked, byteCount: 2)
                case WebSocketWire.sixtyFourBitLengthMarker:
                    state = .waitingForExtendedLength(firstByte: firstByte, masked: masked, byteCount: 8)
                default:
                    try lengthKnown(firstByte: firstByte, masked: masked, length: Int(length7))
                }

            case .waitingForExtendedLength(let firstByte, let masked, let byteCount):
                guard bufferedByteCount >= byteCount else { return nil }
                // "Multibyte length quantities are expressed in network byte order."
                var length: UInt64 = 0
                for i in 0..<byteCount { length = length << 8 | UInt64(buffer[readIndex + i]) }
                readIndex += byteCount
                // §5.2: "the most significant bit MUST be 0".
                if length >> 63 != 0 {
                    try fail(.protocolError, "64-bit payload length has its most significant bit set")
                }
                // DEVIATION (tolerance): a length that would have fit in fewer bytes is
                // accepted. "The minimal number of bytes MUST be used to encode the length"
                // binds the sender; RFC 6455 does not ask the receiver to fail.
                try lengthKnown(firstByte: firstByte, masked: masked, length: Int(length))

            case .waitingForMask(let firstByte, let length):
                let keyLength = WebSocketWire.maskingKeyLength
                guard bufferedByteCount >= keyLength else { return nil }
                let key = Array(buffer[readIndex..<readIndex + keyLength])
                readIndex += keyLength
                state = .waitingForPayload(firstByte: firstByte, maskingKey: key, length: length)

            case .waitingForPayload(let firstByte, let maskingKey, let length):
                guard bufferedByteCount >= length else { return nil }
                var payload = Array(buffer[readIndex..<readIndex + length])
                readIndex += length
                // §5.3: the payload is unmasked with the same XOR that masked it.
                if let key = maskingKey { WebSocketFrameEncoder.applyMask(&payload, key: key) }
                state = .waitingForFirstByte
                return WebSocketFrame(
                    fin: firstByte & WebSocketWire.finBit != 0,
                    rsv1: firstByte & WebSocketWire.rsv1Bit != 0,
                    rsv2: firstByte & WebSocketWire.rsv2Bit != 0,
                    rsv3: firstByte & WebSocketWire.rsv3Bit != 0,
                    opcode: WebSocketOpcode(rawValue: firstByte & WebSocketWire.opcodeMask)!,  // checked
                    maskingKey: maskingKey,
                    payload: payload)
            }
        }
    }

    // MARK: - Rules

    /// Rules that need only byte 0. Returns nil when the byte is acceptable.
    private func checkFirstByte(_ byte: UInt8) -> WebSocketError? {
        // §5.2: "RSV1, RSV2, RSV3: 1 bit each. MUST be 0 unless an extension is negotiated that
        // defines meanings for non-zero values. If a nonzero value is received and none of the
        // negotiated extensions defines the meaning of such a nonzero value, the receiving
        // endpoint MUST _Fail the WebSocket Connection_." We negotiate no extensions.
        let rsv = WebSocketWire.rsv1Bit | WebSocketWire.rsv2Bit | WebSocketWire.rsv3Bit
        if byte & rsv != 0 {
            return WebSocketError(.protocolError, "reserved bits set without a negotiated extension")
        }
        // §5.2: "If an unknown opcode is received, the receiving endpoint MUST _Fail the
        // WebSocket Connection_." (%x3-7 and %xB-F are reserved.)
        guard let opcode = WebSocketOpcode(rawValue: byte & WebSocketWire.opcodeMask) else {
            return WebSocketError(.protocolError, "reserved opcode \(byte & WebSocketWire.opcodeMask)")
        }
        // §5.5: "All control frames ... MUST NOT be fragmented."
        if opcode.isControl && byte & WebSocketWire.finBit == 0 {
            return WebSocketError(.protocolError, "fragmented control frame")
        }
        return nil
    }

    /// The payload length is known: apply the limits, then expect the mask or the payload.
    private mutating func lengthKnown(firstByte: UInt8, masked: Bool, length: Int) throws {
        // §5.5: "All control frames MUST have a payload length of 125 bytes or less".
        // (Checked on the decoded length, so a non-minimal encoding of a short length passes.)
        let isControl = WebSocketOpcode(rawValue: firstByte & WebSocketWire.opcodeMask)?.isControl ?? false
        if isControl && length > WebSocketWire.maxControlPayload {
            try fail(.protocolError, "control frame payload longer than 125 bytes")
        }
        // Our resource limit (RFC 6455 §10.4): refuse before buffering. 1009: "an endpoint is
        // terminating the connection because it has received a message that is too big for
        // it to process."
        if length > maxPayload {
            try fail(.messageTooBig, "frame payload of \(length) bytes exceeds the limit of \(maxPayload)")
        }
        state = masked ? .waitingForMask(firstByte: firstByte, length: length)
                       : .waitingForPayload(firstByte: firstByte, maskingKey: nil, length: length)
    }

    private mutating func fail(_ code: WebSocketCloseCode, _ reason: String) throws {
        try fail(ifError: WebSocketError(code, reason))
    }

    private mutating func fail(ifError error: WebSocketError?) throws {
        guard let error else { return }
        state = .failed(error)
        buffer = []
        readIndex = 0
        throw error
    }

    // MARK: - Buffer

    private mutating func readByte() -> UInt8? {
        guard readIndex < buffer.count else { return nil }
        defer { readIndex += 1 }
        return buffer[readIndex]
    }

    /// Drop consumed bytes before appending: free when everything was consumed (the common
    /// case), otherwise only once the consumed prefix is at least half the buffer, so the
    /// cost of moving bytes stays proportional to the bytes received.
    /// Returns false after a failure: the connection is being failed, its bytes are ignored.
    private mutating func prepareToAppend() -> Bool {
        if case .failed = state { return false }
        if readIndex == buffer.count {
            // Keep a small buffer; free what a burst of large frames grew.
            buffer.removeAll(keepingCapacity: buffer.capacity <= 16 * 1024)
            readIndex = 0
        } else if readIndex >= 4096 && readIndex >= buffer.count / 2 {
            buffer.removeSubrange(0..<readIndex)
            readIndex = 0
        }
        return true
    }
}
