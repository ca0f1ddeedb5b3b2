import LogbookLMDB
import LogbookZstd

extension TenantLog {
    /// Largest body a block may claim; a header claiming more is corrupt.
    static let maxRawBlockSize = 256 << 20

    /// Decodes a stored block (header + body) into `reader.events`.
    func decodeBlock(_ stored: UnsafeRawBufferPointer, with reader: inout BlockReader) throws {
        try decodeBody(try BlockHeader(decoding: stored), stored, with: &reader)
    }

    func decodeBody(_ header: BlockHeader, _ stored: UnsafeRawBufferPointer, with reader: inout BlockReader) throws {
        guard stored.count == BlockHeader.size + Int(header.bodySize) else {
            throw CodecError(code: .truncated, offset: stored.count)
        }
        let body = UnsafeRawBufferPointer(rebasing: stored[BlockHeader.size...])
        // From the second block on, strings recur: look them up before making them anew.
        if reader.blocks > 0 { reader.strings.enable() }
        reader.blocks += 1
        switch header.codec {
        case .zstd, .zstdAfterIDs:
            // With the ids outside the frame, they are copied in front of what it holds.
            let plain = header.codec == .zstd ? 0 : try BlockBody.idColumnEnd(body)
            let limit = min(Int(header.rawSize), TenantLog.maxRawBlockSize)
            guard plain <= limit else { throw CodecError(code: .outOfRange, offset: BlockHeader.size) }
            try reader.decompressor.decompress(
                UnsafeRawBufferPointer(rebasing: body[plain...]), dictionary: try dictionary(header.dictionaryID),
                maxSize: limit - plain, into: &reader.raw, after: UnsafeRawBufferPointer(rebasing: body[..<plain]))
            try reader.raw.withUnsafeBytes {
                try BlockBody.decode(
                    $0, firstSequence: header.firstSequence, into: &reader.events, strings: &reader.strings)
            }
        case .none:
            try BlockBody.decode(
                body, firstSequence: header.firstSequence, into: &reader.events, strings: &reader.strings)
        }
        guard reader.events.count == Int(header.count) else { throw CodecError(code: .outOfRange, offset: 4) }
    }

    /// Calls `body` with every event whose sequence is in `sequences` and, when given, whose
    /// occurred-at lies in `occurred`, in sequence order, until `body` returns false.
    ///
    /// Memory stays bounded: one block is decoded at a time, inside a short read transaction (a
    /// long one would pin pages the writer wants to reuse); `body` runs after it has ended, so
    /// a slow consumer holds nothing. Blocks whose time range misses `occurred` are skipped
    /// on their header alone.
    func scan(
        sequences: ClosedRange<UInt64>, occurred: Range<Timestamp>? = nil, _ body: (Event) throws -> Bool
    ) throws {
        var reader = BlockReader()
        var next = sequences.lowerBound
        let last = min(sequences.upperBound, committed.load(ordering: .acquiring))
        while next <= last {
            var reachedEnd = false
            try env.read { txn in
                try txn.withCursor(log) { cursor in
                    try TenantLog.blockKey(next).withUnsafeBytes { kb in
                        var entry = try cursor.seek(atLeast: kb)
                        // The block holding `next` may start before it.
                        if entry == nil || !entry!.key.elementsEqual(kb) {
                            if let previous = try (entry == nil ? cursor.last() : cursor.previous()) {
                                let h = try BlockHeader(decoding: previous.value)
                                entry = h.lastSequence >= next ? previous : try cursor.next()
                            } else {
                                entry = try cursor.first()
                            }
                        }
                        while let e = entry {
                            let header = try BlockHeader(decoding: e.value)
                            if header.firstSequence > last { break }
                            next = header.lastSequence + 1
                            let timeMatch =
                                occurred.map {
                                    header.maxOccurred >= $0.lowerBound && header.minOccurred < $0.upperBound
                                } ?? true
                            if timeMatch {
                                // The next block's pages load while this one decodes.
                                if let following = try cursor.next() { prefetch(following.value) }
                                try decodeBody(header, e.value, with: &reader)
                                return
                            }
                            entry = try cursor.next()
                        }
                        reachedEnd = true
                        reader.events.removeAll(keepingCapacity: true)
                    }
                }
            }
            for i in reader.events.indices
            where reader.events[i].sequence >= sequences.lowerBound && reader.events[i].sequence <= last {
                if let occurred, !occurred.contains(reader.events[i].occurredAt) { continue }
                if try !body(reader.events[i]) { return }
            }
            if reachedEnd { return }
        }
    }

    /// Waits until an event after `sequence` is committed; returns the new last sequence.
    func waitForEvents(after sequence: UInt64) async -> UInt64 {
        let current = committed.load(ordering: .acquiring)
        if current > sequence { return current }
        return await withCheckedContinuation { continuation in
            let resumeNow: UInt64? = waiters.withLock { w in
                // Re-check under the lock: a commit may have published in between.
                let now = committed.load(ordering: .acquiring)
                if now > sequence { return now }
                w.nextID += 1
                w.list.append((w.nextID, sequence, continuation))
                return nil
            }
            if let resumeNow { continuation.resume(returning: resumeNow) }
        }
    }
}

/// What decoding block after block needs and keeps from one block to the next: the
/// decompressor and its output buffer, the decoded events (overwritten in place by the next
/// block, `BlockBody.decode`) and the strings seen lately (`StringCache`).
struct BlockReader: ~Copyable {
    var decompressor = ZstdDecompressor()
    var raw: [UInt8] = []
    /// The last block's events.
    var events: [Event] = []
    var strings = StringCache()
    /// Blocks decoded so far.
    var blocks = 0
}
