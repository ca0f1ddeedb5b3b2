/// Strings recently decoded from a tenant's blocks, by a hash of their bytes.
///
/// A block's string table holds each of its strings once, but the same app names and window
/// titles recur from block to block (on the standard workload, four in ten of a block's
/// strings were in a recent block). Taking the earlier `String` costs a hash, a compare and a
/// retain; making one costs an allocation and a UTF-8 validation, which was the largest part
/// of decoding a block after decompression.
///
/// Direct-mapped and fixed in size: a slot holds the last string that hashed to it, so memory
/// stays bounded whatever the data. Empty until `enable()`: a reader of one block would pay
/// for the slots and gain nothing.
struct StringCache {
    static let slotCount = 8192  // a power of two
    private var hashes: [UInt64] = []
    private var texts: [String] = []

    var isEnabled: Bool { !texts.isEmpty }

    mutating func enable() {
        guard !isEnabled else { return }
        hashes = Array(repeating: 0, count: StringCache.slotCount)
        texts = Array(repeating: "", count: StringCache.slotCount)
    }

    /// The text of `bytes` (well-formed UTF-8, else nil), from the cache when it holds it.
    mutating func string(_ bytes: UnsafeRawBufferPointer) -> String? {
        guard isEnabled else { return String(wellFormedUTF8: bytes) }
        let h = TableStrings.hash(bytes)
        let slot = Int(truncatingIfNeeded: h) & (StringCache.slotCount - 1)
        if hashes[slot] == h, TableStrings.equal(texts[slot], bytes) { return texts[slot] }
        guard let s = String(wellFormedUTF8: bytes) else { return nil }
        hashes[slot] = h
        texts[slot] = s
        return s
    }
}
