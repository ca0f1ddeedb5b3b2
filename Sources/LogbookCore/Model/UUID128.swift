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
        guard bytes.count == 36 else { return nil }
        var high: UInt64 = 0
        var low: UInt64 = 0
        var digits = 0
        for i in 0..<36 {
            let c = bytes[i]
            if i == 8 || i == 13 || i == 18 || i == 23 {
                guard c == UInt8(ascii: "-") else { return nil }
                continue
            }
            let v: UInt8
            switch c {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): v = c &- UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): v = c &- UInt8(ascii: "a") &+ 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): v = c &- UInt8(ascii: "A") &+ 10
            default: return nil
            }
            if digits < 16 { high = high << 4 | UInt64(v) } else { low = low << 4 | UInt64(v) }
            digits += 1
        }
        self.high = high
        self.low = low
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
