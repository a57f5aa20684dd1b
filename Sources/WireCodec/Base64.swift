// STUB: Base64 (RFC 4648 §4), standard alphabet with '=' padding.
public enum Base64 {
    public static func encode(_ bytes: [UInt8]) -> String { fatalError("TODO") }
    /// nil for anything that is not canonical padded Base64.
    public static func decode(_ text: String) -> [UInt8]? { fatalError("TODO") }
}
