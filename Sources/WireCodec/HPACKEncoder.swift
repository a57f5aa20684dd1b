// RFC 7541 §6: encoding a header list into a field block.
//
// The encoder keeps its own copy of the dynamic table that the peer's decoder will build
// (§2.2: one table per direction). For each field it picks, in order (the choices RFC 7541
// Appendix C shows):
//   1. an exact match in the static table, then in the dynamic table → indexed (§6.1), 1 byte;
//   2. `neverIndex` → literal never indexed (§6.2.3), name by index when known;
//   3. otherwise literal with incremental indexing (§6.2.1), naming the static entry when the
//      name is there, else the dynamic one, else a literal name; the field joins the table.
// Strings are Huffman coded when `huffman` says so (§5.2). The peer's SETTINGS_HEADER_TABLE_SIZE
// limits our table; when we shrink it, the next block starts with a size update (§4.2, §6.3).

public struct HPACKEncoder: Sendable {
    public enum HuffmanPolicy: Sendable { case never, always, whenShorter }

    public private(set) var dynamicTable: HPACKDynamicTable
    public var huffman: HuffmanPolicy
    /// Size updates to announce at the start of the next block (§4.2: the smallest, then the final).
    private var pendingSizeUpdates: [Int] = []

    public init(maxTableSize: Int = 4096, huffman: HuffmanPolicy = .whenShorter) {
        dynamicTable = HPACKDynamicTable(maxSize: maxTableSize)
        self.huffman = huffman
    }

    /// The peer's SETTINGS_HEADER_TABLE_SIZE (or our own smaller choice): resize our table and
    /// announce it at the start of the next block. Several changes between blocks announce the
    /// smallest and the last (§4.2).
    public mutating func setMaxTableSize(_ size: Int) {
        if size == dynamicTable.maxSize && pendingSizeUpdates.isEmpty { return }
        if let smallest = pendingSizeUpdates.first {
            pendingSizeUpdates = [min(smallest, size), size]
        } else {
            pendingSizeUpdates = [size]
        }
        if pendingSizeUpdates.count == 2 && pendingSizeUpdates[0] == pendingSizeUpdates[1] { pendingSizeUpdates.removeLast() }
        dynamicTable.setMaxSize(size)
    }

    public mutating func encode(_ fields: [HPACKHeaderField]) -> [UInt8] {
        var out: [UInt8] = []
        encode(fields, into: &out)
        return out
    }

    public mutating func encode(_ fields: [HPACKHeaderField], into out: inout [UInt8]) {
        for size in pendingSizeUpdates { HPACKInteger.encode(size, prefixBits: 5, pattern: 0x20, into: &out) }
        pendingSizeUpdates = []
        for field in fields { encode(field, into: &out) }
    }

    private mutating func encode(_ field: HPACKHeaderField, into out: inout [UInt8]) {
        let staticFull = HPACKStaticTable.index(name: field.name, value: field.value)
        let staticName = HPACKStaticTable.index(name: field.name)
        let dynamic = dynamicTable.find(name: field.name, value: field.value)
        let s = HPACKStaticTable.count
        if !field.neverIndex, let index = staticFull ?? dynamic.full.map({ $0 + s }) {
            HPACKInteger.encode(index, prefixBits: 7, pattern: 0x80, into: &out)   // §6.1
            return
        }
        let nameIndex = staticName ?? dynamic.name.map { $0 + s } ?? 0
        if field.neverIndex {
            HPACKInteger.encode(nameIndex, prefixBits: 4, pattern: 0x10, into: &out)   // §6.2.3
        } else {
            HPACKInteger.encode(nameIndex, prefixBits: 6, pattern: 0x40, into: &out)   // §6.2.1
        }
        if nameIndex == 0 { encodeString(field.name, into: &out) }
        encodeString(field.value, into: &out)
        if !field.neverIndex { dynamicTable.add(field) }
    }

    /// Literal without indexing (§6.2.2), for callers that want a field kept out of both tables
    /// without the "never" promise (e.g. a value that changes on every request).
    public mutating func encodeWithoutIndexing(_ field: HPACKHeaderField, into out: inout [UInt8]) {
        let nameIndex = HPACKStaticTable.index(name: field.name)
            ?? dynamicTable.find(name: field.name, value: field.value).name.map { $0 + HPACKStaticTable.count } ?? 0
        HPACKInteger.encode(nameIndex, prefixBits: 4, pattern: 0x00, into: &out)
        if nameIndex == 0 { encodeString(field.name, into: &out) }
        encodeString(field.value, into: &out)
    }

    /// §5.2: H bit + 7-bit-prefix length + octets.
    private func encodeString(_ text: String, into out: inout [UInt8]) {
        let raw = text.utf8
        let huffmanCount = huffman == .never ? Int.max : HPACKHuffman.encodedCount(raw)
        let useHuffman = huffman == .always || (huffman == .whenShorter && huffmanCount < raw.count)
        if useHuffman {
            HPACKInteger.encode(huffmanCount, prefixBits: 7, pattern: 0x80, into: &out)
            HPACKHuffman.encode(raw, into: &out)
        } else {
            HPACKInteger.encode(raw.count, prefixBits: 7, pattern: 0x00, into: &out)
            out.append(contentsOf: raw)
        }
    }
}
