internal import CLogbookZstd

/// An error reported by zstd. The message names zstd's error, never the data.
public struct ZstdError: Error, Sendable, Hashable, CustomStringConvertible {
    public var operation: String
    public var reason: String
    public var description: String { "zstd \(operation) failed: \(reason)" }
}

@inline(__always)
func checked(_ rc: Int, _ operation: @autoclosure () -> String) throws(ZstdError) -> Int {
    if ZSTD_isError(rc) != 0 {
        throw ZstdError(operation: operation(), reason: String(cString: ZSTD_getErrorName(rc)))
    }
    return rc
}

/// A dictionary, prepared once for compression at one level and for decompression.
///
/// Either raw content (what Logbook builds: strings the data is likely to repeat, nearest the
/// end the likeliest) or, in stores written before 2026-11-26, a dictionary zstd trained,
/// which starts with zstd's dictionary magic number and carries entropy tables.
///
/// `@unchecked Sendable`: zstd.h says a `ZSTD_CDict`/`ZSTD_DDict` "can be shared by multiple
/// threads concurrently" once created; neither is mutated after `init`.
public final class ZstdDictionary: @unchecked Sendable {
    let cdict: OpaquePointer
    let ddict: OpaquePointer
    /// The dictionary's content, as stored.
    public let bytes: [UInt8]
    /// The id its user keeps it under (zstd's own id for a trained dictionary; raw content has
    /// none).
    public let id: UInt32

    /// zstd's dictionary magic number, little-endian: content starting with it is read as a
    /// trained dictionary, anything else as raw content.
    public static let magic: [UInt8] = [0x37, 0xA4, 0x30, 0xEC]

    /// Prepares `bytes` for `level`.
    public init(bytes: [UInt8], level: Int32, id: UInt32) throws(ZstdError) {
        guard
            let c = bytes.withUnsafeBytes({ ZSTD_createCDict($0.baseAddress, $0.count, level) }),
            let d = bytes.withUnsafeBytes({ ZSTD_createDDict($0.baseAddress, $0.count) })
        else { throw ZstdError(operation: "createDict", reason: "out of memory or invalid dictionary") }
        cdict = c
        ddict = d
        self.bytes = bytes
        self.id = id
    }

    deinit {
        ZSTD_freeCDict(cdict)
        ZSTD_freeDDict(ddict)
    }
}

/// A compression context: single-owner, reused across calls to avoid re-allocating its tables.
public struct ZstdCompressor: ~Copyable {
    let cctx: OpaquePointer
    /// Compression level used without a dictionary (a dictionary carries its own).
    public let level: Int32

    public init(level: Int32 = 3) {
        cctx = ZSTD_createCCtx()!
        self.level = level
        // For frames without a dictionary (`ZSTD_compress2`; the one-shot functions would ignore
        // these). Frames with one get the same frame parameters from the shim. No dictionary id
        // in the frame: the block header names the dictionary, and the checksum catches a frame
        // decoded with the wrong one.
        _ = ZSTD_CCtx_setParameter(cctx, ZSTD_c_compressionLevel, level)
        _ = ZSTD_CCtx_setParameter(cctx, ZSTD_c_checksumFlag, 1)
        _ = ZSTD_CCtx_setParameter(cctx, ZSTD_c_dictIDFlag, 0)
    }

    deinit { ZSTD_freeCCtx(cctx) }

    /// The most bytes a frame of `count` bytes of content takes.
    public static func bound(_ count: Int) -> Int { ZSTD_compressBound(count) }

    /// Compresses `source` and appends the frame to `output`. The frame records its content size
    /// and a checksum of it, so a decompressor detects truncation and corruption.
    public mutating func compress(
        _ source: UnsafeRawBufferPointer, dictionary: ZstdDictionary?, appendingTo output: inout [UInt8]
    ) throws {
        let bound = ZstdCompressor.bound(source.count)
        let start = output.count
        output.append(contentsOf: repeatElement(0, count: bound))
        let written = try output.withUnsafeMutableBytes { out in
            try compress(source, dictionary: dictionary, into: UnsafeMutableRawBufferPointer(rebasing: out[start...]))
        }
        output.removeSubrange((start + written)...)
    }

