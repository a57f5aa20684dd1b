// RFC 7541 §6: decoding a field block into a header list.
//
// Sans-I/O and whole-block: HTTP/2 hands us a complete field block (HEADERS + CONTINUATION
// payloads joined, RFC 9113 §4.3), and a block must be decoded in full, in order, to keep the
// dynamic table in step with the peer's encoder. So `decode` either returns every field or
// throws, and a throw (other than `headerListTooLarge`) means the connection is lost.
//
// The first byte of each representation says what it is (§6):
//
//     1xxxxxxx  indexed field (§6.1)                           7-bit index
//     01xxxxxx  literal with incremental indexing (§6.2.1)    6-bit name index, 0 = literal name
//     001xxxxx  dynamic table size update (§6.3)              5-bit new maximum size
//     0001xxxx  literal never indexed (§6.2.3)                4-bit name index
//     0000xxxx  literal without indexing (§6.2.2)             4-bit name index
//
// A string literal (§5.2) is one H bit (Huffman or raw) and a 7-bit-prefix length, then the octets.
//
// HPACK bomb: a 1-byte indexed representation can name a 4 KB table entry, so a small block
// can stand for a huge header list. We count the list's size as we go (RFC 9113 §6.5.2:
// name + value + 32 per field) and, past `maxHeaderListSize`, stop building strings but keep
// decoding to the end of the block so the table stays in step; then throw `headerListTooLarge`.

public struct HPACKDecoder: Sendable {
    public private(set) var dynamicTable: HPACKDynamicTable
    /// The most the peer may set its table to: our SETTINGS_HEADER_TABLE_SIZE (§4.2).
    public private(set) var maxAllowedTableSize: Int
    public var maxHeaderListSize: Int
    /// Set when our limit went below the table's size: the next block must open with an update.
    private var sizeUpdateRequired = false

    public init(maxTableSize: Int = 4096, maxHeaderListSize: Int = 16384) {
        dynamicTable = HPACKDynamicTable(maxSize: maxTableSize)
        maxAllowedTableSize = maxTableSize
        self.maxHeaderListSize = maxHeaderListSize
    }

    /// Our SETTINGS_HEADER_TABLE_SIZE changed (once the peer acknowledged it). When it went
    /// below the current maximum, the peer's next block must start with a size update (§4.2).
    public mutating func setMaxAllowedTableSize(_ size: Int) {
        if size < dynamicTable.maxSize { sizeUpdateRequired = true }
        maxAllowedTableSize = size
    }

    public mutating func decode(_ block: [UInt8]) throws(HPACKError) -> [HPACKHeaderField] {
        var unused: [HPACKRepresentation] = []
        return try decode(block, tracing: false, trace: &unused)
    }

    /// Decodes and also says how each field was represented (for `wirelab inspect h2`).
    public mutating func decodeTraced(_ block: [UInt8]) throws(HPACKError) -> [HPACKRepresentation] {
        var trace: [HPACKRepresentation] = []
        _ = try decode(block, tracing: true, trace: &trace)
        return trace
    }

