internal import CLogbookCrypto

/// A SHA-256 digest: 32 bytes, compared and hashed by value.
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

/// The SHA-256 algorithm object, fetched once: OpenSSL 3 re-fetches on every use of
/// `EVP_sha256()`, which costs more than hashing a small event.
///
/// `@unchecked Sendable`: OpenSSL documents fetched `EVP_MD` objects as safe to share between
/// threads; it is never freed (it lives as long as the process).
private final class FetchedAlgorithm: @unchecked Sendable {
    let md: OpaquePointer
    init() { md = EVP_MD_fetch(nil, "SHA256", nil)! }
}
private let sha256Algorithm = FetchedAlgorithm()

/// A reusable SHA-256 context for hashing many small inputs on one thread.
public struct SHA256: ~Copyable {
    private let ctx: OpaquePointer

    public init() { ctx = EVP_MD_CTX_new()! }
    deinit { EVP_MD_CTX_free(ctx) }

    /// Hashes the concatenation of `parts`.
    public mutating func hash(_ parts: UnsafeRawBufferPointer...) -> Digest {
        precondition(EVP_DigestInit_ex2(ctx, sha256Algorithm.md, nil) == 1, "EVP_DigestInit_ex2")
        for part in parts where part.count > 0 {
            precondition(EVP_DigestUpdate(ctx, part.baseAddress, part.count) == 1, "EVP_DigestUpdate")
        }
        var out = (UInt64(0), UInt64(0), UInt64(0), UInt64(0))
        var len: UInt32 = 0
        withUnsafeMutableBytes(of: &out) { buffer in
            precondition(
                EVP_DigestFinal_ex(ctx, buffer.baseAddress!.assumingMemoryBound(to: UInt8.self), &len) == 1,
                "EVP_DigestFinal_ex")
        }
        return Digest(a: out.0, b: out.1, c: out.2, d: out.3)
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

@available(*, unavailable, message: "an EVP_MD_CTX belongs to one thread at a time")
extension SHA256: Sendable {}
