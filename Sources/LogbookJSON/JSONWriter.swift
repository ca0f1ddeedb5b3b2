/// Appends compact JSON to a byte buffer.
///
/// The writer emits bytes directly rather than building a `String`, so a batch of events can be serialised into
/// one reused buffer (see ``reset()``) and handed to storage or the network without another copy. It inserts the
/// commas between elements itself, so callers only say what to write, in order.
///
/// The writer trusts its caller about structure: it does not check that keys appear only in objects or that
/// every `begin` has its `end`, because it runs on hot paths and its callers are code, not input. Misuse yields
/// malformed output but never traps.
///
/// ```swift
/// var writer = JSONWriter()
/// writer.beginObject()
/// writer.writeKey("id")
/// writer.writeInteger(42)
/// writer.endObject()
/// // writer.bytes holds {"id":42}
/// ```
public struct JSONWriter: Sendable {
    /// The JSON written so far.
    public var bytes: [UInt8]

    /// Whether the next element of the innermost container must be preceded by a comma.
    private var needsComma = false
    /// Whether a key and its colon were just written, so the next value belongs to it and takes no comma.
    private var afterKey = false
    /// `needsComma` of each enclosing container, saved while a nested one is open.
    private var enclosing: [Bool] = []

    /// Creates an empty writer.
    ///
    /// - Parameter capacity: Bytes to reserve up front, so typical documents are written without reallocating.
    public init(capacity: Int = 256) {
        bytes = []
        bytes.reserveCapacity(capacity)
    }

    /// Empties the buffer and forgets any open containers, keeping the allocated capacity for the next document.
    public mutating func reset() {
        bytes.removeAll(keepingCapacity: true)
        enclosing.removeAll(keepingCapacity: true)
        needsComma = false
        afterKey = false
    }

    /// Writes `null`.
    public mutating func writeNull() {
        beginValue()
        appendStatic("null")
    }

    /// Writes `true` or `false`.
    ///
    /// - Parameter value: The value to write.
    public mutating func writeBool(_ value: Bool) {
        beginValue()
        appendStatic(value ? "true" : "false")
    }

    /// Writes an integer in decimal without allocating.
    ///
    /// - Parameter value: The value to write.
    public mutating func writeInteger(_ value: Int64) {
        appendInteger(value, comma: takeValueSeparator())
    }

    /// Writes one value whose text is the literal `open`, the integer `value`, then the literal
    /// `close` — an object such as `{"status":"appended","seq":` 42 `}` — without scanning or
    /// tracking its inside: for the elements of a long array that differ only in a number.
    /// The literals must make valid JSON around the number; nothing checks them.
    public mutating func writeValue(_ open: StaticString, _ value: Int64, _ close: StaticString) {
        beginValue()
        appendStatic(open)
        appendInteger(value, comma: false)
        appendStatic(close)
    }

