// STUB: incremental UTF-8 validation (RFC 3629 §4), fed one fragment at a time.
public struct UTF8Validator {
    public init() { fatalError("TODO") }
    /// False as soon as the bytes so far cannot be the start of valid UTF-8.
    public mutating func validate(_ bytes: UnsafeRawBufferPointer) -> Bool { fatalError("TODO") }
    public mutating func validate(_ bytes: [UInt8]) -> Bool { fatalError("TODO") }
    /// True when the bytes so far end on a character boundary.
    public var isComplete: Bool { fatalError("TODO") }
    public static func isValid(_ bytes: [UInt8]) -> Bool { fatalError("TODO") }
}
