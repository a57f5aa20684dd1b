// HTTP2Connection: what each received frame does (RFC 9113 §5 and §6). A stream error resets
// that stream (RST_STREAM, §5.4.2); a connection error sends GOAWAY and stops (§5.4.1).

extension HTTP2Connection {
    /// Bytes from the socket. `now`: a monotonic clock in nanoseconds, used only to count
    /// resets per window (rapid reset); tests may leave it at 0.
    public mutating func receive(_ bytes: [UInt8], now: UInt64 = 0) -> [Action] {
        guard !failed else { return [] }
        lastNow = now
        let bufferedBefore = decoder.bufferedByteCount
        var framed = 0
        decoder.feed(bytes)
        defer {
            // Whatever was consumed but not part of a returned frame belongs to the connection.
            let consumed = bufferedBefore + bytes.count - decoder.bufferedByteCount
            byteCounts[0, default: HTTP2ByteCount()].received += consumed - framed
        }
        while !failed {
            do {
                guard let frame = try decoder.nextFrame() else { break }
                framed += frame.wireSize
                byteCounts[frame.streamID, default: HTTP2ByteCount()].received += frame.wireSize
                try handle(frame, now: now)
            } catch {
                switch error.scope {
                case .connection: connectionError(error)
                case .stream(let id): streamError(id, error.code)
                }
            }
        }
        return flush()
    }

    mutating func streamError(_ id: UInt32, _ code: HTTP2ErrorCode) {
        if case .sentReset? = closedStreams[id] { return }   // already reset: say it once
        sendReset(id, code)
    }

    mutating func handle(_ frame: HTTP2Frame, now: UInt64) throws(HTTP2Error) {
        let id = frame.streamID
        // §4.3: a field block "MUST be transmitted as a contiguous sequence of frames, with no
        // interleaved frames of any other type or from any other stream" → PROTOCOL_ERROR.
        if let block = fieldBlock {
            guard case .continuation = frame.payload, id == block.streamID else {
                throw .connection(.protocolError, "frame type \(frame.type) on stream \(id) inside a field block of stream \(block.streamID)")
            }
        }
        // §3.4: the peer's preface is a SETTINGS frame, first.
        if !sawPeerSettings {
            guard case .settings(_, ack: false) = frame.payload else {
                throw .connection(.protocolError, "first frame is not SETTINGS (RFC 9113 §3.4)")
            }
            sawPeerSettings = true
        }
        switch frame.payload {
        case .data(let bytes, let endStream, _):
            try receiveData(id, bytes, endStream: endStream, flowControlled: frame.flowControlledLength)
        case .headers(let block, let endStream, let endHeaders, let priority, _):
            fieldBlock = FieldBlockInProgress(streamID: id, endStream: endStream, priority: priority, bytes: block)
            try checkFieldBlockBounds()
            if endHeaders { try finishFieldBlock() }
        case .continuation(let block, let endHeaders):
            // §6.10: a CONTINUATION not preceded by HEADERS/PUSH_PROMISE/CONTINUATION without
            // END_HEADERS "MUST" be a connection error of type PROTOCOL_ERROR.
            guard fieldBlock != nil else { throw .connection(.protocolError, "CONTINUATION without a field block") }
            fieldBlock!.bytes.append(contentsOf: block)
            fieldBlock!.continuationFrames += 1
            try checkFieldBlockBounds()
            if endHeaders { try finishFieldBlock() }
        case .priority:
            break   // §5.3.2: the priority scheme is deprecated; the frame was checked, nothing more
        case .rstStream(let code):
            try receiveReset(id, code, now: now)
        case .settings(let list, let ack):
            if !ack { try applyPeerSettings(list) }   // an ACK: our settings were already in force
        case .pushPromise:
            // §8.4: "A client cannot push. Thus, servers MUST treat the receipt of a PUSH_PROMISE
            // frame as a connection error of type PROTOCOL_ERROR." A client of ours announced
            // SETTINGS_ENABLE_PUSH = 0, which makes it the same error (§6.6).
            throw .connection(.protocolError, "PUSH_PROMISE received; push is disabled")
        case .ping(let opaque, let ack):
            // §6.7: "Receivers of a PING frame that does not include an ACK flag MUST send a
            // PING frame with the ACK flag set in response, with an identical frame payload."
            if !ack { write(HTTP2Frame(streamID: 0, .ping(opaque, ack: true))) }
        case .goAway(let last, let code, let debug):
            peerGoAwayLastStreamID = min(last, peerGoAwayLastStreamID ?? last)
            actions.append(.goAway(lastStreamID: last, code: code, debugData: debug))
            // §6.8: streams we opened above `last` were not and will not be processed; the
            // application may retry them on a new connection.
            for streamID in streams.keys.sorted() where !streams[streamID]!.openedByPeer && streamID > last {
                streams[streamID] = nil
                rememberClosed(streamID, .receivedReset)
                actions.append(.streamReset(streamID: streamID, code: .refusedStream, byPeer: true))
            }
        case .windowUpdate(let increment):
            try receiveWindowUpdate(id, Int(increment))
        case .unknown:
            break   // §5.5: "Implementations MUST ignore unknown or unsupported values"
        }
    }

