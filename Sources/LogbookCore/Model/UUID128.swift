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
        // Table lookups instead of range checks: ids are parsed three times per ingested line.
        var high: UInt64 = 0
        var low: UInt64 = 0
        var bad: UInt8 = 0
        UUID128.hexValues.withUnsafeBufferPointer { table in
            for i in [0, 2, 4, 6, 9, 11, 14, 16] {
                let hi = table[Int(bytes[i])], lo = table[Int(bytes[i + 1])]
                bad |= hi | lo
                high = high << 8 | UInt64(hi << 4 | lo & 0x0F)
            }
            for i in [19, 21, 24, 26, 28, 30, 32, 34] {
                let hi = table[Int(bytes[i])], lo = table[Int(bytes[i + 1])]
                bad |= hi | lo
                low = low << 8 | UInt64(hi << 4 | lo & 0x0F)
            }
        }
        guard bad & 0x80 == 0 else { return nil }
        self.high = high
        self.low = low
    }

    /// Hex digit values; 0x80 marks a byte that is not a hex digit.
    private static let hexValues: [UInt8] = (0...255).map { (c: Int) -> UInt8 in
        switch c {
        case 48...57: UInt8(c - 48)
        case 97...102: UInt8(c - 87)
        case 65...70: UInt8(c - 55)
        default: 0x80
        }
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
