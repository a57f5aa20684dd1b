// STUB: SHA-1 (FIPS 180-4), needed only for the RFC 6455 §4.2.2 Sec-WebSocket-Accept value.
public struct SHA1 {
    public init() { fatalError("TODO") }
    public mutating func update(_ bytes: [UInt8]) { fatalError("TODO") }
    public mutating func finalize() -> [UInt8] { fatalError("TODO") }   // 20 bytes
    public static func hash(_ bytes: [UInt8]) -> [UInt8] { fatalError("TODO") }
}