    // MARK: - DATA

    mutating func receiveData(_ id: UInt32, _ bytes: [UInt8], endStream: Bool, flowControlled: Int) throws(HTTP2Error) {
        // §6.9: the connection window counts every DATA frame, even on a stream we then refuse.
        guard connectionReceiveWindow.receive(flowControlled) else {
            throw .connection(.flowControlError, "DATA beyond the connection window")
        }
        // Bytes handed to the application are given back when it says so (or at once in
        // automatic mode); padding and data we drop are given back now.
        var handedOut = 0
        defer {
            connectionReceiveWindow.consume(configuration.automaticWindowUpdates ? flowControlled : flowControlled - handedOut)
            if let update = connectionReceiveWindow.takeUpdate() {
                write(HTTP2Frame(streamID: 0, .windowUpdate(increment: UInt32(update))))
            }
        }
        guard var stream = streams[id] else {
            var state = closedState(id)
            try state.receive(.data(endStream: endStream), streamID: id)
            // On a stream we reset it is ignored; on one that ended (forgotten), §6.1: "If a DATA
            // frame is received whose stream is not in the open or half-closed (local) state,
            // the recipient MUST respond with a stream error ... STREAM_CLOSED."
            if case .closed(.sentReset) = state { return }
            throw .stream(id, .streamClosed, "DATA on closed stream \(id)")
        }
        try stream.state.receive(.data(endStream: endStream), streamID: id)
        guard stream.receiveWindow.receive(flowControlled) else {
            throw .stream(id, .flowControlError, "DATA beyond the stream window")
        }
        // §8.1.1: "A request or response is also malformed if the value of a content-length
        // header field does not equal the sum of the DATA frame payload lengths".
        stream.receivedDataBytes += bytes.count
        if let expected = stream.expectedContentLength,
           stream.receivedDataBytes > expected || (endStream && stream.receivedDataBytes != expected) {
            throw .stream(id, .protocolError, "malformed message: content-length \(expected), DATA \(stream.receivedDataBytes)")
        }
        handedOut = bytes.count
        stream.receiveWindow.consume(configuration.automaticWindowUpdates ? flowControlled : flowControlled - handedOut)
        if !endStream, let update = stream.receiveWindow.takeUpdate() {
            write(HTTP2Frame(streamID: id, .windowUpdate(increment: UInt32(update))))
        }
        store(stream, id)
        actions.append(.data(streamID: id, bytes: bytes, endStream: endStream))
    }

    /// The state of a stream we do not hold: idle above the highest seen, else closed.
    func closedState(_ id: UInt32) -> HTTP2StreamState {
        if let reason = closedStreams[id] { return .closed(reason) }
        let peerOpened = (id % 2 == 1) == (role == .server)
        let highest = peerOpened ? highestPeerStreamID : nextLocalStreamID &- 2
        return id > highest || (!peerOpened && id >= nextLocalStreamID) ? .idle : .closed(.endStream)
    }

    // MARK: - Field blocks

    mutating func checkFieldBlockBounds() throws(HTTP2Error) {
        guard let block = fieldBlock else { return }
        if block.bytes.count > configuration.maxFieldBlockBytes || block.continuationFrames > configuration.maxContinuationFrames {
            throw .connection(.enhanceYourCalm, "field block over \(configuration.maxFieldBlockBytes) bytes or \(configuration.maxContinuationFrames) CONTINUATION frames")
        }
    }

