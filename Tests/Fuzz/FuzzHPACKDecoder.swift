// libFuzzer target: any bytes as a sequence of HPACK field blocks (the first byte picks the
// table size, each 0xFF ends a block) into one decoder: header lists or an HPACKError, never a
// trap; the dynamic table never grows past its maximum; what decodes re-encodes and decodes
// back to the same list.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzHPACKDecoder(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    guard let first = bytes.first else { return 0 }
    var decoder = HPACKDecoder(maxTableSize: Int(first) * 16, maxHeaderListSize: 16_384)
    var encoder = HPACKEncoder(maxTableSize: 256)
    var echo = HPACKDecoder(maxTableSize: 256, maxHeaderListSize: 1 << 30)
    for block in bytes.dropFirst().split(separator: 0xFF, omittingEmptySubsequences: false) {
        do {
            let fields = try decoder.decode(Array(block))
            precondition(decoder.dynamicTable.size <= decoder.dynamicTable.maxSize)
            let again = try? echo.decode(encoder.encode(fields))
            precondition(again == fields, "re-encoded list differs")
        } catch {
            if case .headerListTooLarge = error { continue }   // the table is still in step
            return 0
        }
    }
    return 0
}
