// The inspector for HTTP/2: frames field by field (RFC 9113 §4.1, §6) and each header field of
// a HEADERS block as HPACK represented it (RFC 7541 §6): indexed, literal with incremental
// indexing, without indexing, never indexed, size update; Huffman or raw strings. Pure
// functions, like the rest of Inspector, so a test can pin the output and a lesson can quote it.
import WireCodec

extension Inspector {
    /// Annotates every frame in `bytes` (after the 24-byte preface when `preface`), decoding
    /// header blocks with `hpack`, the receiving side's decoder, which keeps its table across calls.
    public static func annotateHTTP2(_ bytes: [UInt8], preface: Bool, hpack: inout HPACKDecoder) -> [String] {
        var lines: [String] = []
        var rest = bytes[...]
        if preface, rest.count >= 24 {
            lines.append(line(24, visible(rest.prefix(24)), "connection preface (RFC 9113 §3.4)"))
            rest = rest.dropFirst(24)
        }
        var decoder = HTTP2FrameDecoder(expectPreface: false, maxFrameSize: HTTP2Settings.largestMaxFrameSize)
        decoder.feed(Array(rest))
        var block: [UInt8] = []
        while true {
            let before = decoder.bufferedByteCount
            let frame: HTTP2Frame
            do {
                guard let next = try decoder.nextFrame() else { break }
                frame = next
            } catch {
                lines.append("  (\(error))")
                break
            }
            let offset = rest.startIndex + (rest.count - before)
            let header = Array(rest[offset...].prefix(9))
            lines.append(line(frame.wireSize, hex(header), frameSummary(frame)))
            switch frame.payload {
            case .headers(let fragment, _, let endHeaders, _, _), .continuation(let fragment, let endHeaders):
                block += fragment
                if endHeaders {
                    lines += annotateHPACKBlock(block, decoder: &hpack)
                    block = []
                }
            case .data(let body, _, _):
                if !body.isEmpty { lines.append(line(body.count, visible(body.prefix(40)) + (body.count > 40 ? "…" : ""), "  data")) }
            case .settings(let list, _):
                for s in list { lines.append(line(6, "\(s.id) = \(s.value)", "  parameter (§6.5.2)")) }
            default:
                break
            }
        }
        return lines
    }

    /// One line per HPACK representation: its bytes and what they mean.
    public static func annotateHPACKBlock(_ block: [UInt8], decoder: inout HPACKDecoder) -> [String] {
        let trace: [HPACKRepresentation]
        do { trace = try decoder.decodeTraced(block) } catch { return ["  (HPACK error: \(error))"] }
        var lines: [String] = []
        for r in trace {
            let bytes = Array(block[r.bytes])
            let shown = hex(Array(bytes.prefix(12))) + (bytes.count > 12 ? " …" : "")
            lines.append(line(bytes.count, "  " + shown, "  " + describe(r)))
        }
        lines.append(String(repeating: " ", count: 3) + "= \(block.count) B of header block for "
                     + "\(trace.filter { $0.field != nil }.count) fields; dynamic table \(decoder.dynamicTable.count) entries, "
                     + "\(decoder.dynamicTable.size) B")
        return lines
    }

    static func describe(_ r: HPACKRepresentation) -> String {
        let field = r.field.map { "\($0.name): \($0.value)" } ?? ""
        func name(_ index: Int) -> String {
            index == 0 ? "literal name" + (r.nameHuffman ? " (Huffman)" : "") : "name index \(index)"
        }
        let value = r.valueHuffman ? "value Huffman" : "value raw"
        switch r.kind {
        case .indexed(let i):
            return "indexed \(i) (\(i <= HPACKStaticTable.count ? "static" : "dynamic")) → \(field)"
        case .incrementalIndexing(let n):
            return "literal, incremental indexing, \(name(n)), \(value) → \(field) [added as 62]"
        case .withoutIndexing(let n):
            return "literal without indexing, \(name(n)), \(value) → \(field)"
        case .neverIndexed(let n):
            return "literal never indexed, \(name(n)), \(value) → \(field)"
        case .sizeUpdate(let size):
            return "dynamic table size update → \(size) B"
        }
    }

    static func frameSummary(_ frame: HTTP2Frame) -> String {
        let id = frame.streamID
        switch frame.payload {
        case .data(let b, let end, _): return "DATA stream \(id), \(b.count) B\(end ? ", END_STREAM" : "")"
        case .headers(let block, let end, let endHeaders, _, _):
            return "HEADERS stream \(id), block \(block.count) B" + (end ? ", END_STREAM" : "") + (endHeaders ? ", END_HEADERS" : "")
        case .priority: return "PRIORITY stream \(id) (deprecated, ignored)"
        case .rstStream(let code): return "RST_STREAM stream \(id), \(code)"
        case .settings(let list, let ack): return ack ? "SETTINGS ACK" : "SETTINGS, \(list.count) parameter\(list.count == 1 ? "" : "s")"
        case .pushPromise(let promised, _, _, _): return "PUSH_PROMISE stream \(id) promises \(promised)"
        case .ping(_, let ack): return ack ? "PING ACK" : "PING"
        case .goAway(let last, let code, _): return "GOAWAY last stream \(last), \(code)"
        case .windowUpdate(let n): return "WINDOW_UPDATE stream \(id), +\(n)"
        case .continuation(let block, let endHeaders): return "CONTINUATION stream \(id), \(block.count) B" + (endHeaders ? ", END_HEADERS" : "")
        case .unknown(let type, _, _): return "unknown frame type \(type) (ignored)"
        }
    }
}
