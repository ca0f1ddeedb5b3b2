/// Stored bytes that cannot be decoded: truncated, corrupt, or of an unknown format version.
///
/// The decoder reports these instead of trapping, whatever the bytes are.
public struct CodecError: Error, Sendable, Hashable, CustomStringConvertible {
    public struct Code: Sendable, Hashable, CustomStringConvertible {
        public let name: String
        public var description: String { name }
        public static let truncated = Code(name: "truncated")
        public static let unknownVersion = Code(name: "unknown_version")
        public static let unknownTag = Code(name: "unknown_tag")
        public static let outOfRange = Code(name: "out_of_range")
        public static let invalidText = Code(name: "invalid_text")
        public static let trailingBytes = Code(name: "trailing_bytes")
    }

    public var code: Code
    /// Byte offset where decoding stopped.
    public var offset: Int

    public var description: String { "cannot decode stored bytes: \(code) at byte \(offset)" }
}
