import Foundation

extension String {
    /// The text of `bytes` when they are well-formed UTF-8, else nil.
    ///
    /// `String(validating:as:)` is generic and, called from here, runs unspecialised: it looked
    /// up type metadata on every call, a tenth of a replay's time. `String(decoding:as:)` on a
    /// byte buffer is specialised and fast; it repairs ill-formed input, and a repair always
    /// changes the bytes, which the comparison with the input detects.
    init?(wellFormedUTF8 bytes: UnsafeRawBufferPointer) {
        var text = String(decoding: bytes, as: UTF8.self)
        let same = text.withUTF8 { utf8 in
            utf8.count == bytes.count
                && (bytes.isEmpty || memcmp(utf8.baseAddress!, bytes.baseAddress!, bytes.count) == 0)
        }
        guard same else { return nil }
        self = text
    }

    /// `body` with the string's UTF-8 bytes: a native string's in place. `withUTF8` is
    /// mutating, so calling it on a value means a copy first — a retain and a release, which
    /// showed when encoding every string of every event.
    @inline(__always)
    func withUTF8Bytes<R>(_ body: (UnsafeBufferPointer<UInt8>) -> R) -> R {
        if let r = utf8.withContiguousStorageIfAvailable(body) { return r }
        var s = self
        return s.withUTF8(body)
    }
}
