/// A rejection of JSON input: what rule was broken and where.
///
/// The error deliberately carries only a code and a byte offset, never a slice of the input: ingested documents
/// hold personal data and bearer tokens, and errors end up in logs and HTTP responses. The offset is enough to
/// find the problem in the caller's own copy of the bytes.
public struct JSONError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The kind of rule a document broke.
    ///
    /// A struct with static members rather than an enum, so new codes can be added later without breaking
    /// callers that switch over them (they must keep a `default` branch, as with swift-nio's error codes).
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private enum Base: Hashable, Sendable {
            case unexpectedEnd
            case unexpectedCharacter
            case invalidUTF8
            case invalidEscape
            case invalidNumber
            case numberOutOfRange
            case nestingTooDeep
            case duplicateKey
            case trailingContent
            case tooLarge
            case notAnObject
        }

        private var base: Base

        private init(_ base: Base) {
            self.base = base
        }

        /// The input ended inside a value (or was empty), so the document is truncated.
        public static let unexpectedEnd = Code(.unexpectedEnd)
        /// A byte that the grammar does not allow at this point, including unescaped control characters in
        /// strings, comments, single quotes, trailing commas, `+`, `NaN` and `Infinity`.
        public static let unexpectedCharacter = Code(.unexpectedCharacter)
        /// A string holds bytes that are not well-formed UTF-8 (overlong, surrogate, above U+10FFFF, truncated).
        public static let invalidUTF8 = Code(.invalidUTF8)
        /// A backslash escape is unknown, malformed, or a `\u` escape names an unpaired surrogate.
        public static let invalidEscape = Code(.invalidEscape)
        /// A number breaks the RFC 8259 grammar, for example a leading zero or a missing fraction digit.
        public static let invalidNumber = Code(.invalidNumber)
        /// A number is well-formed but too large in magnitude to be a finite `Double`.
        public static let numberOutOfRange = Code(.numberOutOfRange)
        /// Arrays and objects nest deeper than ``JSONParser/Limits/maxDepth``.
        public static let nestingTooDeep = Code(.nestingTooDeep)
        /// One object names the same key twice; the offset is that of the second occurrence.
        public static let duplicateKey = Code(.duplicateKey)
        /// Something other than whitespace follows the top-level value.
        public static let trailingContent = Code(.trailingContent)
        /// The input is longer than ``JSONParser/Limits/maxBytes``.
        public static let tooLarge = Code(.tooLarge)
        /// The document is valid JSON but its top-level value is not the object the caller required.
        public static let notAnObject = Code(.notAnObject)

        /// A short lower-case phrase naming the rule, for use in ``JSONError/description``.
        public var description: String {
            switch base {
            case .unexpectedEnd: "unexpected end of input"
            case .unexpectedCharacter: "unexpected character"
            case .invalidUTF8: "invalid UTF-8"
            case .invalidEscape: "invalid escape sequence"
            case .invalidNumber: "invalid number"
            case .numberOutOfRange: "number out of range"
            case .nestingTooDeep: "nesting too deep"
            case .duplicateKey: "duplicate key"
            case .trailingContent: "trailing content after the value"
            case .tooLarge: "input too large"
            case .notAnObject: "top-level value is not an object"
            }
        }
    }

    /// Which rule the input broke.
    public var code: Code

    /// The byte offset into the input where the problem was found.
    ///
    /// For ``Code/unexpectedEnd`` this is the input's length; for ``Code/tooLarge`` it is the first byte past the
    /// limit; otherwise it is the first byte of the offending token, escape or UTF-8 sequence.
    public var offset: Int

    /// Creates an error; public so that layers built on this module (for example an event decoder that requires
    /// an object) can report their own rejections with the same type.
    ///
    /// - Parameters:
    ///   - code: The rule that was broken.
    ///   - offset: The byte offset into the input where the problem was found.
    public init(_ code: Code, offset: Int) {
        self.code = code
        self.offset = offset
    }

    /// A message such as `invalid JSON at byte 17: unexpected character`.
    ///
    /// It never quotes the input, because the input may contain personal data or credentials.
    public var description: String {
        "invalid JSON at byte \(offset): \(code)"
    }
}
