/// Word-at-a-time byte classification ("SWAR"), used to skip eight plain bytes per step in the hot loops of the
/// parser, the writer and the NDJSON splitter.
///
/// Each function takes eight bytes loaded little-endian and returns a mask whose high bit is set in every byte
/// lane that matches. Lanes above the first match may be flagged spuriously (a borrow propagates upwards), so
/// callers only use the lowest set bit: `mask.trailingZeroBitCount >> 3` is the index of the first matching byte.
enum ByteScanning {
    static let ones: UInt64 = 0x0101_0101_0101_0101
    static let highBits: UInt64 = 0x8080_8080_8080_8080

    /// Lanes equal to `byte`.
    @inline(__always)
    static func equalMask(_ word: UInt64, _ byte: UInt8) -> UInt64 {
        let difference = word ^ (ones &* UInt64(byte))
        return (difference &- ones) & ~difference & highBits
    }

    /// Lanes below `bound`, which must be at most 0x80.
    @inline(__always)
    static func lessThanMask(_ word: UInt64, _ bound: UInt8) -> UInt64 {
        (word &- ones &* UInt64(bound)) & ~word & highBits
    }

    /// Lanes that a JSON string cannot hold unescaped: quote, backslash and control characters.
    @inline(__always)
    static func mustEscapeMask(_ word: UInt64) -> UInt64 {
        equalMask(word, ASCII.quote) | equalMask(word, ASCII.backslash) | lessThanMask(word, 0x20)
    }

    /// Loads eight bytes at `offset` as a little-endian word, whatever the platform's byte order.
    @inline(__always)
    static func load(_ base: UnsafeRawPointer, _ offset: Int) -> UInt64 {
        UInt64(littleEndian: base.loadUnaligned(fromByteOffset: offset, as: UInt64.self))
    }
}

/// Finds the end of a JSON string's plain run, eight bytes at a time: for callers that read
/// strings without escapes straight from their input (the event validator's fast path).
public enum PlainStringScan {
    /// The index of the first byte at or after `start` (and before `end`) that is a quote, a
    /// backslash or a control character; `end` when there is none.
    @inline(__always)
    public static func stop(_ base: UnsafeRawPointer, from start: Int, to end: Int) -> Int {
        var i = start
        while i + 8 <= end {
            let special = ByteScanning.mustEscapeMask(ByteScanning.load(base, i))
            if special != 0 { return i + special.trailingZeroBitCount >> 3 }
            i += 8
        }
        while i < end {
            let c = base.load(fromByteOffset: i, as: UInt8.self)
            if c == ASCII.quote || c == ASCII.backslash || c < 0x20 { return i }
            i += 1
        }
        return end
    }
}
