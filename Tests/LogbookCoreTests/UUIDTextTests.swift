import LogbookTestSupport
import Testing

@testable import LogbookCore

/// `UUID128(utf8:)` against a digit-at-a-time model: every byte value at every position, and
/// random ids in both cases.
@Suite("UUID text")
struct UUIDTextTests {
    /// The model: 36 bytes, dashes at 8, 13, 18 and 23, hex digits (either case) elsewhere.
    static func model(_ bytes: [UInt8]) -> UUID128? {
        guard bytes.count == 36 else { return nil }
        var digits: [UInt64] = []
        for (i, b) in bytes.enumerated() {
            if [8, 13, 18, 23].contains(i) {
                guard b == UInt8(ascii: "-") else { return nil }
                continue
            }
            switch b {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): digits.append(UInt64(b - UInt8(ascii: "0")))
            case UInt8(ascii: "a")...UInt8(ascii: "f"): digits.append(UInt64(b - UInt8(ascii: "a") + 10))
            case UInt8(ascii: "A")...UInt8(ascii: "F"): digits.append(UInt64(b - UInt8(ascii: "A") + 10))
            default: return nil
            }
        }
        return UUID128(
            high: digits[..<16].reduce(0) { $0 << 4 | $1 }, low: digits[16...].reduce(0) { $0 << 4 | $1 })
    }

    static func parse(_ bytes: [UInt8]) -> UUID128? { bytes.withUnsafeBytes { UUID128(utf8: $0) } }

    @Test("random ids in lower and upper case read as the model reads them and print back")
    func randomIDs() {
        var g = SeededGenerator(seed: 5)
        for i in 0..<2_000 {
            let id = UUID128.random(using: &g)
            var text = Array(id.description.utf8)
            if i % 2 == 1 { text = Array(id.description.uppercased().utf8) }
            #expect(Self.parse(text) == id)
            #expect(Self.model(text) == id)
        }
    }

    @Test("every byte value at every position is accepted exactly when the model accepts it")
    func everyByteEverywhere() {
        let base = Array("0123abcd-ef45-6789-ABCD-ef0123456789".utf8)
        var mismatches = 0
        for position in 0..<36 {
            for value in 0...255 {
                var text = base
                text[position] = UInt8(value)
                if Self.parse(text) != Self.model(text) { mismatches += 1 }
            }
        }
        #expect(mismatches == 0)
        #expect(Self.parse(Array(base.dropLast())) == nil)
        #expect(Self.parse(base + [UInt8(ascii: "0")]) == nil)
    }
}
