public import LogbookCrypto

/// The fixed 160-byte header in front of every stored block (specs/storage.md).
///
/// The header alone is enough to walk and verify the chain: it commits to the previous block's
/// hash and to the Merkle root of the block's event hashes, so a body can later be pruned or an
/// event redacted while the chain still verifies.
public struct BlockHeader: Sendable, Hashable {
    public static let size = 160
    /// The format new blocks are written in. Format 1 (blocks of builds before the evening of
    /// 2026-11-26) has a binary Merkle tree over the events, format 2 an eight-way one
    /// (`ChainHash.merkleArity`); both read and verify.
    public static let formatVersion: UInt8 = 2
    static let readableVersions: ClosedRange<UInt8> = 1...2

    public enum Codec: UInt8, Sendable {
        case none = 0
        /// The whole body as one zstd frame (blocks written before 2026-11-26).
        case zstd = 1
        /// The body's id column (its event count and 16 bytes per event) as it is, then the
        /// rest of the body as one zstd frame. Random ids do not compress: outside the frame
        /// they cost zstd neither time nor framing.
        case zstdAfterIDs = 2
    }

    public var version: UInt8 = formatVersion
    public var codec: Codec
    public var flags: UInt8 = 0
    public var count: UInt32
    public var firstSequence: UInt64
    public var minOccurred: Timestamp
    public var maxOccurred: Timestamp
    public var minRecorded: Timestamp
    public var maxRecorded: Timestamp
    /// The zstd dictionary the body was compressed with; 0 for none.
    public var dictionaryID: UInt32
    /// The encryption key id; 0 until encryption at rest exists.
    public var keyID: UInt32 = 0
    /// Body size before and after compression.
    public var rawSize: UInt32
    public var bodySize: UInt32
    public var previousHash: Digest
    /// Merkle root over the hashes of the block's events (`EventHash`).
    public var eventsRoot: Digest
    /// SHA-256 over the header's first 128 bytes, domain-separated.
    public var blockHash: Digest

    /// The sequence of the block's last event.
    public var lastSequence: UInt64 { firstSequence + UInt64(count) - 1 }

    func encodeUnhashed(into w: inout ByteWriter) {
        w.u8(version)
        w.u8(codec.rawValue)
        w.u8(flags)
        w.u8(0)
        w.u32(count)
        w.u64(firstSequence)
        w.u64(UInt64(bitPattern: minOccurred.microseconds))
        w.u64(UInt64(bitPattern: maxOccurred.microseconds))
        w.u64(UInt64(bitPattern: minRecorded.microseconds))
        w.u64(UInt64(bitPattern: maxRecorded.microseconds))
        w.u32(dictionaryID)
        w.u32(keyID)
        w.u32(rawSize)
        w.u32(bodySize)
        previousHash.withUnsafeBytes { w.raw($0) }
        eventsRoot.withUnsafeBytes { w.raw($0) }
    }

    /// The hash this header should carry, computed from its other fields.
    public func computeHash(_ sha: inout SHA256) -> Digest {
        var w = ByteWriter(capacity: BlockHeader.size)
        w.u8(ChainHash.blockPrefix)
        encodeUnhashed(into: &w)
        return w.bytes.withUnsafeBytes { sha.hash($0) }
    }

    func encode(into w: inout ByteWriter) {
        encodeUnhashed(into: &w)
        blockHash.withUnsafeBytes { w.raw($0) }
    }

    /// Reads a header from the front of a stored block.
    public init(decoding bytes: UnsafeRawBufferPointer) throws(CodecError) {
        var r = ByteReader(bytes)
        version = try r.u8()
        guard BlockHeader.readableVersions.contains(version) else { throw CodecError(code: .unknownVersion, offset: 0) }
        guard let c = Codec(rawValue: try r.u8()) else { throw CodecError(code: .unknownTag, offset: 1) }
        codec = c
        flags = try r.u8()
        _ = try r.u8()
        count = try r.u32()
        firstSequence = try r.u64()
        minOccurred = Timestamp(microseconds: Int64(bitPattern: try r.u64()))
        maxOccurred = Timestamp(microseconds: Int64(bitPattern: try r.u64()))
        minRecorded = Timestamp(microseconds: Int64(bitPattern: try r.u64()))
        maxRecorded = Timestamp(microseconds: Int64(bitPattern: try r.u64()))
        dictionaryID = try r.u32()
        keyID = try r.u32()
        rawSize = try r.u32()
        bodySize = try r.u32()
        previousHash = Digest(bytes: try r.bytes(32))!
        eventsRoot = Digest(bytes: try r.bytes(32))!
        blockHash = Digest(bytes: try r.bytes(32))!
        guard count > 0, UInt64(count) <= UInt64.max - firstSequence else {
            throw CodecError(code: .outOfRange, offset: 4)
        }
    }

