import LogbookCrypto
import Testing

/// The chain's hasher against the FIPS 180-2 test vectors, one-shot and with a reused context;
/// the in-place padding and the tree root against the one-shot hash.
@Suite("SHA-256")
struct SHA256Tests {
    static let vectors: [(String, String)] = [
        ("", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"),
        ("abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"),
        (
            "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
            "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"
        ),
    ]

    @Test("known answers, one-shot")
    func oneShot() {
        for (input, expected) in Self.vectors {
            let digest = Array(input.utf8).withUnsafeBytes { SHA256.hash($0) }
            #expect(digest.description == expected, "SHA-256(\"\(input)\")")
        }
    }

    @Test("a reused context hashes each message as the one-shot hash does")
    func reusedContext() {
        var sha = SHA256()
        for (input, expected) in Self.vectors + Self.vectors {
            let digest = Array(input.utf8).withUnsafeBytes { sha.hash($0) }
            #expect(digest.description == expected)
        }
    }

    @Test("hashing with the padding written in place equals the one-shot hash, at every length around the block edges")
    func paddedInPlace() {
        var state: UInt64 = 0x9E37_79B9_7F4A_7C15
        for count in 0...300 {
            var room = [UInt8](repeating: 0xEE, count: count + SHA256.paddingRoom)
            for i in 0..<count {
                state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
                room[i] = UInt8(truncatingIfNeeded: state >> 33)
            }
            let expected = room.withUnsafeBytes { SHA256.hash(UnsafeRawBufferPointer(rebasing: $0[..<count])) }
            let padded = room.withUnsafeMutableBytes { SHA256.hash(padding: $0.baseAddress!, count: count) }
            #expect(padded == expected, "\(count) bytes")
        }
    }

    @Test(
        "a tree root equals hashing the prefix and each group of up to `arity` nodes level by level",
        arguments: [2, 3, 8, 16])
    func treeRoot(arity: Int) {
        let prefix: UInt8 = 1
        let digests = (0..<300).map { i in
            [UInt8(truncatingIfNeeded: i), UInt8(i >> 8)].withUnsafeBytes { SHA256.hash($0) }
        }
        for n in Array(1...70) + [255, 256, 257, 300] {
            #expect(
                Self.modelRoot(Array(digests[..<n]), arity: arity, prefix: prefix)
                    == {
                        var nodes = Array(digests[..<n])
                        return SHA256.treeRoot(&nodes, arity: arity, prefix: prefix)
                    }(), "\(n) digests")
        }
    }

    /// The tree root, one node at a time through the one-shot hash of its bytes.
    static func modelRoot(_ leaves: [Digest], arity: Int, prefix: UInt8) -> Digest {
        var level = leaves
        while level.count > 1 {
            level = stride(from: 0, to: level.count, by: arity).map { start in
                let group = level[start..<min(start + arity, level.count)]
                guard group.count > 1 else { return group.first! }
                var bytes: [UInt8] = [prefix]
                for d in group { d.withUnsafeBytes { bytes += $0 } }
                return bytes.withUnsafeBytes { SHA256.hash($0) }
            }
        }
        return level[0]
    }
}
