import Foundation

extension String {
    /// The text of `bytes` when they are well-formed UTF-8, else nil.
    ///
    /// `String(validating:as:)` is generic and, called from here, runs unspecialised: it looked
    /// up type metadata on every call, a tenth of a replay's time. `String(decoding:as:)` on a
    /// byte buffer is specialised and fast; it repairs ill-formed input, which the comparison
    /// with the input detects (a repair always changes the bytes).
    init?(wellFormedUTF8 bytes: UnsafeRawBufferPointer) {
        let text = String(decoding: bytes, as: UTF8.self)
        if !UTF8Text.isASCII(bytes) {
            var copy = text
            let same = copy.withUTF8 { utf8 in
                utf8.count == bytes.count
                    && (bytes.isEmpty || memcmp(utf8.baseAddress!, bytes.baseAddress!, bytes.count) == 0)
            }
            guard same else { return nil }
        }
        self = text
    }
}

enum UTF8Text {
    /// Whether every byte is below 0x80, eight at a time.
    static func isASCII(_ bytes: UnsafeRawBufferPointer) -> Bool {
        var i = 0
        var high: UInt64 = 0
        while i + 8 <= bytes.count {
            high |= bytes.loadUnaligned(fromByteOffset: i, as: UInt64.self)
            i += 8
        }
        while i < bytes.count {
            high |= UInt64(bytes[i])
            i += 1
        }
        return high & 0x8080_8080_8080_8080 == 0
    }
}
