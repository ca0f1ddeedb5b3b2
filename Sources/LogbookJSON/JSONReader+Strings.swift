extension Reader {
    /// Parses the string whose opening quote is at the cursor.
    ///
    /// The common case, no escapes, is scanned eight bytes at a time and becomes a `String` straight from the
    /// input bytes; only strings with escapes go through a copy.
    mutating func parseString() throws(JSONError) -> String {
        let contentStart = position + 1
        var index = contentStart
        var isASCII = true
        while true {
            while index + 8 <= count {
                let word = ByteScanning.load(base, index)
                // Quotes, backslashes and control characters end the fast path; non-ASCII bytes need validating.
                let special = ByteScanning.mustEscapeMask(word) | (word & ByteScanning.highBits)
                if special != 0 {
                    index += special.trailingZeroBitCount >> 3
                    break
                }
                index += 8
            }
            guard index < count else {
                throw fail(.unexpectedEnd, at: count)
            }
            let current = byte(at: index)
            if current == ASCII.quote {
                position = index + 1
                lastStringWasVerbatimASCII = isASCII
                return makeString(from: contentStart, to: index)
            } else if current == ASCII.backslash {
                lastStringWasVerbatimASCII = false
                return try parseEscapedString(contentStart: contentStart, firstEscape: index)
            } else if current < 0x20 {
                throw fail(.unexpectedCharacter, at: index)
            } else if current >= 0x80 {
                isASCII = false
                index = try endOfUTF8Sequence(at: index)
            } else {
                index += 1
            }
        }
    }

    @inline(__always)
    func makeString(from start: Int, to end: Int) -> String {
        UnsafeRawBufferPointer(start: base + start, count: end - start).withMemoryRebound(to: UInt8.self) {
            String(decoding: $0, as: UTF8.self)
        }
    }

    /// Returns the index just past the well-formed UTF-8 sequence whose lead byte (at least 0x80) is at `index`.
    ///
    /// Follows the table of well-formed sequences in the Unicode standard (§3.9, table 3-7), which excludes
    /// overlong forms, UTF-16 surrogates and code points above U+10FFFF.
    private func endOfUTF8Sequence(at index: Int) throws(JSONError) -> Int {
        let length: Int
        var lowest: UInt8 = 0x80
        var highest: UInt8 = 0xBF
        switch byte(at: index) {
        case 0xC2...0xDF:
            length = 2
        case 0xE0:
            length = 3
            lowest = 0xA0
        case 0xE1...0xEC, 0xEE...0xEF:
            length = 3
        case 0xED:
            length = 3
            highest = 0x9F
        case 0xF0:
            length = 4
            lowest = 0x90
        case 0xF1...0xF3:
            length = 4
        case 0xF4:
            length = 4
            highest = 0x8F
        default:
            throw fail(.invalidUTF8, at: index)
        }
        guard length <= count - index else {
            throw fail(.invalidUTF8, at: index)
        }
        let second = byte(at: index + 1)
        guard second >= lowest, second <= highest else {
            throw fail(.invalidUTF8, at: index)
        }
        for offset in 2..<length where byte(at: index + offset) & 0xC0 != 0x80 {
            throw fail(.invalidUTF8, at: index)
        }
        return index + length
    }

    private mutating func parseEscapedString(contentStart: Int, firstEscape: Int) throws(JSONError) -> String {
        unescaped.removeAll(keepingCapacity: true)
        var index = firstEscape
        var runStart = contentStart
        while true {
            guard index < count else {
                throw fail(.unexpectedEnd, at: count)
            }
            let current = byte(at: index)
            if current == ASCII.quote {
                appendRun(from: runStart, to: index)
                position = index + 1
                return String(decoding: unescaped, as: UTF8.self)
            } else if current == ASCII.backslash {
                appendRun(from: runStart, to: index)
                index = try decodeEscape(at: index)
                runStart = index
            } else if current < 0x20 {
                throw fail(.unexpectedCharacter, at: index)
            } else if current >= 0x80 {
                index = try endOfUTF8Sequence(at: index)
            } else {
                index += 1
            }
        }
    }

    private mutating func appendRun(from start: Int, to end: Int) {
        guard end > start else {
            return
        }
        UnsafeRawBufferPointer(start: base + start, count: end - start).withMemoryRebound(to: UInt8.self) {
            unescaped.append(contentsOf: $0)
        }
    }

    /// Decodes the escape whose backslash is at `index` into `unescaped`; returns the index after it.
    private mutating func decodeEscape(at index: Int) throws(JSONError) -> Int {
        guard index + 1 < count else {
            throw fail(.unexpectedEnd, at: count)
        }
        let decoded: UInt8
        switch byte(at: index + 1) {
        case ASCII.quote: decoded = ASCII.quote
        case ASCII.backslash: decoded = ASCII.backslash
        case ASCII.slash: decoded = ASCII.slash
        case UInt8(ascii: "b"): decoded = 0x08
        case UInt8(ascii: "f"): decoded = 0x0C
        case UInt8(ascii: "n"): decoded = ASCII.newline
        case UInt8(ascii: "r"): decoded = ASCII.carriageReturn
        case UInt8(ascii: "t"): decoded = ASCII.tab
        case UInt8(ascii: "u"): return try decodeUnicodeEscape(at: index)
        default: throw fail(.invalidEscape, at: index)
        }
        unescaped.append(decoded)
        return index + 2
    }

    /// Decodes `\uXXXX`, or a `\uD8xx\uDCxx` surrogate pair, starting at `index`; a surrogate that is not part of
    /// a pair has no Unicode scalar value and is rejected.
    private mutating func decodeUnicodeEscape(at index: Int) throws(JSONError) -> Int {
        let unit = try hexQuad(at: index + 2, escapeAt: index)
        var next = index + 6
        let scalar: UInt32
        switch unit {
        case 0xD800...0xDBFF:
            // A high surrogate must be followed at once by `\u` and a low surrogate.
            guard next < count else {
                throw fail(.unexpectedEnd, at: count)
            }
            guard byte(at: next) == ASCII.backslash else {
                throw fail(.invalidEscape, at: index)
            }
            guard next + 1 < count else {
                throw fail(.unexpectedEnd, at: count)
            }
            guard byte(at: next + 1) == UInt8(ascii: "u") else {
                throw fail(.invalidEscape, at: index)
            }
            let low = try hexQuad(at: next + 2, escapeAt: next)
            guard (0xDC00...0xDFFF).contains(low) else {
                throw fail(.invalidEscape, at: index)
            }
            scalar = 0x10000 + ((unit - 0xD800) << 10) + (low - 0xDC00)
            next += 6
        case 0xDC00...0xDFFF:
            throw fail(.invalidEscape, at: index)
        default:
            scalar = unit
        }
        appendUTF8(scalar)
        return next
    }

    private func hexQuad(at index: Int, escapeAt escape: Int) throws(JSONError) -> UInt32 {
        guard index + 4 <= count else {
            throw fail(.unexpectedEnd, at: count)
        }
        var value: UInt32 = 0
        for offset in 0..<4 {
            let digit = byte(at: index + offset)
            let nibble: UInt8
            switch digit {
            case ASCII.zero...ASCII.nine: nibble = digit - ASCII.zero
            case UInt8(ascii: "a")...UInt8(ascii: "f"): nibble = digit - UInt8(ascii: "a") + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): nibble = digit - UInt8(ascii: "A") + 10
            default: throw fail(.invalidEscape, at: escape)
            }
            value = value << 4 | UInt32(nibble)
        }
        return value
    }

    private mutating func appendUTF8(_ scalar: UInt32) {
        switch scalar {
        case 0..<0x80:
            unescaped.append(UInt8(scalar))
        case 0x80..<0x800:
            unescaped.append(UInt8(0xC0 | scalar >> 6))
            unescaped.append(UInt8(0x80 | scalar & 0x3F))
        case 0x800..<0x10000:
            unescaped.append(UInt8(0xE0 | scalar >> 12))
            unescaped.append(UInt8(0x80 | scalar >> 6 & 0x3F))
            unescaped.append(UInt8(0x80 | scalar & 0x3F))
        default:
            unescaped.append(UInt8(0xF0 | scalar >> 18))
            unescaped.append(UInt8(0x80 | scalar >> 12 & 0x3F))
            unescaped.append(UInt8(0x80 | scalar >> 6 & 0x3F))
            unescaped.append(UInt8(0x80 | scalar & 0x3F))
        }
    }
}
