internal import CLogbookCrypto

/// A SHA-256 digest: 32 bytes, compared and hashed by value. Its stored form is its bytes in
/// order (`treeRoot` hashes an array of digests in place).
public struct Digest: Sendable, Hashable, CustomStringConvertible {
    public var a: UInt64, b: UInt64, c: UInt64, d: UInt64

    public static let zero = Digest(a: 0, b: 0, c: 0, d: 0)

    public init(a: UInt64, b: UInt64, c: UInt64, d: UInt64) {
        (self.a, self.b, self.c, self.d) = (a, b, c, d)
    }

    /// Reads 32 bytes; nil when `bytes` is shorter.
    public init?(bytes: UnsafeRawBufferPointer) {
        guard bytes.count >= 32 else { return nil }
        a = bytes.loadUnaligned(fromByteOffset: 0, as: UInt64.self)
        b = bytes.loadUnaligned(fromByteOffset: 8, as: UInt64.self)
        c = bytes.loadUnaligned(fromByteOffset: 16, as: UInt64.self)
        d = bytes.loadUnaligned(fromByteOffset: 24, as: UInt64.self)
    }

    /// Calls `body` with the digest's 32 bytes in order.
    public func withUnsafeBytes<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        var copy = (a, b, c, d)
        return try Swift.withUnsafeBytes(of: &copy, body)
    }

    /// The digest `write` puts into 32 bytes.
    static func written(_ write: (UnsafeMutablePointer<UInt8>) -> Void) -> Digest {
        var out = (UInt64(0), UInt64(0), UInt64(0), UInt64(0))
        withUnsafeMutableBytes(of: &out) { write($0.baseAddress!.assumingMemoryBound(to: UInt8.self)) }
        return Digest(a: out.0, b: out.1, c: out.2, d: out.3)
    }

    /// Lower-case hexadecimal.
    public var description: String {
        withUnsafeBytes { bytes in
            let digits = Array("0123456789abcdef".utf8)
            var out = [UInt8]()
            out.reserveCapacity(64)
            for byte in bytes {
                out.append(digits[Int(byte >> 4)])
                out.append(digits[Int(byte & 15)])
            }
            return String(decoding: out, as: UTF8.self)
        }
    }

    /// Parses 64 hexadecimal digits.
    public init?(hex: String) {
        let chars = Array(hex.utf8)
        guard chars.count == 64 else { return nil }
        var raw = [UInt8](repeating: 0, count: 32)
        for i in 0..<32 {
            guard let hi = Self.nibble(chars[2 * i]), let lo = Self.nibble(chars[2 * i + 1]) else { return nil }
            raw[i] = hi << 4 | lo
        }
        self = raw.withUnsafeBytes { Digest(bytes: $0)! }
    }

    private static func nibble(_ c: UInt8) -> UInt8? {
        switch c {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): c - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): c - UInt8(ascii: "a") + 10
        default: nil
        }
    }
}

/// A SHA-256 hasher for many small inputs on one thread.
///
/// It uses OpenSSL's low-level SHA-256 (still accelerated with the CPU's SHA instructions)
/// rather than EVP: EVP's per-digest init and final cost more than hashing a 100-byte event,
/// and the chain hashes millions of those.
public struct SHA256: ~Copyable {
    private var ctx = SHA256_CTX()

    public init() {}

    /// Hashes `bytes`.
    public mutating func hash(_ bytes: UnsafeRawBufferPointer) -> Digest {
        clogbook_sha256_init(&ctx)
        update(bytes)
        return final()
    }

    private mutating func update(_ part: UnsafeRawBufferPointer) {
        if part.count > 0 { clogbook_sha256_update(&ctx, part.baseAddress, part.count) }
    }

    private mutating func final() -> Digest {
        Digest.written { clogbook_sha256_final(&ctx, $0) }
    }

    /// Hashes the `count` bytes at `message`, writing SHA-256's padding behind them: there must
    /// be room for `SHA256.paddingRoom` more bytes. Faster than `hash(_:)` for short messages
    /// that can be encoded into room of one's own (an event's canonical form).
    public static func hash(padding message: UnsafeMutableRawPointer, count: Int) -> Digest {
        Digest.written { clogbook_sha256_padded(message.assumingMemoryBound(to: UInt8.self), count, $0) }
    }

    /// What `hash(padding:count:)` may write behind a message.
    public static let paddingRoom = 72

    /// Reduces `digests` (at least one) level by level to one, a Merkle root: each group of up
    /// to `arity` (2...16) consecutive digests of a level becomes SHA-256(`prefix` ‖ the group),
    /// a group of one (the last of a level) is carried up unchanged. `digests` is overwritten.
    public static func treeRoot(_ digests: inout [Digest], arity: Int, prefix: UInt8) -> Digest {
        precondition(!digests.isEmpty, "a root of nothing")
        precondition((2...16).contains(arity), "a tree's arity is 2 to 16")
        precondition(MemoryLayout<Digest>.stride == 32, "digests are stored as their 32 bytes")
        return digests.withUnsafeMutableBytes { nodes in
            Digest.written {
                clogbook_sha256_tree_root(
                    nodes.baseAddress!.assumingMemoryBound(to: UInt8.self), nodes.count / 32, arity, prefix, $0)
            }
        }
    }

    /// One-shot convenience.
    public static func hash(_ bytes: UnsafeRawBufferPointer) -> Digest {
        var h = SHA256()
        return h.hash(bytes)
    }
}

/// Fills `count` bytes from OpenSSL's CSPRNG (for ids and, later, keys and tokens).
public func secureRandomBytes(_ count: Int) -> [UInt8] {
    var out = [UInt8](repeating: 0, count: count)
    out.withUnsafeMutableBytes {
        precondition(RAND_bytes($0.baseAddress!.assumingMemoryBound(to: UInt8.self), Int32(count)) == 1)
    }
    return out
}

@available(*, unavailable, message: "a SHA-256 context belongs to one thread at a time")
extension SHA256: Sendable {}