    init(
        codec: Codec, count: UInt32, firstSequence: UInt64, minOccurred: Timestamp, maxOccurred: Timestamp,
        minRecorded: Timestamp, maxRecorded: Timestamp, dictionaryID: UInt32, rawSize: UInt32, bodySize: UInt32,
        previousHash: Digest, eventsRoot: Digest
    ) {
        self.codec = codec
        self.count = count
        self.firstSequence = firstSequence
        self.minOccurred = minOccurred
        self.maxOccurred = maxOccurred
        self.minRecorded = minRecorded
        self.maxRecorded = maxRecorded
        self.dictionaryID = dictionaryID
        self.rawSize = rawSize
        self.bodySize = bodySize
        self.previousHash = previousHash
        self.eventsRoot = eventsRoot
        self.blockHash = .zero
    }
}

/// The hashes that make the log verifiable (specs/storage.md, "Hashes").
public enum ChainHash {
    static let leafPrefix: UInt8 = 0
    static let nodePrefix: UInt8 = 1
    static let blockPrefix: UInt8 = 2

    /// An event's hash: SHA-256 over 0x00 and its canonical encoding (`EventCodec`).
    ///
    /// Encodes into `scratch` through a cursor, without closures: a closure capturing the
    /// event copied it (a retain and release of its strings and payload per event). The hash
    /// pads the encoding in place, behind it in the same room.
    @inline(__always)  // lets the caller read the event's fields in place instead of copying it
    static func event(_ e: borrowing Event, scratch: EncodingScratch) -> Digest {
        let bound = 1 + EventCodec.bound(of: e)
        let at = scratch.room(bound + SHA256.paddingRoom)
        var c = ByteCursor(base: at, limit: bound)
        c.u8(leafPrefix)
        EventCodec.encode(e, into: &c)
        return SHA256.hash(padding: at, count: c.count)
    }

    /// The same hash of event `i` of `batch`, whose canonical tail is `tail`.
    @inline(__always)
    static func event(
        _ batch: borrowing EncodedEvents, _ i: Int, tail: UnsafeRawBufferPointer, sequence: UInt64,
        recordedAt: Timestamp, scratch: EncodingScratch
    ) -> Digest {
        let bound = 1 + EventCodec.headBound + tail.count
        let at = scratch.room(bound + SHA256.paddingRoom)
        var c = ByteCursor(base: at, limit: bound)
        c.u8(leafPrefix)
        EventCodec.encodeHead(
            type: batch.types[i], id: batch.ids[i], sequence: sequence, occurred: batch.occurred[i],
            recorded: recordedAt.microseconds, into: &c)
        c.raw(tail)
        return SHA256.hash(padding: at, count: c.count)
    }

    /// How many children a Merkle node has in blocks of header format `version`: two in format
    /// 1, eight since format 2. A node of eight hashes 257 bytes in five SHA-256 blocks where
    /// the seven binary nodes above the same eight leaves take fourteen (two each: 65 bytes
    /// and the padding do not fit one): the binary tree cost about as much as the events' own
    /// hashes (specs/storage.md, "Hashes"). An event's inclusion proof is then, per level, the
    /// other members of its group: up to seven.
    static func merkleArity(version: UInt8) -> Int { version == 1 ? 2 : 8 }

    /// The Merkle root of `leaves` in a block of header format `version`: each group of up to
    /// `merkleArity` nodes of a level hashed with a 0x01 prefix, a last group of one carried up.
    public static func merkleRoot(_ leaves: consuming [Digest], version: UInt8) -> Digest {
        precondition(!leaves.isEmpty, "a block has at least one event")
        return SHA256.treeRoot(&leaves, arity: merkleArity(version: version), prefix: nodePrefix)
    }

    /// The `previousHash` of a tenant's first block: binds the chain to the tenant's name.
    public static func genesis(_ tenant: TenantID) -> Digest {
        let bytes = Array("logbook/v1/genesis/\(tenant.rawValue)".utf8)
        return bytes.withUnsafeBytes { SHA256.hash($0) }
    }
}