    /// Compresses `source` into `destination`, which has room for `bound(source.count)` bytes;
    /// returns the frame's size. As `compress(_:dictionary:appendingTo:)`.
    public mutating func compress(
        _ source: UnsafeRawBufferPointer, dictionary: ZstdDictionary?, into destination: UnsafeMutableRawBufferPointer
    ) throws -> Int {
        let bound = ZstdCompressor.bound(source.count)
        precondition(destination.count >= bound, "room for the frame's worst case")
        let dst = destination.baseAddress!
        if let dictionary {
            return try checked(
                clogbook_zstd_compress_dict(cctx, dst, bound, source.baseAddress, source.count, dictionary.cdict),
                "compress")
        }
        return try checked(ZSTD_compress2(cctx, dst, bound, source.baseAddress, source.count), "compress")
    }
}

/// A decompression context with a hard limit on output size, for frames read from disk.
public struct ZstdDecompressor: ~Copyable {
    let dctx: OpaquePointer

    public init() { dctx = ZSTD_createDCtx()! }
    deinit { ZSTD_freeDCtx(dctx) }

    /// Decompresses one frame into `output` (replacing its content), after a copy of `prefix`.
    ///
    /// - Throws: `ZstdError` when the frame is corrupt, truncated, fails its checksum, needs
    ///   another dictionary, or would exceed `maxSize` bytes.
    public mutating func decompress(
        _ frame: UnsafeRawBufferPointer, dictionary: ZstdDictionary?, maxSize: Int, into output: inout [UInt8],
        after prefix: UnsafeRawBufferPointer = UnsafeRawBufferPointer(start: nil, count: 0)
    ) throws {
        let size = ZSTD_getFrameContentSize(frame.baseAddress, frame.count)
        guard clogbook_zstd_content_size_known(size) != 0 else {
            throw ZstdError(operation: "decompress", reason: "frame without a valid content size")
        }
        guard size <= UInt64(maxSize) else {
            throw ZstdError(operation: "decompress", reason: "frame larger than the \(maxSize)-byte limit")
        }
        let count = Int(size)
        if output.count != prefix.count + count {
            output.removeAll(keepingCapacity: true)
            output.append(contentsOf: repeatElement(0, count: prefix.count + count))
        }
        let n = try output.withUnsafeMutableBytes { all -> Int in
            let out = UnsafeMutableRawBufferPointer(rebasing: all[prefix.count...])
            if prefix.count > 0 {
                UnsafeMutableRawBufferPointer(rebasing: all[..<prefix.count]).copyMemory(from: prefix)
            }
            if let dictionary {
                return try checked(
                    ZSTD_decompress_usingDDict(
                        dctx, out.baseAddress, count, frame.baseAddress, frame.count,
                        dictionary.ddict), "decompress")
            }
            return try checked(
                ZSTD_decompressDCtx(dctx, out.baseAddress, count, frame.baseAddress, frame.count),
                "decompress")
        }
        guard n == count else { throw ZstdError(operation: "decompress", reason: "content size mismatch") }
    }

    /// The dictionary id a frame names (0: none). Frames `ZstdCompressor` writes name none (the
    /// caller records the dictionary); older frames may.
    public static func dictionaryID(of frame: UnsafeRawBufferPointer) -> UInt32 {
        ZSTD_getDictID_fromFrame(frame.baseAddress, frame.count)
    }
}

@available(*, unavailable, message: "a zstd context belongs to one task at a time")
extension ZstdCompressor: Sendable {}
@available(*, unavailable, message: "a zstd context belongs to one task at a time")
extension ZstdDecompressor: Sendable {}
