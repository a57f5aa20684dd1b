// RFC 7541 §2.3.2 and §4: the dynamic table, one per direction of a connection.
//
// New entries go in at the front: the newest entry has index 1 within the table (62 in the
// combined index space, §2.3.3), so entries move up as others are added. Its size is the sum
// of its entries' sizes, each name + value in octets + 32 (§4.1). Adding an entry first evicts
// the oldest entries until it fits (§4.4); an entry larger than the whole table empties the
// table and is not added ("not an error"). Lowering the maximum size evicts too (§4.3).
//
// Storage: an array with the OLDEST entry first, so adding is an append and eviction removes
// a prefix. At 4096 bytes and at least 32 bytes per entry the table holds at most 128 entries.

public struct HPACKDynamicTable: Sendable {
    public struct Entry: Equatable, Sendable {
        public var name: String
        public var value: String
        /// The name's length in octets as it was on the wire (after Huffman decoding).
        public var nameOctets: Int
        /// name + value in octets as they were on the wire, + 32 (§4.1).
        public var size: Int
    }

    private var entries: [Entry] = []          // oldest first
    public private(set) var size = 0
    public private(set) var maxSize: Int

    public init(maxSize: Int = 4096) { self.maxSize = maxSize }

    public var count: Int { entries.count }

    /// Entry `index` counted from 1 = newest (the dynamic part of §2.3.3's index space).
    public subscript(index: Int) -> Entry? {
        guard index >= 1 && index <= entries.count else { return nil }
        return entries[entries.count - index]
    }

    /// The entries newest first, as RFC 7541 Appendix C prints them.
    public var newestFirst: [Entry] { entries.reversed() }

    /// §4.4: evict from the end (the oldest) until the new entry fits, then add it, unless it is
    /// bigger than the whole table, which leaves the table empty.
    public mutating func add(name: String, value: String, nameOctets: Int, valueOctets: Int) {
        let entrySize = nameOctets + valueOctets + 32
        if entrySize > maxSize {
            entries.removeAll(keepingCapacity: true)
            size = 0
            return
        }
        evict(toFit: maxSize - entrySize)
        entries.append(Entry(name: name, value: value, nameOctets: nameOctets, size: entrySize))
        size += entrySize
    }

    public mutating func add(_ field: HPACKHeaderField) {
        add(name: field.name, value: field.value, nameOctets: field.name.utf8.count, valueOctets: field.value.utf8.count)
    }

    /// §4.3: a new maximum size (from a size update, or our own choice as encoder).
    public mutating func setMaxSize(_ newMax: Int) {
        maxSize = newMax
        evict(toFit: newMax)
    }

    private mutating func evict(toFit limit: Int) {
        var drop = 0
        while size > limit && drop < entries.count {
            size -= entries[drop].size
            drop += 1
        }
        if drop > 0 { entries.removeFirst(drop) }
    }

    /// For the encoder: the table index (1 = newest) of an exact match and of a name match.
    func find(name: String, value: String) -> (full: Int?, name: Int?) {
        var nameMatch: Int?
        for offset in 0..<entries.count {
            let entry = entries[entries.count - 1 - offset]
            guard entry.name == name else { continue }
            if entry.value == value { return (offset + 1, nameMatch ?? offset + 1) }
            if nameMatch == nil { nameMatch = offset + 1 }
        }
        return (nil, nameMatch)
    }
}
