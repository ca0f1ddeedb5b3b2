/// A 128-bit identifier in RFC 9562 text form (`8-4-4-4-12` hex digits): event ids, user ids.
///
/// Stored as 16 raw bytes, a third of the text form; the text is produced on the way out.
public struct UUID128: Sendable, Hashable, Comparable, CustomStringConvertible {
    /// The first and last eight bytes, big-endian, so that `<` orders like the bytes do.
    public var high: UInt64
    public var low: UInt64

    public init(high: UInt64, low: UInt64) {
        self.high = high
        self.low = low
    }

    /// Parses the canonical 36-character form, either case. Nil on anything else.
    public init?(_ text: String) {
        var text = text
        guard let parsed = text.withUTF8({ UUID128(utf8: UnsafeRawBufferPointer($0)) }) else { return nil }
        self = parsed
    }

    /// Parses the canonical form from UTF-8 bytes.
    public init?(utf8 bytes: UnsafeRawBufferPointer) {
        guard bytes.count == 36, bytes[8] == 0x2D, bytes[13] == 0x2D, bytes[18] == 0x2D, bytes[23] == 0x2D else {
            return nil
        }
        // The 32 digits as four words of eight, each turned into 32 bits at once (SWAR):
        // ids are parsed twice or more per ingested event, and a digit at a time (a table
        // lookup and a shift each) was a hundredth of the HTTP server's CPU.
        func word(_ at: Int) -> UInt64 {
            UInt64(littleEndian: bytes.loadUnaligned(fromByteOffset: at, as: UInt64.self))
        }
        func half(_ at: Int) -> UInt64 {
            UInt64(UInt32(littleEndian: bytes.loadUnaligned(fromByteOffset: at, as: UInt32.self)))
        }
        guard let a = UUID128.hexWord(word(0)), let b = UUID128.hexWord(half(9) | half(14) << 32),
            let c = UUID128.hexWord(half(19) | half(24) << 32), let d = UUID128.hexWord(word(28))
        else { return nil }
        high = a << 32 | b
        low = c << 32 | d
    }

    /// The value of eight hex digits (either case), the first in the lowest byte of `w`; nil
    /// when any byte is not a hex digit.
    @inline(__always)
    static func hexWord(_ w: UInt64) -> UInt64? {
        let ones: UInt64 = 0x0101_0101_0101_0101
        let high = ones &* 0x80
        // Every byte ASCII, so that the sums below stay within their bytes.
        guard w & high == 0 else { return nil }
        // A byte's high bit set when it lies in lo...hi (bytes below 0x80 only).
        func within(_ y: UInt64, _ lo: UInt64, _ hi: UInt64) -> UInt64 {
            (y &+ ones &* (0x80 - lo)) & ~(y &+ ones &* (0x7F - hi)) & high
        }
        // Letters to lower case. That also turns control bytes 0x10–0x19 into digits, so the
        // digits are looked for in `w`.
        let x = w | ones &* 0x20
        let digit = within(w, 0x30, 0x39)
        let letter = within(x, 0x61, 0x66)
        guard digit | letter == high else { return nil }
        // Each byte's value: its low four bits, plus 9 for a letter.
        let v = (x & 0x0F0F_0F0F_0F0F_0F0F) &+ (letter >> 7) &* 9
        // Pairs of digits into bytes, then the four bytes together, the first digit highest.
        var t = (v & 0x000F_000F_000F_000F) << 4 | (v >> 8) & 0x000F_000F_000F_000F
        t = (t | t >> 8) & 0x0000_FFFF_0000_FFFF
        t = (t | t >> 16) & 0xFFFF_FFFF
        return UInt64(UInt32(truncatingIfNeeded: t).byteSwapped)
    }

    /// Reads 16 big-endian bytes.
    public init(bytes: UnsafeRawBufferPointer, at offset: Int = 0) {
        high = UInt64(bigEndian: bytes.loadUnaligned(fromByteOffset: offset, as: UInt64.self))
        low = UInt64(bigEndian: bytes.loadUnaligned(fromByteOffset: offset + 8, as: UInt64.self))
    }

    /// Appends the 16 big-endian bytes.
    public func append(to out: inout [UInt8]) {
        withUnsafeBytes(of: (high.bigEndian, low.bigEndian)) { out.append(contentsOf: $0) }
    }

    /// The 16 big-endian bytes.
    public var bytes: [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(16)
        append(to: &out)
        return out
    }

    /// Byte `i` (0...15) of the big-endian form.
    @inlinable
    public func byte(_ i: Int) -> UInt8 {
        i < 8 ? UInt8(truncatingIfNeeded: high >> (56 - 8 * i)) : UInt8(truncatingIfNeeded: low >> (56 - 8 * (i - 8)))
    }

    /// Writes the lower-case canonical text form.
    public func appendText(to out: inout [UInt8]) {
        let hex: StaticString = "0123456789abcdef"
        hex.withUTF8Buffer { digits in
            for i in 0..<16 {
                if i == 4 || i == 6 || i == 8 || i == 10 { out.append(UInt8(ascii: "-")) }
                let b = byte(i)
                out.append(digits[Int(b >> 4)])
                out.append(digits[Int(b & 15)])
            }
        }
    }

    public var description: String {
        var out = [UInt8]()
        out.reserveCapacity(36)
        appendText(to: &out)
        return String(decoding: out, as: UTF8.self)
    }

    public static func < (a: UUID128, b: UUID128) -> Bool { (a.high, a.low) < (b.high, b.low) }

    /// A random version-4 identifier.
    public static func random<G: RandomNumberGenerator>(using g: inout G) -> UUID128 {
        let h = g.next() & ~0xF000 | 0x4000
        let l = g.next() & ~(UInt64(0xC) << 60) | (UInt64(0x8) << 60)
        return UUID128(high: h, low: l)
    }
}

/// An event's client-chosen id: the idempotency key.
public typealias EventID = UUID128
/// A person's id within a tenant.
public typealias UserID = UUID128