    private mutating func decode(_ block: [UInt8], tracing: Bool,
                                 trace: inout [HPACKRepresentation]) throws(HPACKError) -> [HPACKHeaderField] {
        var fields: [HPACKHeaderField] = []
        var index = 0
        var listSize = 0
        var sawField = false
        while index < block.count {
            let first = block[index]
            let start = index
            if first & 0x80 != 0 {
                // §6.1 indexed header field.
                let i = try HPACKInteger.decode(block, at: &index, prefixBits: 7)
                let entry = try lookup(i)
                listSize += entry.size
                if listSize <= maxHeaderListSize { fields.append(HPACKHeaderField(entry.name, entry.value)) }
                if tracing {
                    trace.append(HPACKRepresentation(kind: .indexed(i), bytes: start..<index,
                                                     field: HPACKHeaderField(entry.name, entry.value)))
                }
            } else if first & 0xE0 == 0x20 {
                // §6.3 dynamic table size update: "MUST occur at the beginning of the first
                // field block following the change to the dynamic table size" (§4.2).
                guard !sawField else { throw .tableSizeUpdateNotAtStart }
                let newSize = try HPACKInteger.decode(block, at: &index, prefixBits: 5)
                // §6.3: "The new maximum size MUST be lower than or equal to the limit".
                guard newSize <= maxAllowedTableSize else { throw .tableSizeUpdateTooLarge(newSize) }
                dynamicTable.setMaxSize(newSize)
                sizeUpdateRequired = false
                if tracing { trace.append(HPACKRepresentation(kind: .sizeUpdate(newSize), bytes: start..<index)) }
                continue
            } else {
                let incremental = first & 0xC0 == 0x40
                let neverIndexed = first & 0xF0 == 0x10
                let prefix = incremental ? 6 : 4
                let nameIndex = try HPACKInteger.decode(block, at: &index, prefixBits: prefix)
                let keep = listSize <= maxHeaderListSize
                var name: String
                var nameLength: Int
                let nameHuffman = nameIndex == 0 && index < block.count && block[index] & 0x80 != 0
                if nameIndex == 0 {
                    (name, nameLength) = try readString(block, at: &index, build: keep || incremental || tracing)
                } else {
                    let entry = try lookup(nameIndex)
                    name = entry.name
                    nameLength = entry.nameOctets
                }
                let valueHuffman = index < block.count && block[index] & 0x80 != 0
                let (value, valueLength) = try readString(block, at: &index, build: keep || incremental || tracing)
                let size = nameLength + valueLength + 32
                if incremental { dynamicTable.add(name: name, value: value, nameOctets: nameLength, valueOctets: valueLength) }
                listSize += size
                if listSize <= maxHeaderListSize {
                    fields.append(HPACKHeaderField(name, value, neverIndex: neverIndexed))
                }
                if tracing {
                    let kind: HPACKRepresentation.Kind = incremental ? .incrementalIndexing(nameIndex: nameIndex)
                        : neverIndexed ? .neverIndexed(nameIndex: nameIndex) : .withoutIndexing(nameIndex: nameIndex)
                    trace.append(HPACKRepresentation(kind: kind, bytes: start..<index,
                                                     field: HPACKHeaderField(name, value, neverIndex: neverIndexed),
                                                     nameHuffman: nameHuffman, valueHuffman: valueHuffman))
                }
            }
            if sizeUpdateRequired { throw .tableSizeUpdateMissing }
            sawField = true
        }
        if listSize > maxHeaderListSize { throw .headerListTooLarge(listSize) }
        return fields
    }

    /// §2.3.3: 1...61 static, 62... dynamic (newest first); 0 or beyond is an error.
    private func lookup(_ index: Int) throws(HPACKError) -> (name: String, value: String, nameOctets: Int, size: Int) {
        if index >= 1 && index <= HPACKStaticTable.count {
            let e = HPACKStaticTable.entries[index - 1]
            return (e.name, e.value, e.name.utf8.count, e.name.utf8.count + e.value.utf8.count + 32)
        }
        guard let entry = dynamicTable[index - HPACKStaticTable.count] else { throw .invalidIndex(index) }
        return (entry.name, entry.value, entry.nameOctets, entry.size)
    }

    /// §5.2 string literal. Returns the text (empty when `build` is false: the HPACK-bomb path
    /// that only needs the length) and its length in octets after Huffman decoding.
    private func readString(_ block: [UInt8], at index: inout Int, build: Bool) throws(HPACKError) -> (String, Int) {
        guard index < block.count else { throw .truncated }
        let huffman = block[index] & 0x80 != 0
        let length = try HPACKInteger.decode(block, at: &index, prefixBits: 7)
        guard length <= block.count - index else { throw .truncated }
        let raw = block[index..<index + length]
        index += length
        if !huffman {
            return (build ? String(decoding: raw, as: UTF8.self) : "", length)
        }
        let decoded = try HPACKHuffman.decode(raw)
        return (build ? String(decoding: decoded, as: UTF8.self) : "", decoded.count)
    }
}

/// How one field (or size update) was represented in a block, for teaching tools.
public struct HPACKRepresentation: Equatable, Sendable {
    public enum Kind: Equatable, Sendable {
        case indexed(Int)                          // §6.1
        case incrementalIndexing(nameIndex: Int)   // §6.2.1 (nameIndex 0: literal name)
        case withoutIndexing(nameIndex: Int)       // §6.2.2
        case neverIndexed(nameIndex: Int)          // §6.2.3
        case sizeUpdate(Int)                       // §6.3
    }
    public var kind: Kind
    /// Where it is in the block.
    public var bytes: Range<Int>
    public var field: HPACKHeaderField?
    public var nameHuffman = false
    public var valueHuffman = false
}
