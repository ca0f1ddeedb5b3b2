import LogbookLMDB

/// The LMDB databases of one generation of a tenant's projections (specs/projections.md).
///
/// Two generations exist, 1 and 2; `meta/projections` names the live one. A rebuild fills the
/// other one from sequence 1 and then switches `meta/projections` in the same write transaction
/// that applies the last events, so a reader — whose read transaction sees one snapshot — finds
/// either the old state or the new one, never a half-built one. The old generation is then
/// cleared, not dropped: a reader still in an older snapshot keeps valid database handles.
struct ProjectionTables: Sendable {
    let generation: UInt8
    /// user (16 B) + UTC hour (u32 big-endian, hours since 1970) → timeline chunk (`TimelineChunk`).
    let timeline: Database
    /// user (16 B) + local day (u32 big-endian) → `DailyAggregate`.
    let daily: Database
    /// sequence (u64 big-endian) → `AuditRecord`.
    let audit: Database
    /// index kind (1 B) + key + sequence (u64 big-endian) → empty: audit records by subject,
    /// type and actor.
    let auditIndex: Database
    /// user (16 B) → `PersonRecord`.
    let people: Database
    /// manager (16 B) + member (16 B) → how the member belongs (bit 0: `manager` field, bit 1: team.member_added).
    let teams: Database
    /// `checkpoint` → u64 (last applied sequence); `format` → u8 (`format`); `settings/<key>`
    /// → the setting's JSON text.
    let state: Database

    /// The layout of what the tables hold. A generation written in another layout is cleared
    /// when its tenant is opened (`clearIfOutdated`) and built again from the log. 3: timeline
    /// records with a compact prefix; 2: timeline entries without the fields the timeline does
    /// not show; 1 (no `format` key): whole events in the timeline.
    static let format: UInt8 = 3

    static let checkpointKey = Array("checkpoint".utf8)
    static let formatKey = Array("format".utf8)
    static let generationKey = Array("projections".utf8)

    static func open(generation: UInt8, in txn: borrowing WriteTransaction) throws -> ProjectionTables {
        let p = "p\(generation)."
        return ProjectionTables(
            generation: generation,
            timeline: try txn.openDatabase(p + "timeline", flags: [.create]),
            daily: try txn.openDatabase(p + "daily", flags: [.create]),
            audit: try txn.openDatabase(p + "audit", flags: [.create]),
            auditIndex: try txn.openDatabase(p + "audit-index", flags: [.create]),
            people: try txn.openDatabase(p + "people", flags: [.create]),
            teams: try txn.openDatabase(p + "teams", flags: [.create]),
            state: try txn.openDatabase(p + "state", flags: [.create]))
    }

    var all: [Database] { [timeline, daily, audit, auditIndex, people, teams, state] }

    func clear(in txn: borrowing WriteTransaction) throws {
        for db in all { try txn.clear(db) }
    }

    func checkpoint<T: Transaction & ~Copyable>(in txn: borrowing T) throws -> UInt64 {
        try ProjectionTables.checkpointKey.withUnsafeBytes { k in
            try txn.get(state, key: k) { v in
                guard let v else { return 0 }
                guard v.count == 8 else { throw LogError(.corrupt, "a projection checkpoint is malformed") }
                return UInt64(bigEndian: v.loadUnaligned(as: UInt64.self))
            }
        }
    }

    /// Stores the checkpoint and, with it, that the state is in this version's `format`.
    func setCheckpoint(_ sequence: UInt64, in txn: borrowing WriteTransaction) throws {
        try ProjectionTables.checkpointKey.withUnsafeBytes { k in
            try withUnsafeBytes(of: sequence.bigEndian) { v in try txn.put(state, key: k, value: v) }
        }
        try ProjectionTables.formatKey.withUnsafeBytes { k in
            try withUnsafeBytes(of: ProjectionTables.format) { v in try txn.put(state, key: k, value: v) }
        }
    }

    /// Clears the tables when they hold state in another `format` than this version's (an
    /// older Logbook wrote them); returns whether it did. The live projections then catch up
    /// from sequence 1, as after `logbook replay`, but in place: until then queries see them
    /// partly built.
    func clearIfOutdated(in txn: borrowing WriteTransaction) throws -> Bool {
        guard try checkpoint(in: txn) > 0 else { return false }
        let stored = try ProjectionTables.formatKey.withUnsafeBytes { k in
            try txn.get(state, key: k) { v in v?.count == 1 ? v?.first : nil }
        }
        guard stored != ProjectionTables.format else { return false }
        try clear(in: txn)
        return true
    }
}

/// Key helpers shared by the projector and the queries.
enum ProjectionKey {
    static func userDay(_ user: UserID, _ day: Int32) -> [UInt8] {
        var k: [UInt8] = []
        k.reserveCapacity(20)
        user.append(to: &k)
        withUnsafeBytes(of: UInt32(bitPattern: day).bigEndian) { k.append(contentsOf: $0) }
        return k
    }

    static func sequence(_ s: UInt64) -> [UInt8] { withUnsafeBytes(of: s.bigEndian, Array.init) }

    static func day(fromKey k: UnsafeRawBufferPointer) -> Int32 {
        Int32(bitPattern: UInt32(bigEndian: k.loadUnaligned(fromByteOffset: 16, as: UInt32.self)))
    }
}