    /// Appends `value`'s digits, after a comma when `comma`.
    private mutating func appendInteger(_ value: Int64, comma: Bool) {
        var magnitude = value.magnitude
        // Digits are produced backwards into a stack buffer, then appended with the sign and separator at once.
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 24) { token in
            var start = token.count
            repeat {
                start -= 1
                token[start] = ASCII.zero + UInt8(magnitude % 10)
                magnitude /= 10
            } while magnitude != 0
            if value < 0 {
                start -= 1
                token[start] = ASCII.minus
            }
            if comma {
                start -= 1
                token[start] = ASCII.comma
            }
            bytes.append(contentsOf: UnsafeMutableBufferPointer(rebasing: token[start...]))
        }
    }

    /// Writes a number in the shortest form that parses back to the same `Double`.
    ///
    /// Integral values keep a fraction (`12.0`) or exponent (`1e+16`), so they read back as
    /// ``JSONValue/double(_:)`` rather than ``JSONValue/integer(_:)``. JSON cannot represent NaN or the
    /// infinities; they are written as `null`, because failing or trapping on every numeric write would burden
    /// all callers for a value that should not reach a writer.
    ///
    /// - Parameter value: The value to write.
    public mutating func writeDouble(_ value: Double) {
        beginValue()
        guard value.isFinite else {
            appendStatic("null")
            return
        }
        // Swift's `description` is the shortest round-trip form, and its syntax is also valid JSON.
        bytes.append(contentsOf: value.description.utf8)
    }

    /// Writes a string in quotes.
    ///
    /// Quotes, backslashes and control characters are escaped (`\n`, `\t`, `\r`, `\b`, `\f`, else `\u00XX`);
    /// all other text, including non-ASCII, is copied as UTF-8, which keeps output compact and fast to produce.
    ///
    /// - Parameter value: The string to write.
    public mutating func writeString(_ value: String) {
        appendQuoted(value, prefix: takeValueSeparator() ? ASCII.comma : nil, suffix: nil)
    }

    /// Appends bytes verbatim, such as the newline between NDJSON records.
    ///
    /// This is not a value: no comma is inserted before it and the separator state is left as it was, so it must
    /// not be used for elements of an array or values of an object.
    ///
    /// - Parameter raw: The bytes to append, which the caller guarantees fit where they are placed.
    public mutating func writeRaw(_ raw: StaticString) {
        appendStatic(raw)
    }

    /// Opens an object; follow with ``writeKey(_:)`` and a value per member, then ``endObject()``.
    public mutating func beginObject() {
        beginContainer(ASCII.openBrace)
    }

    /// Closes the innermost open object.
    public mutating func endObject() {
        endContainer(ASCII.closeBrace)
    }

    /// Opens an array; follow with its elements, then ``endArray()``.
    public mutating func beginArray() {
        beginContainer(ASCII.openBracket)
    }

    /// Closes the innermost open array.
    public mutating func endArray() {
        endContainer(ASCII.closeBracket)
    }

    /// Writes an object member's key and colon; the next value written becomes the member's value.
    ///
    /// - Parameter key: The member's name, escaped like ``writeString(_:)``.
    public mutating func writeKey(_ key: String) {
        appendQuoted(key, prefix: needsComma ? ASCII.comma : nil, suffix: ASCII.colon)
        needsComma = true
        afterKey = true
    }

    /// Writes a key that needs no escaping (a literal such as `"seq"`) without scanning it: for
    /// keys written once per element of a long array.
    public mutating func writeKey(plain key: StaticString) {
        assert(key.withUTF8Buffer { !JSONWriter.needsEscaping($0) }, "\(key) needs escaping")
        if needsComma { bytes.append(ASCII.comma) }
        bytes.append(ASCII.quote)
        appendStatic(key)
        bytes.append(ASCII.quote)
        bytes.append(ASCII.colon)
        needsComma = true
        afterKey = true
    }

    /// Writes a string that needs no escaping (a literal) without scanning it.
    public mutating func writeString(plain value: StaticString) {
        assert(value.withUTF8Buffer { !JSONWriter.needsEscaping($0) }, "\(value) needs escaping")
        beginValue()
        bytes.append(ASCII.quote)
        appendStatic(value)
        bytes.append(ASCII.quote)
    }

    /// Writes a whole value tree, members in their stored order.
    ///
    /// - Parameter value: The value to write.
    public mutating func write(_ value: JSONValue) {
        switch value {
        case .null:
            writeNull()
        case .bool(let bool):
            writeBool(bool)
        case .integer(let integer):
            writeInteger(integer)
        case .double(let double):
            writeDouble(double)
        case .string(let string):
            writeString(string)
        case .array(let elements):
            beginArray()
            for element in elements {
                write(element)
            }
            endArray()
        case .object(let object):
            beginObject()
            for member in object.members {
                writeKey(member.key)
                write(member.value)
            }
            endObject()
        }
    }

    // MARK: Implementation

    /// Notes that a value is being written and returns whether a comma must precede it.
    @inline(__always)
    private mutating func takeValueSeparator() -> Bool {
        let comma = needsComma && !afterKey
        afterKey = false
        // Top-level values are never separated by commas (consecutive NDJSON records, for instance).
        needsComma = !enclosing.isEmpty
        return comma
    }

    /// Emits the comma owed before a value, if any, and notes that the container now has an element.
    @inline(__always)
    private mutating func beginValue() {
        if takeValueSeparator() {
            bytes.append(ASCII.comma)
        }
    }

    private mutating func beginContainer(_ opening: UInt8) {
        beginValue()
        enclosing.append(needsComma)
        bytes.append(opening)
        needsComma = false
    }

    private mutating func endContainer(_ closing: UInt8) {
        bytes.append(closing)
        afterKey = false
        needsComma = enclosing.popLast() ?? false
    }

    @inline(__always)
    private mutating func appendStatic(_ text: StaticString) {
        text.withUTF8Buffer { bytes.append(contentsOf: $0) }
    }

    /// Appends `prefix`, the quoted and escaped string, then `suffix`.
    private mutating func appendQuoted(_ string: String, prefix: UInt8?, suffix: UInt8?) {
        let copied = string.utf8.withContiguousStorageIfAvailable { text in
            appendQuoted(text, prefix: prefix, suffix: suffix)
            return true
        }
        if copied == nil {
            // Strings bridged from Objective-C may not be stored as contiguous UTF-8.
            var contiguous = string
            contiguous.makeContiguousUTF8()
            contiguous.withUTF8 { appendQuoted($0, prefix: prefix, suffix: suffix) }
        }
    }

    /// Up to this length, a string that needs no escaping is assembled on the stack with its quotes and separators
    /// and appended in one step; each separate append to an array costs a uniqueness and a capacity check.
    private static let shortStringLength = 120

    private mutating func appendQuoted(_ text: UnsafeBufferPointer<UInt8>, prefix: UInt8?, suffix: UInt8?) {
        if text.count <= Self.shortStringLength, !Self.needsEscaping(text) {
            withUnsafeTemporaryAllocation(of: UInt8.self, capacity: Self.shortStringLength + 4) { token in
                var length = 0
                if let prefix {
                    token[length] = prefix
                    length += 1
                }
                token[length] = ASCII.quote
                length += 1
                if let source = text.baseAddress, let target = token.baseAddress {
                    (target + length).update(from: source, count: text.count)
                }
                length += text.count
                token[length] = ASCII.quote
                length += 1
                if let suffix {
                    token[length] = suffix
                    length += 1
                }
                bytes.append(contentsOf: UnsafeMutableBufferPointer(rebasing: token[..<length]))
            }
            return
        }
        if let prefix {
            bytes.append(prefix)
        }
        bytes.append(ASCII.quote)
        appendEscaped(text)
        bytes.append(ASCII.quote)
        if let suffix {
            bytes.append(suffix)
        }
    }

    private static func needsEscaping(_ text: UnsafeBufferPointer<UInt8>) -> Bool {
        guard let base = text.baseAddress else {
            return false
        }
        var index = 0
        while index + 8 <= text.count {
            if ByteScanning.mustEscapeMask(ByteScanning.load(base, index)) != 0 {
                return true
            }
            index += 8
        }
        while index < text.count {
            let byte = base[index]
            if byte < 0x20 || byte == ASCII.quote || byte == ASCII.backslash {
                return true
            }
            index += 1
        }
        return false
    }

    /// Appends UTF-8 text, escaping what JSON requires; runs that need no escaping are found eight bytes at a
    /// time and copied in bulk.
    private mutating func appendEscaped(_ text: UnsafeBufferPointer<UInt8>) {
        guard let base = text.baseAddress else {
            return
        }
        let count = text.count
        var index = 0
        var runStart = 0
        while index < count {
            while index + 8 <= count {
                let mask = ByteScanning.mustEscapeMask(ByteScanning.load(base, index))
                if mask != 0 {
                    index += mask.trailingZeroBitCount >> 3
                    break
                }
                index += 8
            }
            guard index < count else {
                break
            }
            let byte = base[index]
            guard byte < 0x20 || byte == ASCII.quote || byte == ASCII.backslash else {
                index += 1
                continue
            }
            if runStart < index {
                bytes.append(contentsOf: UnsafeBufferPointer(start: base + runStart, count: index - runStart))
            }
            appendEscape(for: byte)
            index += 1
            runStart = index
        }
        if runStart < count {
            bytes.append(contentsOf: UnsafeBufferPointer(start: base + runStart, count: count - runStart))
        }
    }

    private mutating func appendEscape(for byte: UInt8) {
        bytes.append(ASCII.backslash)
        switch byte {
        case ASCII.quote: bytes.append(ASCII.quote)
        case ASCII.backslash: bytes.append(ASCII.backslash)
        case ASCII.newline: bytes.append(UInt8(ascii: "n"))
        case ASCII.tab: bytes.append(UInt8(ascii: "t"))
        case ASCII.carriageReturn: bytes.append(UInt8(ascii: "r"))
        case 0x08: bytes.append(UInt8(ascii: "b"))
        case 0x0C: bytes.append(UInt8(ascii: "f"))
        default:
            let hexDigits: StaticString = "0123456789abcdef"
            bytes.append(UInt8(ascii: "u"))
            bytes.append(ASCII.zero)
            bytes.append(ASCII.zero)
            bytes.append(hexDigits.utf8Start[Int(byte >> 4)])
            bytes.append(hexDigits.utf8Start[Int(byte & 0x0F)])
        }
    }
}
