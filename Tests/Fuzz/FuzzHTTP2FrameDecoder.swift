// libFuzzer target: any bytes, after the client preface, into a server HTTP2Connection (frame
// decoder, stream states, flow control, HPACK) fed in steps of the first byte's size, and the
// same bytes into a bare HTTP2FrameDecoder: actions, frames or a typed HTTP2Error, never a trap.
// Every decoded frame must re-encode to as many bytes as it took.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzHTTP2FrameDecoder(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    let step = max(1, Int(bytes.first ?? 1))
    var server = HTTP2Connection(role: .server)
    _ = server.start()
    var input = http2ClientPreface + HTTP2FrameEncoder.encode(HTTP2Frame(streamID: 0, .settings([])))
    input += bytes.dropFirst()   // the first byte is the step size
    var offset = 0
    var now: UInt64 = 0
    while offset < input.count && !server.isFailed {
        let end = min(input.count, offset + step)
        _ = server.receive(Array(input[offset..<end]), now: now)
        now += 1_000_000
        offset = end
    }
    var decoder = HTTP2FrameDecoder(expectPreface: false)
    decoder.feed(Array(bytes.dropFirst()))
    while true {
        do {
            guard let frame = try decoder.nextFrame() else { break }
            if case .settings(_, ack: true) = frame.payload { continue }
            precondition(HTTP2FrameEncoder.encode(frame).count == frame.wireSize)
        } catch {
            if error.scope == .connection { break }
        }
    }
    return 0
}
