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
        s.withUTF8Bytes { utf8 in
            varint(UInt64(utf8.count))
            bytes.append(contentsOf: utf8)
        }
    }

    mutating func raw(_ b: UnsafeRawBufferPointer) { bytes.append(contentsOf: b) }

    mutating func raw(_ b: [UInt8]) { bytes.append(contentsOf: b) }

    /// A payload with its strings inline (`EventCodec.encodePayload(_:into:)`).
    mutating func payload(_ fields: [Field]) {
        group(capacity: EventCodec.payloadBound(fields)) { EventCodec.encodePayload(fields, into: &$0) }
    }

    /// Appends what `body` writes through a cursor with room for `capacity` bytes, for values
    /// whose size can be bounded first (a payload, a column, a timeline entry): one append,
    /// however many fields. Each append to an array checks uniqueness and capacity and, for a
    /// buffer, takes a generic path that costs more than a small field's bytes. Room past a
    /// few kilobytes comes from the heap.
    @inline(__always)
    mutating func group(capacity: Int, _ body: (inout ByteCursor) -> Void) {
        // At least a byte, so that there is an address even for an empty column.
        withUnsafeTemporaryAllocation(byteCount: max(capacity, 1), alignment: 8) { buffer in
            var cursor = ByteCursor(base: buffer.baseAddress!, limit: capacity)
            body(&cursor)
            bytes.append(contentsOf: UnsafeRawBufferPointer(start: buffer.baseAddress, count: cursor.count))
        }
    }
}

/// Writes values into room of `limit` bytes (`ByteWriter.group`, `EncodingScratch`), checking
/// every write against it. The caller sizes the room first: a varint takes at most 10 bytes, a
/// UUID 16, a string `bound(of:)`.
struct ByteCursor {
    let base: UnsafeMutableRawPointer
    /// The room behind `base`; every write checks it.
    let limit: Int
    private(set) var count = 0

    init(base: UnsafeMutableRawPointer, limit: Int) {
        self.base = base
        self.limit = limit
    }

    @inline(__always)
    mutating func u8(_ v: UInt8) {
        precondition(count < limit)
        base.storeBytes(of: v, toByteOffset: count, as: UInt8.self)
        count += 1
    }

    @inline(__always)
    mutating func u32(_ v: UInt32) {
        precondition(count + 4 <= limit)
        base.storeBytes(of: v.littleEndian, toByteOffset: count, as: UInt32.self)
        count += 4
    }

    @inline(__always)
    mutating func u64(_ v: UInt64) {
        precondition(count + 8 <= limit)
        base.storeBytes(of: v.littleEndian, toByteOffset: count, as: UInt64.self)
        count += 8
    }

    @inline(__always)
    mutating func raw(_ b: UnsafeRawBufferPointer) {
        precondition(count + b.count <= limit)
        if let from = b.baseAddress { (base + count).copyMemory(from: from, byteCount: b.count) }
        count += b.count
    }

    /// Length varint and UTF-8 bytes, as `ByteWriter.string`; room: `ByteCursor.bound(of:)`.
    @inline(__always)
    mutating func string(_ s: String) {
        s.withUTF8Bytes { utf8 in
            varint(UInt64(utf8.count))
            raw(UnsafeRawBufferPointer(utf8))
        }
    }

    /// The most bytes `string(s)` writes.
    @inline(__always)
    static func bound(of s: String) -> Int { 10 + s.utf8.count }

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
        precondition(count + 16 <= limit)
        base.storeBytes(of: u.high.bigEndian, toByteOffset: count, as: UInt64.self)
        base.storeBytes(of: u.low.bigEndian, toByteOffset: count + 8, as: UInt64.self)
        count += 16
    }
}

extension [UInt8] {
    /// What `write` writes through a cursor with room for `room` bytes, as an array that is
    /// allocated once and not initialised first (a block's body and its side columns, a
    /// batch's tails).
    init(room: Int, _ write: (inout ByteCursor) -> Void) {
        self.init(unsafeUninitializedCapacity: Swift.max(room, 1)) { buffer, count in
            var c = ByteCursor(base: UnsafeMutableRawPointer(buffer.baseAddress!), limit: room)
            write(&c)
            count = c.count
        }
    }
}
