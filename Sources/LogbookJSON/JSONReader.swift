/// One open array or object on the parser's explicit stack.
struct ContainerFrame {
    /// Where this container's elements begin in the reader's member stack.
    var start: Int
    var isObject: Bool
    /// Whether this object's keys are also held in the reader's last key set (large objects only).
    var hasKeySet = false
    /// Whether this object has a key that is not verbatim ASCII (see ``KeySpan``).
    var hasNonVerbatimKey = false
    /// One bit per hash of each verbatim ASCII key so far, a one-word Bloom filter: a new key whose bit is
    /// clear cannot repeat an earlier one, so the usual object is checked for duplicates without any comparison.
    var verbatimKeyBits: UInt64 = 0

    init(start: Int, isObject: Bool) {
        self.start = start
        self.isObject = isObject
    }
}

/// ASCII values of the bytes the grammar names, spelled once.
enum ASCII {
    static let quote = UInt8(ascii: "\"")
    static let backslash = UInt8(ascii: "\\")
    static let slash = UInt8(ascii: "/")
    static let comma = UInt8(ascii: ",")
    static let colon = UInt8(ascii: ":")
    static let openBrace = UInt8(ascii: "{")
    static let closeBrace = UInt8(ascii: "}")
    static let openBracket = UInt8(ascii: "[")
    static let closeBracket = UInt8(ascii: "]")
    static let minus = UInt8(ascii: "-")
    static let plus = UInt8(ascii: "+")
    static let dot = UInt8(ascii: ".")
    static let zero = UInt8(ascii: "0")
    static let nine = UInt8(ascii: "9")
    static let space = UInt8(ascii: " ")
    static let tab = UInt8(ascii: "\t")
    static let newline = UInt8(ascii: "\n")
    static let carriageReturn = UInt8(ascii: "\r")
}

@inline(__always)
func isWhitespace(_ byte: UInt8) -> Bool {
    byte == ASCII.space || byte == ASCII.newline || byte == ASCII.carriageReturn || byte == ASCII.tab
}

@inline(__always)
func isDigit(_ byte: UInt8) -> Bool {
    byte &- ASCII.zero < 10
}

/// The state of one parse: a cursor over the input plus the stacks that replace recursion.
///
/// Non-copyable because it owns the member stack's memory, which its `deinit` releases on every exit path,
/// including a thrown error.
struct Reader: ~Copyable {
    let base: UnsafeRawPointer
    let count: Int
    var position = 0

    let frames: UnsafeMutableBufferPointer<ContainerFrame>
    var depth = 0
    let maxDepth: Int

    /// Elements of all open containers, innermost last; array elements carry an empty key.
    var members: MemberStack
    /// Key sets of open objects that grew past `linearKeyLimit`, innermost last.
    var keySets: [Set<String>] = []
    /// Reused output buffer for strings that contain escapes.
    var unescaped: [UInt8] = []
    /// The document's value, once parsed.
    var topLevel = JSONValue.null
    /// Whether the string parsed last was pure ASCII without escapes, so that its text equals its input bytes.
    var lastStringWasVerbatimASCII = false

    /// Up to this many keys, duplicates are found by comparing with each earlier key; beyond it a set is built,
    /// so a hostile object with many keys costs O(n) rather than O(n²).
    private static let linearKeyLimit = 16

    init(
        base: UnsafeRawPointer,
        count: Int,
        frames: UnsafeMutableBufferPointer<ContainerFrame>,
        maxDepth: Int,
        members: consuming MemberStack
    ) {
        self.base = base
        self.count = count
        self.frames = frames
        self.maxDepth = maxDepth
        self.members = members
    }

    @inline(__always)
    func byte(at index: Int) -> UInt8 {
        base.load(fromByteOffset: index, as: UInt8.self)
    }

    @inline(__always)
    func fail(_ code: JSONError.Code, at offset: Int) -> JSONError {
        JSONError(code, offset: offset)
    }

    @inline(__always)
    mutating func skipWhitespace() {
        while position < count {
            let current = byte(at: position)
            guard current <= ASCII.space, isWhitespace(current) else {
                return
            }
            position += 1
        }
    }

    mutating func parseDocument() throws(JSONError) -> JSONValue {
        skipWhitespace()
        try parseValueTree()
        skipWhitespace()
        guard position == count else {
            throw fail(.trailingContent, at: position)
        }
        return topLevel
    }

    /// Parses one value and everything nested in it into `topLevel`, keeping open containers on `frames` instead
    /// of recursing.
    ///
    /// Each finished value goes straight into its container (see `store(_:)`), never through a local variable,
    /// so it is moved rather than copied: a copy would cost a retain and a release per string or container.
    private mutating func parseValueTree() throws(JSONError) {
        nextValue: while true {
            // Expecting a value; whitespace before it has been skipped.
            guard position < count else {
                throw fail(.unexpectedEnd, at: count)
            }
            switch byte(at: position) {
            case ASCII.openBrace:
                try openContainer(isObject: true)
                skipWhitespace()
                if position < count, byte(at: position) == ASCII.closeBrace {
                    position += 1
                    closeContainer()
                    store(.object(JSONObject()))
                } else {
                    try parseKeyAndColon()
                    skipWhitespace()
                    continue nextValue
                }
            case ASCII.openBracket:
                try openContainer(isObject: false)
                skipWhitespace()
                if position < count, byte(at: position) == ASCII.closeBracket {
                    position += 1
                    closeContainer()
                    store(.array([]))
                } else {
                    continue nextValue
                }
            case ASCII.quote:
                store(.string(try parseString()))
            case UInt8(ascii: "t"):
                try expectLiteral("true")
                store(.bool(true))
            case UInt8(ascii: "f"):
                try expectLiteral("false")
                store(.bool(false))
            case UInt8(ascii: "n"):
                try expectLiteral("null")
                store(.null)
            case ASCII.minus, ASCII.zero...ASCII.nine:
                store(try parseNumber())
            default:
                throw fail(.unexpectedCharacter, at: position)
            }

            // A value is complete: close every container that ends here, then expect the next element.
            while depth > 0 {
                let frame = frames[depth - 1]
                skipWhitespace()
                guard position < count else {
                    throw fail(.unexpectedEnd, at: count)
                }
                let separator = byte(at: position)
                if separator == ASCII.comma {
                    position += 1
                    skipWhitespace()
                    if frame.isObject {
                        try parseKeyAndColon()
                        skipWhitespace()
                    }
                    continue nextValue
                }
                guard separator == (frame.isObject ? ASCII.closeBrace : ASCII.closeBracket) else {
                    throw fail(.unexpectedCharacter, at: position)
                }
                position += 1
                closeContainer()
                if frame.isObject {
                    store(.object(JSONObject(members.popMembers(from: frame.start))))
                } else {
                    store(.array(members.popValues(from: frame.start)))
                }
            }
            return
        }
    }