    mutating func finishFieldBlock() throws(HTTP2Error) {
        guard let block = fieldBlock else { return }
        fieldBlock = nil
        let id = block.streamID
        // Decode first, whatever becomes of the stream: the HPACK table must stay in step (§4.3:
        // "A receiver MUST terminate the connection with a connection error ... of type
        // COMPRESSION_ERROR if it does not decompress a field block").
        var fields: [HPACKHeaderField] = []
        var tooLarge = false
        do {
            fields = try hpackDecoder.decode(block.bytes)
        } catch {
            guard case .headerListTooLarge = error else {
                throw .connection(.compressionError, "HPACK: \(error)")
            }
            tooLarge = true
        }
        if var stream = streams[id] {
            try receiveHeaders(on: &stream, id, fields, endStream: block.endStream, tooLarge: tooLarge)
            return
        }
        var state = closedState(id)
        guard state == .idle else {
            try state.receive(.headers(endStream: block.endStream), streamID: id)
            return   // on a stream we reset: ignored (decoded above, so the table is right)
        }
        try openPeerStream(id, fields, block, tooLarge: tooLarge)
    }

    mutating func openPeerStream(_ id: UInt32, _ fields: [HPACKHeaderField], _ block: FieldBlockInProgress,
                                 tooLarge: Bool) throws(HTTP2Error) {
        // §5.1.1: client streams are odd; a server's peer may not open even ones (no push here).
        guard role == .server, id % 2 == 1 else {
            throw .connection(.protocolError, "peer opened stream \(id) (wrong parity or push)")
        }
        highestPeerStreamID = id
        // §6.8: after our GOAWAY, new streams are ignored.
        if goAwaySent { rememberClosed(id, .sentReset); return }
        if let p = block.priority, p.dependency == id {
            throw .stream(id, .protocolError, "stream depends on itself")   // §5.3.1
        }
        // §5.1.2: "An endpoint that receives a HEADERS frame that causes its advertised
        // concurrent stream limit to be exceeded MUST treat this as a stream error ... of type
        // PROTOCOL_ERROR or REFUSED_STREAM." REFUSED_STREAM tells the client it may retry.
        if streams.values.filter(\.openedByPeer).count >= configuration.maxConcurrentStreams {
            try countReset(now: lastNow)
            throw .stream(id, .refusedStream, "more than \(configuration.maxConcurrentStreams) concurrent streams")
        }
        var stream = Stream(sendWindow: HTTP2SendWindow(remoteSettings.initialWindowSize),
                            receiveWindow: HTTP2ReceiveWindow(localSettings.initialWindowSize), openedByPeer: true)
        try stream.state.receive(.headers(endStream: block.endStream), streamID: id)
        if tooLarge {
            // RFC 9113 §10.5.1: "A server that receives a larger field block than it is willing
            // to handle can send an HTTP 431 (Request Header Fields Too Large) status code".
            store(stream, id)
            refuseHeaderList(id, endStream: block.endStream)
            return
        }
        try HTTP2HeaderValidation.validateRequest(fields, streamID: id,
                                                  connectProtocolEnabled: localSettings.enableConnectProtocol)
        stream.receivedHeaders = true
        if let text = fields.first(where: { $0.name == "content-length" })?.value {
            guard let length = Int(text), length >= 0, text.utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }) else {
                throw .stream(id, .protocolError, "malformed message: content-length \(text)")
            }
            if block.endStream && length != 0 {
                throw .stream(id, .protocolError, "malformed message: content-length \(length) without DATA")
            }
            stream.expectedContentLength = length
        }
        store(stream, id)
        actions.append(.headers(streamID: id, fields: fields, endStream: block.endStream))
    }

    mutating func receiveHeaders(on stream: inout Stream, _ id: UInt32, _ fields: [HPACKHeaderField],
                                 endStream: Bool, tooLarge: Bool) throws(HTTP2Error) {
        try stream.state.receive(.headers(endStream: endStream), streamID: id)
        if tooLarge { throw .stream(id, .protocolError, "header list over \(configuration.maxHeaderListSize) bytes") }
        if stream.receivedHeaders {
            // §8.1: trailers "MUST" end the stream and carry no pseudo-headers.
            guard endStream else { throw .stream(id, .protocolError, "second HEADERS without END_STREAM") }
            try HTTP2HeaderValidation.validateTrailers(fields, streamID: id)
        } else if role == .client {
            try HTTP2HeaderValidation.validateResponse(fields, streamID: id)
            // 1xx responses are interim; the final one may follow (§8.1).
            let status = fields.first { $0.name == ":status" }?.value ?? ""
            stream.receivedHeaders = !status.hasPrefix("1")
        }
        store(stream, id)
        actions.append(.headers(streamID: id, fields: fields, endStream: endStream))
    }

    mutating func refuseHeaderList(_ id: UInt32, endStream: Bool) {
        let response = [HPACKHeaderField(":status", "431")]
        let block = hpackEncoder.encode(response)
        write(HTTP2Frame(streamID: id, .headers(fieldBlock: block, endStream: true, endHeaders: true)))
        // The request may still be sending: RST_STREAM NO_ERROR asks it to stop (§8.1).
        if !endStream { write(HTTP2Frame(streamID: id, .rstStream(.noError))) }
        streams[id] = nil
        rememberClosed(id, endStream ? .endStream : .sentReset)
        actions.append(.streamReset(streamID: id, code: .noError, byPeer: false))
    }

    // MARK: - RST_STREAM, rapid reset

    mutating func receiveReset(_ id: UInt32, _ code: HTTP2ErrorCode, now: UInt64) throws(HTTP2Error) {
        guard var stream = streams[id] else {
            var state = closedState(id)
            // §6.4: "If a RST_STREAM frame identifying an idle stream is received, the recipient
            // MUST treat this as a connection error ... PROTOCOL_ERROR."
            try state.receive(.rstStream, streamID: id)
            return
        }
        try stream.state.receive(.rstStream, streamID: id)
        if stream.openedByPeer { try countReset(now: now) }
        store(stream, id)
        actions.append(.streamReset(streamID: id, code: code, byPeer: true))
    }

    /// CVE-2023-44487: opening and at once resetting streams makes a server start work that is
    /// thrown away, without ever exceeding MAX_CONCURRENT_STREAMS. Count peer resets (and our
    /// refusals) per window; past the budget the peer gets GOAWAY ENHANCE_YOUR_CALM.
    mutating func countReset(now: UInt64) throws(HTTP2Error) {
        if now &- resetWindowStart >= configuration.resetWindowNanoseconds && now >= resetWindowStart {
            resetWindowStart = now
            resetsInWindow = 0
        }
        resetsInWindow += 1
        if resetsInWindow > configuration.maxResetsPerWindow {
            throw .connection(.enhanceYourCalm, "more than \(configuration.maxResetsPerWindow) stream resets per window (rapid reset)")
        }
    }

    // MARK: - SETTINGS and WINDOW_UPDATE

    mutating func applyPeerSettings(_ list: [HTTP2Setting]) throws(HTTP2Error) {
        let oldWindow = remoteSettings.initialWindowSize
        for setting in list { try remoteSettings.apply(setting) }   // §6.5.3: "processed in the order in which they appear"
        // §6.9.2: a new SETTINGS_INITIAL_WINDOW_SIZE moves every stream's send window by the
        // difference; "An endpoint MUST treat a change to SETTINGS_INITIAL_WINDOW_SIZE that
        // causes any flow-control window to exceed the maximum size as a connection error ...
        // FLOW_CONTROL_ERROR."
        let delta = remoteSettings.initialWindowSize - oldWindow
        if delta != 0 {
            for id in streams.keys {
                guard streams[id]!.sendWindow.adjust(by: delta) else {
                    throw .connection(.flowControlError, "SETTINGS_INITIAL_WINDOW_SIZE overflows stream \(id)")
                }
            }
        }
        // The peer's decoder table bounds ours (RFC 7541 §4.2); we use at most 4096 anyway.
        hpackEncoder.setMaxTableSize(min(remoteSettings.headerTableSize, 4096))
        // §6.5.3: "Upon receiving and applying the parameters, the recipient MUST immediately emit
        // a SETTINGS frame with the ACK flag set."
        write(HTTP2Frame(streamID: 0, .settings([], ack: true)))
        if delta > 0 { for id in streams.keys.sorted() { flushData(id) } }
    }

    mutating func receiveWindowUpdate(_ id: UInt32, _ increment: Int) throws(HTTP2Error) {
        if id == 0 {
            guard connectionSendWindow.increase(by: increment) else {
                throw .connection(.flowControlError, "connection window over 2^31-1")
            }
            for streamID in streams.keys.sorted() where !(streams[streamID]?.pending.isEmpty ?? true) { flushData(streamID) }
            return
        }
        guard var stream = streams[id] else {
            var state = closedState(id)
            try state.receive(.windowUpdate, streamID: id)   // idle → PROTOCOL_ERROR; closed → ignored
            return
        }
        try stream.state.receive(.windowUpdate, streamID: id)
        guard stream.sendWindow.increase(by: increment) else {
            throw .stream(id, .flowControlError, "stream window over 2^31-1")
        }
        streams[id] = stream
        flushData(id)
    }
}
