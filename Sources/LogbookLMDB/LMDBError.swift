internal import CLogbookLMDB

/// An error reported by LMDB, with the operation that failed.
///
/// The message never contains keys or values: they may hold personal data.
public struct LMDBError: Error, Sendable, Hashable, CustomStringConvertible {
    /// LMDB's or the system's result code (`MDB_*` or an errno).
    public var code: Int32
    /// The LMDB call that failed, e.g. `mdb_txn_commit`.
    public var operation: String

    public init(code: Int32, operation: String) {
        self.code = code
        self.operation = operation
    }

    /// The map (the environment's maximum size) is full: raise the map size.
    public static let mapFull: Int32 = MDB_MAP_FULL
    /// A key already exists (with `MDB_NOOVERWRITE`) or is out of order (with `MDB_APPEND`).
    public static let keyExists: Int32 = MDB_KEYEXIST
    /// The environment's files are not an LMDB environment, or of another version.
    public static let invalid: Int32 = MDB_INVALID

    public var isMapFull: Bool { code == MDB_MAP_FULL }
    public var isKeyExists: Bool { code == MDB_KEYEXIST }

    public var description: String {
        "\(operation) failed: \(String(cString: mdb_strerror(code))) (\(code))"
    }
}

@inline(__always)
func check(_ rc: Int32, _ operation: @autoclosure () -> String) throws(LMDBError) {
    if rc != MDB_SUCCESS { throw LMDBError(code: rc, operation: operation()) }
}
