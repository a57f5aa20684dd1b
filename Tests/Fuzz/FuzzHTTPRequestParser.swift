// libFuzzer target: any bytes, fed in any chunks, give requests or an HTTPError — never a trap.
// Built by `make fuzz` with `swiftc -sanitize=fuzzer,address` from the WireCodec sources.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzHTTPRequestParser(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    // The first byte picks a split size, so the fuzzer also explores chunk boundaries.
    let step = max(1, Int(bytes.first ?? 1))
    var parser = HTTPRequestParser(maxHeadBytes: 1024, maxBodyBytes: 1024)
    var offset = 0
    while offset < bytes.count {
        let end = min(bytes.count, offset + step)
        parser.feed(Array(bytes[offset..<end]))
        offset = end
        do {
            while let request = try parser.nextRequest() {
                _ = request.path
                _ = request.query
                _ = request.keepAlive
            }
        } catch is HTTPError {
            return 0        // the promised outcome: a typed error carrying the status to answer
        } catch {
            fatalError("untyped error from HTTPRequestParser: \(error)")   // libFuzzer reports it as a crash
        }
    }
    return 0
}
