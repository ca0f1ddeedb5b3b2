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
}