    /// Puts a finished value where it belongs: as the pending member's value in an object, as the next element
    /// of an array, or as the document's value.
    @inline(__always)
    private mutating func store(_ value: consuming JSONValue) {
        if depth == 0 {
            topLevel = value
        } else if frames[depth - 1].isObject {
            members.setLastValue(value)
        } else {
            members.append((key: "", value: value), span: .escapedOrNonASCII)
        }
    }

    /// Pushes a frame for the `{` or `[` at the cursor and steps over it.
    private mutating func openContainer(isObject: Bool) throws(JSONError) {
        // The second condition always holds (see `JSONParser.parse`); it is checked so memory safety does not
        // depend on that argument.
        guard depth < maxDepth, depth < frames.count else {
            throw fail(.nestingTooDeep, at: position)
        }
        frames[depth] = ContainerFrame(start: members.count, isObject: isObject)
        depth += 1
        position += 1
    }

    /// Pops the innermost frame; its elements stay on the member stack for the caller to collect.
    private mutating func closeContainer() {
        depth -= 1
        if frames[depth].hasKeySet {
            keySets.removeLast()
        }
    }

    /// Parses `"key" :` inside the innermost object and pushes a member whose value is filled in later.
    private mutating func parseKeyAndColon() throws(JSONError) {
        guard position < count else {
            throw fail(.unexpectedEnd, at: count)
        }
        let keyOffset = position
        guard byte(at: position) == ASCII.quote else {
            throw fail(.unexpectedCharacter, at: position)
        }
        let key = try parseString()
        var span = KeySpan.escapedOrNonASCII
        if lastStringWasVerbatimASCII {
            // The key's text lies between its quotes.
            span = KeySpan(offset: keyOffset + 1, length: position - keyOffset - 2)
        }
        try rejectDuplicate(key, span: span, at: keyOffset)
        skipWhitespace()
        guard position < count else {
            throw fail(.unexpectedEnd, at: count)
        }
        guard byte(at: position) == ASCII.colon else {
            throw fail(.unexpectedCharacter, at: position)
        }
        position += 1
        members.append((key: key, value: .null), span: span)
    }

    /// Throws `duplicateKey` when the innermost object already has a key equal to `key`.
    ///
    /// Keys are equal when Swift's `String` says so (canonical equivalence), the rule ``JSONObject`` lookups use;
    /// so a document cannot smuggle in two spellings of one key ("é" precomposed and decomposed) that different
    /// consumers would resolve differently. Pure-ASCII keys without escapes are compared as bytes in the input,
    /// which for them is the same rule and much cheaper.
    private mutating func rejectDuplicate(_ key: String, span: KeySpan, at offset: Int) throws(JSONError) {
        let frameIndex = depth - 1
        if frames[frameIndex].hasKeySet {
            guard keySets[keySets.count - 1].insert(key).inserted else {
                throw fail(.duplicateKey, at: offset)
            }
            return
        }
        let start = frames[frameIndex].start
        var mayRepeat = true
        if span.isVerbatimASCII {
            let bit = keyBit(span)
            // With only verbatim keys so far, a clear bit proves the key is new.
            mayRepeat = frames[frameIndex].hasNonVerbatimKey || frames[frameIndex].verbatimKeyBits & bit != 0
            frames[frameIndex].verbatimKeyBits |= bit
        } else {
            frames[frameIndex].hasNonVerbatimKey = true
        }
        if mayRepeat, members.containsKey(key, span: span, from: start, input: base) {
            throw fail(.duplicateKey, at: offset)
        }
        if members.count - start >= Self.linearKeyLimit {
            var keys = members.keys(from: start)
            keys.insert(key)
            keySets.append(keys)
            frames[frameIndex].hasKeySet = true
        }
    }

    /// Picks the Bloom-filter bit of a verbatim key from its length and its first and last bytes.
    @inline(__always)
    private func keyBit(_ span: KeySpan) -> UInt64 {
        var hash = span.length
        if span.length > 0 {
            hash &+= Int(byte(at: span.offset)) &* 31 &+ Int(byte(at: span.offset + span.length - 1)) &* 7
        }
        return 1 << UInt64(hash & 63)
    }

    private mutating func expectLiteral(_ literal: StaticString) throws(JSONError) {
        let text = UnsafeRawBufferPointer(start: literal.utf8Start, count: literal.utf8CodeUnitCount)
        for expected in text {
            guard position < count else {
                throw fail(.unexpectedEnd, at: count)
            }
            guard byte(at: position) == expected else {
                throw fail(.unexpectedCharacter, at: position)
            }
            position += 1
        }
    }
}
