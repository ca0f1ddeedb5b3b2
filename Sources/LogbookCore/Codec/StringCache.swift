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

    /// Makes `slots` slots (a power of two); a reader of many blocks wants the default, a
    /// live projection turn (a few hundred events) a small one.
    mutating func enable(slots: Int = StringCache.slotCount) {
        guard !isEnabled else { return }
        precondition(slots > 0 && slots & (slots - 1) == 0, "a power of two")
        hashes = Array(repeating: 0, count: slots)
        texts = Array(repeating: "", count: slots)
    }

    /// The text of `bytes` (well-formed UTF-8, else nil), from the cache when it holds it.
    mutating func string(_ bytes: UnsafeRawBufferPointer) -> String? {
        guard isEnabled else { return String(wellFormedUTF8: bytes) }
        let h = TableStrings.hash(bytes)
        let slot = Int(truncatingIfNeeded: h) & (texts.count - 1)
        if hashes[slot] == h, TableStrings.equal(texts[slot], bytes) { return texts[slot] }
        guard let s = String(wellFormedUTF8: bytes) else { return nil }
        hashes[slot] = h
        texts[slot] = s
        return s
    }
}

/// Strings inline in canonical bytes (`EventCodec`), taken from a `StringCache` when it
/// holds them: decoding a run of events whose app names and titles repeat.
struct CachedInlineStrings: StringCoding {
    var cache = StringCache()

    mutating func decode(_ r: inout ByteReader) throws(CodecError) -> String {
        let raw = try r.bytes(try r.count())
        guard let s = cache.string(raw) else { throw r.fail(.invalidText) }
        return s
    }
}
