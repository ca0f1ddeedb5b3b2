import CLogbookZstd
import Testing

@testable import LogbookZstd

/// The frames the log stores: content size and checksum in every frame, the dictionary left to
/// the block header — and corruption anywhere in a frame is an error, never wrong bytes.
@Suite("zstd frames")
struct ZstdFrameTests {
    /// Repetitive text like an activity block's, so that a dictionary has something to learn.
    static func sample(_ i: Int) -> [UInt8] {
        Array("app=Code title=\(i % 7).swift — logbook user=\(i % 13) project=\(i % 5)\n".utf8)
    }

    static func compress(_ source: [UInt8], dictionary: ZstdDictionary?) throws -> [UInt8] {
        var compressor = ZstdCompressor(level: 3)
        var frame: [UInt8] = []
        try source.withUnsafeBytes { try compressor.compress($0, dictionary: dictionary, appendingTo: &frame) }
        return frame
    }

    static func decompress(_ frame: [UInt8], dictionary: ZstdDictionary?) throws -> [UInt8] {
        var decompressor = ZstdDecompressor()
        var out: [UInt8] = []
        try frame.withUnsafeBytes {
            try decompressor.decompress($0, dictionary: dictionary, maxSize: 1 << 20, into: &out)
        }
        return out
    }

    /// Raw content, as Logbook makes its dictionaries.
    static func dictionary() throws -> ZstdDictionary {
        try ZstdDictionary(bytes: (0..<60).flatMap { sample($0 * 31 + 7) }, level: 3, id: 7)
    }

    /// A dictionary in zstd's trained format (magic number, id, entropy tables), as stores
    /// written before 2026-11-26 hold.
    static func trainedDictionary() throws -> ZstdDictionary {
        var buffer: [UInt8] = []
        var sizes: [Int] = []
        for i in 0..<4000 {
            let s = sample(i * 31 + 7)
            buffer += s
            sizes.append(s.count)
        }
        var bytes = [UInt8](repeating: 0, count: 4096)
        let n = bytes.withUnsafeMutableBytes { d in
            buffer.withUnsafeBytes { b in
                ZDICT_trainFromBuffer(d.baseAddress, d.count, b.baseAddress, sizes, UInt32(sizes.count))
            }
        }
        #expect(ZDICT_isError(n) == 0)
        bytes.removeSubrange(n...)
        #expect(bytes.starts(with: ZstdDictionary.magic))
        let id = bytes.withUnsafeBytes { ZDICT_getDictID($0.baseAddress, $0.count) }
        return try ZstdDictionary(bytes: bytes, level: 3, id: id)
    }

    @Test("with and without a dictionary, a frame has a checksum and no dictionary id")
    func frameHeader() throws {
        let source = (0..<500).flatMap(ZstdFrameTests.sample)
        for dict in [nil, try ZstdFrameTests.dictionary(), try ZstdFrameTests.trainedDictionary()] {
            let frame = try ZstdFrameTests.compress(source, dictionary: dict)
            #expect(frame.prefix(4) == [0x28, 0xB5, 0x2F, 0xFD])
            let descriptor = frame[4]
            #expect(descriptor & 0x04 != 0, "Content_Checksum_flag")
            #expect(descriptor & 0x03 == 0, "Dictionary_ID_flag")
            #expect(frame.withUnsafeBytes { ZstdDecompressor.dictionaryID(of: $0) } == 0)
            #expect(try ZstdFrameTests.decompress(frame, dictionary: dict) == source)
        }
    }

    @Test("a changed checksum, body byte or dictionary is refused")
    func corruptionIsRefused() throws {
        let source = (0..<500).flatMap(ZstdFrameTests.sample)
        let dictionary = try ZstdFrameTests.dictionary()
        let frame = try ZstdFrameTests.compress(source, dictionary: dictionary)
        var checksum = frame
        checksum[checksum.count - 1] ^= 0x01
        #expect(throws: ZstdError.self) { try ZstdFrameTests.decompress(checksum, dictionary: dictionary) }
        // Without its dictionary the frame cannot decode to the right bytes; the checksum says so.
        #expect(throws: ZstdError.self) { try ZstdFrameTests.decompress(frame, dictionary: nil) }
        // Every single-byte change is refused, or decodes to the very same bytes (a bit zstd does
        // not use); never to other bytes.
        for i in stride(from: 0, to: frame.count, by: max(1, frame.count / 64)) {
            var changed = frame
            changed[i] ^= 0x20
            let out = try? ZstdFrameTests.decompress(changed, dictionary: dictionary)
            #expect(out == nil || out == source, "byte \(i)")
        }
    }

    @Test("frames written before the checksum (dictionary id, no checksum) still decode")
    func olderFramesDecode() throws {
        let source = (0..<500).flatMap(ZstdFrameTests.sample)
        // What the log wrote until 2026-11-26: the one-shot call, whose frame names the
        // dictionary (one zstd trained then) and has no checksum.
        let dictionary = try ZstdFrameTests.trainedDictionary()
        let cctx = ZSTD_createCCtx()!
        defer { ZSTD_freeCCtx(cctx) }
        var frame = [UInt8](repeating: 0, count: ZSTD_compressBound(source.count))
        let n = frame.withUnsafeMutableBytes { out in
            source.withUnsafeBytes { src in
                ZSTD_compress_usingCDict(cctx, out.baseAddress, out.count, src.baseAddress, src.count, dictionary.cdict)
            }
        }
        #expect(ZSTD_isError(n) == 0)
        frame.removeSubrange(n...)
        #expect(frame[4] & 0x04 == 0 && frame[4] & 0x03 != 0)
        #expect(frame.withUnsafeBytes { ZstdDecompressor.dictionaryID(of: $0) } == dictionary.id)
        #expect(try ZstdFrameTests.decompress(frame, dictionary: dictionary) == source)
    }
}
