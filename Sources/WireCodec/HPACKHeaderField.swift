// One header field as HPACK sees it: a name and a value (RFC 7541 §1.3), plus how it must be
// represented on the wire when the sender cares (a password must never be indexed, §7.1.3).

public struct HPACKHeaderField: Equatable, Hashable, Sendable, CustomStringConvertible {
    public var name: String
    public var value: String
    /// Never put into any table, by us or by an intermediary (§6.2.3), e.g. for credentials.
    public var neverIndex: Bool

    public init(_ name: String, _ value: String, neverIndex: Bool = false) {
        self.name = name
        self.value = value
        self.neverIndex = neverIndex
    }

    /// §4.1: "The size of an entry is the sum of its name's length in octets, its value's length
    /// in octets, and 32." RFC 9113 §6.5.2 counts a header list the same way.
    public var size: Int { name.utf8.count + value.utf8.count + 32 }

    public var description: String { "\(name): \(value)" }
}
