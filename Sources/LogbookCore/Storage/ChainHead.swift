public import LogbookCrypto

/// The tenant's running totals and the end of its chain, stored under `meta/head` and updated in
/// the same transaction as the blocks they describe.
public struct ChainHead: Sendable, Hashable {
    public var lastSequence: UInt64 = 0
    public var lastHash: Digest
    public var lastRecorded = Timestamp(microseconds: 0)
    public var blocks: UInt64 = 0
    /// Uncompressed body bytes of all blocks.
    public var rawBytes: UInt64 = 0
    /// Stored block bytes (headers and compressed bodies).
    public var logBytes: UInt64 = 0
    /// The dictionary new blocks are compressed with (0: none yet).
    public var dictionaryID: UInt32 = 0

    static let encodedSize = 76

    init(genesis: Digest) { lastHash = genesis }

    func encode() -> [UInt8] {
        var w = ByteWriter(capacity: ChainHead.encodedSize)
        w.u64(lastSequence)
        lastHash.withUnsafeBytes { w.raw($0) }
        w.u64(UInt64(bitPattern: lastRecorded.microseconds))
        w.u64(blocks)
        w.u64(rawBytes)
        w.u64(logBytes)
        w.u32(dictionaryID)
        return w.bytes
    }

    init(decoding bytes: UnsafeRawBufferPointer) throws(CodecError) {
        var r = ByteReader(bytes)
        lastSequence = try r.u64()
        lastHash = Digest(bytes: try r.bytes(32))!
        lastRecorded = Timestamp(microseconds: Int64(bitPattern: try r.u64()))
        blocks = try r.u64()
        rawBytes = try r.u64()
        logBytes = try r.u64()
        dictionaryID = try r.u32()
    }
}
