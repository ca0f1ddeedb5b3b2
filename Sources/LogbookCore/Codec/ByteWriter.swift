/// Appends the primitives of Logbook's binary encodings (little-endian, LEB128 varints).
struct ByteWriter {
    var bytes: [UInt8]

    init(capacity: Int = 256) {
        bytes = []
        bytes.reserveCapacity(capacity)
    }

    @inline(__always)
    mutating func u8(_ v: UInt8) { bytes.append(v) }

    @inline(__always)
    mutating func varint(_ v: UInt64) {
        var v = v
        while v >= 0x80 {
            bytes.append(UInt8(truncatingIfNeeded: v) | 0x80)
            v >>= 7
        }
        bytes.append(UInt8(v))
    }

    /// Zig-zag, so that small negative numbers stay short.
    @inline(__always)
    mutating func svarint(_ v: Int64) { varint(UInt64(bitPattern: (v << 1) ^ (v >> 63))) }

    mutating func u32(_ v: UInt32) { withUnsafeBytes(of: v.littleEndian) { bytes.append(contentsOf: $0) } }
    mutating func u64(_ v: UInt64) { withUnsafeBytes(of: v.littleEndian) { bytes.append(contentsOf: $0) } }
    mutating func u64BigEndian(_ v: UInt64) { withUnsafeBytes(of: v.bigEndian) { bytes.append(contentsOf: $0) } }

    @inline(__always)
    mutating func uuid(_ u: UUID128) { u.append(to: &bytes) }

    mutating func string(_ s: String) {
        var s = s
        s.withUTF8 { utf8 in
            varint(UInt64(utf8.count))
            bytes.append(contentsOf: utf8)
        }
    }

    mutating func raw(_ b: UnsafeRawBufferPointer) { bytes.append(contentsOf: b) }

    /// Appends what `body` writes through a `ByteCursor` (at most `ByteCursor.capacity` bytes)
    /// with one append: each append to an array checks uniqueness and capacity, which cost
    /// more than the bytes when fields are written one small value at a time.
    @inline(__always)
    mutating func group(_ body: (inout ByteCursor) -> Void) {
        withUnsafeTemporaryAllocation(byteCount: ByteCursor.capacity, alignment: 8) { buffer in
            var cursor = ByteCursor(base: buffer.baseAddress!)
            body(&cursor)
            bytes.append(contentsOf: UnsafeRawBufferPointer(start: buffer.baseAddress, count: cursor.count))
        }
    }
    mutating func raw(_ b: [UInt8]) { bytes.append(contentsOf: b) }
}

/// Writes small values into a fixed scratch buffer for `ByteWriter.group`. The caller keeps
/// within `capacity` bytes (a varint takes at most 10, a UUID 16).
struct ByteCursor {
    static let capacity = 96
    let base: UnsafeMutableRawPointer
    private(set) var count = 0

    init(base: UnsafeMutableRawPointer) { self.base = base }

    @inline(__always)
    mutating func u8(_ v: UInt8) {
        precondition(count < ByteCursor.capacity)
        base.storeBytes(of: v, toByteOffset: count, as: UInt8.self)
        count += 1
    }

    @inline(__always)
    mutating func u32(_ v: UInt32) {
        precondition(count + 4 <= ByteCursor.capacity)
        base.storeBytes(of: v.littleEndian, toByteOffset: count, as: UInt32.self)
        count += 4
    }

    @inline(__always)
    mutating func varint(_ v: UInt64) {
        var v = v
        while v >= 0x80 {
            u8(UInt8(truncatingIfNeeded: v) | 0x80)
            v >>= 7
        }
        u8(UInt8(v))
    }

    @inline(__always)
    mutating func svarint(_ v: Int64) { varint(UInt64(bitPattern: (v << 1) ^ (v >> 63))) }

    @inline(__always)
    mutating func uuid(_ u: UUID128) {
        precondition(count + 16 <= ByteCursor.capacity)
        base.storeBytes(of: u.high.bigEndian, toByteOffset: count, as: UInt64.self)
        base.storeBytes(of: u.low.bigEndian, toByteOffset: count + 8, as: UInt64.self)
        count += 16
    }
}
