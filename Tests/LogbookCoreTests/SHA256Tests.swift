import LogbookCrypto
import Testing

/// The chain's hasher against the FIPS 180-2 test vectors, one-shot and in parts (the Merkle
/// nodes hash a prefix and two digests as three parts).
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

    @Test("a reused context hashes three parts as their concatenation")
    func parts() {
        var sha = SHA256()
        for (input, expected) in Self.vectors {
            let bytes = Array(input.utf8)
            // Split at every pair of points, including empty parts.
            for i in 0...bytes.count {
                for j in i...bytes.count {
                    let digest = bytes.withUnsafeBytes { all in
                        sha.hash(
                            UnsafeRawBufferPointer(rebasing: all[..<i]), UnsafeRawBufferPointer(rebasing: all[i..<j]),
                            UnsafeRawBufferPointer(rebasing: all[j...]))
                    }
                    #expect(digest.description == expected)
                }
            }
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

    @Test("the pairwise root equals hashing prefix, left and right level by level, for 1 to 70 digests")
    func pairwiseRoot() {
        var sha = SHA256()
        var prefix: UInt8 = 1
        let digests = (0..<70).map { i in [UInt8(i), UInt8(i >> 8)].withUnsafeBytes { SHA256.hash($0) } }
        for n in 1...70 {
            var level = Array(digests[..<n])
            while level.count > 1 {
                var next: [Digest] = []
                for i in stride(from: 0, to: level.count - 1, by: 2) {
                    next.append(
                        withUnsafeBytes(of: &prefix) { p in
                            level[i].withUnsafeBytes { l in level[i + 1].withUnsafeBytes { r in sha.hash(p, l, r) } }
                        })
                }
                if level.count % 2 == 1 { next.append(level[level.count - 1]) }
                level = next
            }
            var nodes = Array(digests[..<n])
            #expect(SHA256.pairwiseRoot(&nodes, prefix: prefix) == level[0], "\(n) digests")
        }
    }
}
