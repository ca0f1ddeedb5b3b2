/// A strict RFC 8259 JSON parser for untrusted input.
///
/// It is strict because it sits at the edge of an append-only store: whatever it accepts is kept forever, so it
/// refuses everything the RFC does not allow (comments, trailing commas, `NaN`, leading zeros, lone surrogates,
/// invalid UTF-8, duplicate keys) instead of guessing what the producer meant. It is bounded because the input
/// is hostile: ``Limits`` caps size and nesting, nesting is tracked on an explicit stack rather than by recursion,
/// and every byte access is checked against the input's end, so no input can trap, overflow the stack or read
/// out of bounds.
///
/// All entry points are static; a parse keeps its working state on the stack of the calling thread, so
/// concurrent parses on different threads share nothing.
public struct JSONParser: Sendable {
    /// Bounds on what a single parse accepts, so that one hostile request cannot exhaust memory or time.
    public struct Limits: Sendable {
        /// The deepest nesting of arrays and objects accepted; a top-level object or array is depth 1.
        ///
        /// The parser tracks nesting without recursion, but Swift destroys a nested ``JSONValue`` recursively
        /// (when the caller releases it, or when the parser discards a partial tree after an error), so a tree
        /// thousands of levels deep can exhaust a thread's stack. Keep this small.
        public var maxDepth: Int = 32
        /// The largest input accepted, in bytes; checked before any parsing work is done.
        public var maxBytes: Int = 1 << 20

        /// Limits suited to single events: 32 levels and 1 MiB.
        public static let `default` = Limits()

        /// Creates limits; the defaults are those of ``default``.
        ///
        /// - Parameters:
        ///   - maxDepth: The deepest nesting of arrays and objects accepted.
        ///   - maxBytes: The largest input accepted, in bytes.
        public init(maxDepth: Int = 32, maxBytes: Int = 1 << 20) {
            self.maxDepth = maxDepth
            self.maxBytes = maxBytes
        }
    }

    /// Parses one JSON document that must fill the whole buffer (whitespace aside).
    ///
    /// This is the primary entry point: it reads the caller's bytes in place, so a line handed out by
    /// ``NDJSONLines`` is parsed without being copied.
    ///
    /// - Parameters:
    ///   - bytes: The UTF-8 encoded document.
    ///   - limits: Bounds on size and nesting.
    /// - Returns: The document's top-level value.
    /// - Throws: ``JSONError`` naming the first rule broken and the byte offset where it was found.
    /// - Complexity: O(*n*) in the input's length (duplicate-key checks switch to hashing for large objects).
    public static func parse(
        _ bytes: UnsafeRawBufferPointer,
        limits: Limits = .default
    ) throws(JSONError) -> JSONValue {
        guard bytes.count <= limits.maxBytes else {
            throw JSONError(.tooLarge, offset: Swift.max(limits.maxBytes, 0))
        }
        guard let base = bytes.baseAddress, !bytes.isEmpty else {
            throw JSONError(.unexpectedEnd, offset: 0)
        }
        // Every open container consumed one byte, so the input's length bounds the depth as well. The working
        // stacks start in temporary allocations, which are on the stack for the default limits, so a typical
        // event allocates nothing but its own strings and arrays.
        let frameCapacity = Swift.max(1, Swift.min(limits.maxDepth, bytes.count))
        let memberCapacity = MemberStack.initialCapacity
        return try withUnsafeTemporaryAllocation(of: ContainerFrame.self, capacity: frameCapacity) {
            frames throws(JSONError) in
            try withUnsafeTemporaryAllocation(of: MemberStack.Member.self, capacity: memberCapacity) {
                members throws(JSONError) in
                try withUnsafeTemporaryAllocation(of: KeySpan.self, capacity: memberCapacity) {
                    spans throws(JSONError) in
                    var reader = Reader(
                        base: base,
                        count: bytes.count,
                        frames: frames,
                        maxDepth: limits.maxDepth,
                        members: MemberStack(initialStorage: members, initialSpans: spans)
                    )
                    return try reader.parseDocument()
                }
            }
        }
    }

    /// Parses one JSON document held in an array.
    ///
    /// - Parameters:
    ///   - bytes: The UTF-8 encoded document.
    ///   - limits: Bounds on size and nesting.
    /// - Returns: The document's top-level value.
    /// - Throws: ``JSONError`` naming the first rule broken and the byte offset where it was found.
    public static func parse(_ bytes: [UInt8], limits: Limits = .default) throws(JSONError) -> JSONValue {
        // `withUnsafeBytes` only rethrows untyped errors, so the typed error travels out inside a `Result`.
        let result = bytes.withUnsafeBytes { buffer in
            Result { () throws(JSONError) in try parse(buffer, limits: limits) }
        }
        return try result.get()
    }

    /// Parses one JSON document held in a string; offsets in errors count UTF-8 bytes.
    ///
    /// - Parameters:
    ///   - string: The document.
    ///   - limits: Bounds on size and nesting.
    /// - Returns: The document's top-level value.
    /// - Throws: ``JSONError`` naming the first rule broken and the byte offset where it was found.
    public static func parse(_ string: String, limits: Limits = .default) throws(JSONError) -> JSONValue {
        var string = string
        let result = string.withUTF8 { buffer in
            Result { () throws(JSONError) in try parse(UnsafeRawBufferPointer(buffer), limits: limits) }
        }
        return try result.get()
    }

    /// Parses a document whose top-level value must be an object, as every event line is.
    ///
    /// - Parameters:
    ///   - bytes: The UTF-8 encoded document.
    ///   - limits: Bounds on size and nesting.
    /// - Returns: The top-level object.
    /// - Throws: ``JSONError``; ``JSONError/Code/notAnObject`` (at the value's first byte) when the document is
    ///   valid but holds something other than an object.
    public static func parseObject(
        _ bytes: UnsafeRawBufferPointer,
        limits: Limits = .default
    ) throws(JSONError) -> JSONObject {
        guard case .object(let object) = try parse(bytes, limits: limits) else {
            var offset = 0
            while offset < bytes.count, isWhitespace(bytes[offset]) {
                offset += 1
            }
            throw JSONError(.notAnObject, offset: offset)
        }
        return object
    }

    /// Parses a document held in an array whose top-level value must be an object.
    ///
    /// - Parameters:
    ///   - bytes: The UTF-8 encoded document.
    ///   - limits: Bounds on size and nesting.
    /// - Returns: The top-level object.
    /// - Throws: ``JSONError``; ``JSONError/Code/notAnObject`` when the document holds something else.
    public static func parseObject(_ bytes: [UInt8], limits: Limits = .default) throws(JSONError) -> JSONObject {
        let result = bytes.withUnsafeBytes { buffer in
            Result { () throws(JSONError) in try parseObject(buffer, limits: limits) }
        }
        return try result.get()
    }
}
