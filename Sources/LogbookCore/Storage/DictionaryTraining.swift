import Foundation
import Dispatch
import LogbookCrypto
import LogbookZstd
import Synchronization

/// A tenant's zstd dictionary, made off the commit path.
///
/// The dictionary is raw content: the strings of the tenant's recent events that are likeliest
/// to come again — those that already repeated, most saved first, then the most recent — laid
/// out so that the likeliest sit at the end, where zstd reaches them with the shortest offsets.
/// zstd's fastCover trainer (before 2026-11-26) took 2.3–2.6 ms of CPU per tenant for a
/// dictionary that left the standard workload's blocks 0.5 % larger; choosing whole strings
/// takes a fraction of a millisecond.
///
/// The commit that crosses the threshold only gathers the strings (its own events from their
/// encoded form, older ones from the log); a background queue makes the dictionary, and the
/// first commit after that stores it and compresses with it. (Making it inside the commit once
/// held up one request in twenty at half the HTTP benchmark's load.)
final class DictionaryTraining: Sendable {
    enum Outcome: Sendable {
        case trained(bytes: [UInt8], dictionary: ZstdDictionary)
        /// Too little data.
        case failed
    }

    /// What the last training produced, until a commit takes it.
    private let outcome = Mutex<Outcome?>(nil)

    /// One queue for the process: trainings run one at a time, beside the commits rather
    /// than in them.
    private static let queue = DispatchQueue(label: "logbook.dictionary-training")

    /// The least content worth a dictionary.
    static let minimumSize = 256

    /// Makes a dictionary of at most `capacity` bytes from `pieces` (oldest first) in the
    /// background.
    func start(pieces: Pieces, capacity: Int, level: Int32) {
        DictionaryTraining.queue.async { [self] in
            let result: Outcome
            if let bytes = DictionaryTraining.content(pieces, capacity: capacity),
                let dictionary = try? ZstdDictionary(bytes: bytes, level: level, id: DictionaryTraining.id(of: bytes))
            {
                result = .trained(bytes: bytes, dictionary: dictionary)
            } else {
                result = .failed
            }
            self.outcome.withLock { $0 = result }
        }
    }

    /// The finished training's outcome, if any; it stays until `clear()`.
    func peek() -> Outcome? { outcome.withLock { $0 } }

    func clear() { outcome.withLock { $0 = nil } }

    /// Byte strings one after another in one buffer: what a training gathers from thousands
    /// of events, without an array per string.
    struct Pieces: Sendable {
        private(set) var bytes: [UInt8] = []
        /// Where each piece ends in `bytes`.
        private(set) var ends: [Int] = []

        var count: Int { ends.count }

        mutating func append(_ piece: UnsafeRawBufferPointer) {
            bytes.append(contentsOf: piece)
            ends.append(bytes.count)
        }

        mutating func append(contentsOf other: Pieces) {
            let base = bytes.count
            bytes.append(contentsOf: other.bytes)
            ends.append(contentsOf: other.ends.lazy.map { $0 + base })
        }

        func range(_ i: Int) -> Range<Int> { (i == 0 ? 0 : ends[i - 1])..<ends[i] }

        /// What a training takes from an event: its subject (16 bytes), then the strings at
        /// the top of its payload, in order.
        mutating func append(piecesOf e: borrowing Event) {
            if let s = e.subject {
                withUnsafeBytes(of: (s.high.bigEndian, s.low.bigEndian)) { append($0) }
            }
            for f in e.data {
                if case .string(let s) = f.value { s.withUTF8Bytes { append(UnsafeRawBufferPointer($0)) } }
            }
        }
    }

    /// `content` of pieces given one array each (tests, tools).
    static func content(_ pieces: [[UInt8]], capacity: Int) -> [UInt8]? {
        var flat = Pieces()
        for p in pieces { p.withUnsafeBytes { flat.append($0) } }
        return content(flat, capacity: capacity)
    }

