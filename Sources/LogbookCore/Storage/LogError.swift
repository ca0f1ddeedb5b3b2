/// What can go wrong in the log, as one error type with an extensible code
/// (the HTTP layer maps `queueFull` to 429, `tenantNotFound` to 404, and so on).
public struct LogError: Error, Sendable, CustomStringConvertible {
    public struct Code: Sendable, Hashable, CustomStringConvertible {
        public let name: String
        public var description: String { name }
        /// The tenant's or the store's append queue is full: retry later.
        public static let queueFull = Code(name: "queue_full")
        /// The store is shutting down and takes no new appends.
        public static let closed = Code(name: "closed")
        public static let tenantNotFound = Code(name: "tenant_not_found")
        /// Every open-environment slot is in use by work in flight: retry later.
        public static let tooManyOpenTenants = Code(name: "too_many_open_tenants")
        /// The environment's map size is exhausted: raise `LogStore.Options.mapSize`.
        public static let storageFull = Code(name: "storage_full")
        /// LMDB or the file system failed.
        public static let io = Code(name: "io")
        /// Stored bytes do not decode or do not match their hashes.
        public static let corrupt = Code(name: "corrupt")
        public static let invalidArgument = Code(name: "invalid_argument")
    }

    public var code: Code
    public var message: String
    public var cause: (any Error)?

    public init(_ code: Code, _ message: String, cause: (any Error)? = nil) {
        self.code = code
        self.message = message
        self.cause = cause
    }

    public var description: String {
        if let cause { return "\(message) (\(cause))" }
        return message
    }
}
