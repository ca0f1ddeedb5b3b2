import Foundation
import Testing
@testable import LogbookCore
import LogbookTestSupport

/// How blocks are stored (specs/storage.md, "Block body"): the id column as it is, the rest
/// of the body as a zstd frame — and blocks of the earlier format, one frame for the whole
/// body, still read and verify next to them.
@Suite("Block format")
struct BlockFormatTests {
    let tenant = TenantID("format")!

    /// The stored bytes of every block, in order.
    func storedBlocks(_ store: LogStore) throws -> [[UInt8]] {
        let log = try store.acquire(tenant, create: false)
        defer { store.release(tenant) }
        return try log.env.read { txn in
            try txn.withCursor(log.log) { cursor in
                var blocks: [[UInt8]] = []
                var entry = try cursor.first()
                while let e = entry {
                    blocks.append(Array(e.value))
                    entry = try cursor.next()
                }
                return blocks
            }
        }
    }

    func readAll(_ store: LogStore) throws -> [Event] {
        var read: [Event] = []
        try store.read(tenant) {
            read.append($0)
            return true
        }
        return read
    }

    @Test("a new block stores its event count and ids as they are, then one zstd frame")
    func idsBeforeTheFrame() async throws {
        let dir = TemporaryDirectory()
        let store = try LogStore(directory: dir.path, options: testOptions())
        defer { store.close() }
        var g = SeededGenerator(seed: 21)
        let events = (0..<70).map { _ in EventFactory.window(&g) }
        _ = try await store.append(events, to: tenant)
        let blocks = try storedBlocks(store)
        try #require(blocks.count == 1)
        let header = try blocks[0].withUnsafeBytes { try BlockHeader(decoding: $0) }
        #expect(header.codec == .zstdAfterIDs)
        var expected: [UInt8] = [70]  // the count as a varint
        for e in events { expected += e.id.bytes }
        let body = blocks[0][BlockHeader.size...]
        #expect(Array(body.prefix(expected.count)) == expected)
        #expect(Array(body.dropFirst(expected.count).prefix(4)) == [0x28, 0xB5, 0x2F, 0xFD], "zstd magic")
        #expect(Int(header.bodySize) == body.count)
        #expect(try readAll(store).map(\.id) == events.map(\.id))
    }

    @Test("blocks of the earlier format (the whole body in one frame) read and verify beside new ones")
    func earlierFormatStillReads() async throws {
        let dir = TemporaryDirectory()
        var options = testOptions()
        options.blockCodec = .zstd
        var g = SeededGenerator(seed: 22)
        // Past the dictionary threshold (500 in tests), so that both formats meet a dictionary.
        let first = (0..<650).map { _ in EventFactory.window(&g) }
        let second = (0..<650).map { _ in EventFactory.window(&g) }
        do {
            let old = try LogStore(directory: dir.path, options: options)
            for part in stride(from: 0, to: first.count, by: 130) {
                _ = try await old.append(Array(first[part..<(part + 130)]), to: tenant)
            }
            old.close()
        }
        let store = try LogStore(directory: dir.path, options: testOptions())
        defer { store.close() }
        for part in stride(from: 0, to: second.count, by: 130) {
            _ = try await store.append(Array(second[part..<(part + 130)]), to: tenant)
        }
        let codecs = try storedBlocks(store).map { b in try b.withUnsafeBytes { try BlockHeader(decoding: $0).codec } }
        #expect(codecs.contains(.zstd) && codecs.contains(.zstdAfterIDs))
        #expect(codecs.firstIndex(of: .zstdAfterIDs)! > codecs.lastIndex(of: .zstd)!)
        let read = try readAll(store)
        #expect(read.map(\.id) == (first + second).map(\.id))
        #expect(read.map(\.data) == (first + second).map(\.data))
        let report = try store.verify(tenant)
        #expect(report.ok)
        #expect(report.events == 1300)
    }

    @Test("a new block's Merkle root is eight-way over its event hashes; format 1 blocks (binary) verify beside them")
    func merkleTreeFormats() async throws {
        let dir = TemporaryDirectory()
        var options = testOptions()
        options.blockFormatVersion = 1
        var g = SeededGenerator(seed: 23)
        let events = (0..<400).map { _ in EventFactory.window(&g) }
        do {
            let old = try LogStore(directory: dir.path, options: options)
            _ = try await old.append(Array(events[..<200]), to: tenant)
            old.close()
        }
        let store = try LogStore(directory: dir.path, options: testOptions())
        defer { store.close() }
        _ = try await store.append(Array(events[200...]), to: tenant)
        let blocks = try storedBlocks(store)
        let headers = try blocks.map { b in try b.withUnsafeBytes { try BlockHeader(decoding: $0) } }
        let versions = headers.map(\.version)
        #expect(versions.first == 1 && versions.last == 2 && versions == versions.sorted())
        // Each root, recomputed from the events read back with the tree of its format.
        let read = try readAll(store)
        let scratch = EncodingScratch()
        let leaves = read.map { ChainHash.event($0, scratch: scratch) }
        for h in headers {
            let first = Int(h.firstSequence) - 1
            let expected = SHA256Tests.modelRoot(
                Array(leaves[first..<(first + Int(h.count))]), arity: h.version == 1 ? 2 : 8, prefix: 1)
            #expect(h.eventsRoot == expected, "block \(h.firstSequence), format \(h.version)")
        }
        #expect(try store.verify(tenant).ok)
    }
}