    /// A dictionary's content from `pieces` (oldest first), at most `capacity` bytes; nil when
    /// there is less than `minimumSize` worth keeping. Deterministic.
    ///
    /// Distinct pieces are found with an open-addressing table over a fast hash of their
    /// bytes (`TableStrings.hash`), not a `Dictionary` of arrays, which ran SipHash over each.
    static func content(_ pieces: Pieces, capacity: Int) -> [UInt8]? {
        // Per distinct piece (in order of first appearance): where its first occurrence is,
        // how often it occurred, and its last occurrence.
        var first: [Int] = [], count: [Int] = [], last: [Int] = []
        var size = 16
        while size < pieces.count * 2 { size <<= 1 }
        var slots = [Int32](repeating: 0, count: size)  // 1 + index of a distinct piece
        let mask = size - 1
        pieces.bytes.withUnsafeBytes { all in
            func bytes(_ i: Int) -> UnsafeRawBufferPointer { UnsafeRawBufferPointer(rebasing: all[pieces.range(i)]) }
            for i in 0..<pieces.count {
                let piece = bytes(i)
                guard piece.count >= 4 else { continue }  // shorter: no zstd match
                var slot = Int(truncatingIfNeeded: TableStrings.hash(piece)) & mask
                while slots[slot] != 0 {
                    let d = Int(slots[slot]) - 1
                    let other = bytes(first[d])
                    if other.count == piece.count && memcmp(other.baseAddress!, piece.baseAddress!, piece.count) == 0 {
                        break
                    }
                    slot = (slot + 1) & mask
                }
                if slots[slot] == 0 {
                    slots[slot] = Int32(first.count + 1)
                    first.append(i)
                    count.append(1)
                    last.append(i)
                } else {
                    let d = Int(slots[slot]) - 1
                    count[d] += 1
                    last[d] = i
                }
            }
        }
        // First what repeated, by the bytes it would have saved; then the most recent.
        let length = first.map { pieces.range($0).count }
        let ranked = first.indices.sorted { a, b in
            let (x, y) = ((count[a] - 1) * length[a], (count[b] - 1) * length[b])
            return x != y ? x > y : last[a] > last[b]
        }
        var chosen: [Int] = []
        var total = 0
        for d in ranked where total + length[d] <= capacity {
            chosen.append(d)
            total += length[d]
        }
        guard total >= minimumSize else { return nil }
        // The first chosen last: nearest the data.
        var bytes: [UInt8] = []
        bytes.reserveCapacity(total + 1)
        for d in chosen.reversed() { bytes += pieces.bytes[pieces.range(first[d])] }
        // Content starting with zstd's magic number would be read as a trained dictionary.
        if bytes.starts(with: ZstdDictionary.magic) { bytes.insert(0x20, at: 0) }
        return bytes
    }

    /// The id a dictionary is stored and named under: from its content, never 0 (no dictionary).
    static func id(of bytes: [UInt8]) -> UInt32 {
        let digest = bytes.withUnsafeBytes { SHA256.hash($0) }
        let id = UInt32(truncatingIfNeeded: digest.a)
        return id == 0 ? 1 : id
    }
}

extension EncodedEvents {
    /// Appends to `pieces` what a training takes from events `range` (`append(piecesOf:)` of
    /// each, decoded), from their encoded form: a commit's own events need not be written to a
    /// block and read back for it.
    func appendTrainingPieces(_ range: Range<Int>, to pieces: inout DictionaryTraining.Pieces) {
        tails.withUnsafeBytes { tails in
            for i in range {
                if let s = subjects[i] {
                    withUnsafeBytes(of: (s.high.bigEndian, s.low.bigEndian)) { pieces.append($0) }
                }
                let tail = EncodedTail(UnsafeRawBufferPointer(rebasing: tails[starts[i]..<starts[i + 1]]))
                EventCodec.forEachTopLevelString(in: tail.payload) { pieces.append($1) }
            }
        }
    }
}
