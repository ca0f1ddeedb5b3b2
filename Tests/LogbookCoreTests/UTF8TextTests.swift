import Testing
@testable import LogbookCore

/// `String(wellFormedUTF8:)`, which the codec and the validator's fast path use to refuse
/// ill-formed text instead of repairing it.
@Suite("UTF-8 text")
struct UTF8TextTests {
    static let wellFormed: [[UInt8]] = [
        [], Array("plain ASCII, longer than eight bytes".utf8), Array("é".utf8), Array("日本語 — 🙂".utf8),
        [0xEF, 0xBF, 0xBD],  // U+FFFD itself
        [0xF4, 0x8F, 0xBF, 0xBF],  // U+10FFFF
    ]
    static let illFormed: [[UInt8]] = [
        [0x80], [0xC3], [0xC0, 0x80], [0xE0, 0x80, 0x80], [0xED, 0xA0, 0x80], [0xF4, 0x90, 0x80, 0x80], [0xFF],
        Array("valid start ".utf8) + [0xE2, 0x82], [0x61, 0xBF, 0xBD, 0x62],
    ]

    @Test("well-formed text is kept byte for byte")
    func accepts() {
        for bytes in Self.wellFormed {
            let text = bytes.withUnsafeBytes { String(wellFormedUTF8: $0) }
            #expect(text.map { Array($0.utf8) } == bytes)
        }
    }

    @Test("ill-formed text is refused, not repaired")
    func refuses() {
        for bytes in Self.illFormed {
            #expect(bytes.withUnsafeBytes { String(wellFormedUTF8: $0) } == nil, "\(bytes)")
        }
    }
}
