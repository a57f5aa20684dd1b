// libFuzzer target: any bytes into the frame decoder and message assembler (server side, so
// frames must be masked): frames, messages or a WebSocketError with a close code — never a trap.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzWebSocketFrameDecoder(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    let step = max(1, Int(bytes.first ?? 1))
    var decoder = WebSocketFrameDecoder(requireMasked: (bytes.last ?? 0) & 1 == 0, maxPayload: 4096)
    var assembler = WebSocketMessageAssembler(maxMessage: 4096)
    var offset = 0
    while offset < bytes.count {
        let end = min(bytes.count, offset + step)
        decoder.feed(Array(bytes[offset..<end]))
        offset = end
        do {
            while let frame = try decoder.nextFrame() {
                _ = try assembler.receive(frame)
            }
        } catch is WebSocketError {
            return 0        // the promised outcome: a typed error carrying the close code
        } catch {
            fatalError("untyped error from the WebSocket decoder: \(error)")   // libFuzzer reports it as a crash
        }
    }
    return 0
}
