/// Reads what `ByteWriter` wrote, checking every length against the bytes that are there.
/// Any malformed input ends in a thrown `CodecError`; nothing here can trap on data.
struct ByteReader {
    let buffer: UnsafeRawBufferPointer
    var offset: Int = 0

    init(_ buffer: UnsafeRawBufferPointer) { self.buffer = buffer }

    var remaining: Int { buffer.count - offset }
    var isAtEnd: Bool { offset >= buffer.count }

    func fail(_ code: CodecError.Code) -> CodecError { CodecError(code: code, offset: offset) }

    @inline(__always)
    mutating func u8() throws(CodecError) -> UInt8 {
        guard offset < buffer.count else { throw fail(.truncated) }
        defer { offset += 1 }
        return buffer[offset]
    }

    @inline(__always)
    mutating func varint() throws(CodecError) -> UInt64 {
        var result: UInt64 = 0
        var shift: UInt64 = 0
        while true {
            guard offset < buffer.count else { throw fail(.truncated) }
            let b = buffer[offset]
            offset += 1
            if shift == 63 && b > 1 { throw fail(.outOfRange) }
            result |= UInt64(b & 0x7F) << shift
            if b < 0x80 { return result }
            shift += 7
            if shift > 63 { throw fail(.outOfRange) }
        }
    }

    @inline(__always)
    mutating func svarint() throws(CodecError) -> Int64 {
        let u = try varint()
        return Int64(bitPattern: (u >> 1) ^ (0 &- (u & 1)))
    }

    /// A varint used as a count or length of things that each take at least `unit` bytes:
    /// refuses counts the remaining bytes cannot hold, so corrupt input cannot make us allocate.
    @inline(__always)
    mutating func count(unit: Int = 1) throws(CodecError) -> Int {
        let v = try varint()
        // A multiplication, not `remaining / unit`: a division per payload and per string
        // showed in decoding. v ≤ remaining < 2^63 and unit is small, so overflow means too big.
        let (bytes, overflow) = v.multipliedReportingOverflow(by: UInt64(max(unit, 1)))
        guard !overflow, bytes <= UInt64(remaining) else { throw fail(.outOfRange) }
        return Int(v)
    }

    mutating func u32() throws(CodecError) -> UInt32 {
        guard remaining >= 4 else { throw fail(.truncated) }
        defer { offset += 4 }
        return UInt32(littleEndian: buffer.loadUnaligned(fromByteOffset: offset, as: UInt32.self))
    }

    mutating func u64() throws(CodecError) -> UInt64 {
        guard remaining >= 8 else { throw fail(.truncated) }
        defer { offset += 8 }
        return UInt64(littleEndian: buffer.loadUnaligned(fromByteOffset: offset, as: UInt64.self))
    }

    mutating func uuid() throws(CodecError) -> UUID128 {
        guard remaining >= 16 else { throw fail(.truncated) }
        defer { offset += 16 }
        return UUID128(bytes: buffer, at: offset)
    }

    @inline(__always)
    mutating func bytes(_ n: Int) throws(CodecError) -> UnsafeRawBufferPointer {
        guard n >= 0, remaining >= n else { throw fail(.truncated) }
        defer { offset += n }
        // From the base address, not by slicing: the guard above is the bounds check, and a
        // slice checked its bounds again (twice per string, in every encode and decode).
        return UnsafeRawBufferPointer(start: buffer.baseAddress.map { $0 + offset }, count: n)
    }

    /// A length-prefixed UTF-8 string; invalid UTF-8 is an error, not a repair.
    mutating func string() throws(CodecError) -> String {
        let n = try count()
        let raw = try bytes(n)
        guard let s = String(wellFormedUTF8: UnsafeRawBufferPointer(raw)) else { throw fail(.invalidText) }
        return s
    }
}
