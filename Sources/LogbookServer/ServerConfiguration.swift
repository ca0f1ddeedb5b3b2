public import LogbookCrypto

/// Everything `buildApplication` needs; `logbook serve` fills it from flags and environment.
public struct ServerConfiguration: Sendable {
    public var host = "127.0.0.1"
    public var port = 8080
    /// Largest request body accepted (413 beyond).
    public var maxBodyBytes = 8 << 20
    /// Most events in one ingest request (413 beyond).
    public var maxEventsPerRequest = 10_000
    /// Most events one query response returns.
    public var maxQueryLimit = 10_000
    /// Largest personal export `GET /v1/export` answers (it is built in memory; 422 beyond).
    public var maxExportBytes = 64 << 20
    /// Seconds a client is told to wait after a 429.
    public var retryAfterSeconds = 1
    /// SHA-256 of the operator token, the only credential that may create tenants
    /// (`POST /v1/tenants`). Nil disables tenant creation over HTTP. Only the hash is kept.
    public private(set) var operatorTokenHash: Digest?
    /// PEM certificate chain and private key paths; both set means HTTPS with TLS 1.3 minimum.
    public var tls: TLSFiles?
    /// Production mode: with TLS on, every response carries Strict-Transport-Security.
    public var production = false

    /// Shortest operator token accepted: it guards tenant creation for the whole server.
    public static let minimumOperatorTokenLength = 32

    public init() {}

    /// Sets the operator token (kept only as its SHA-256).
    ///
    /// - Throws: `ConfigurationError` when the token is shorter than `minimumOperatorTokenLength`.
    public mutating func setOperatorToken(_ token: String) throws(ConfigurationError) {
        guard token.utf8.count >= Self.minimumOperatorTokenLength else {
            throw ConfigurationError(
                "the operator token must have at least \(Self.minimumOperatorTokenLength) characters"
                    + " (e.g. `openssl rand -hex 32`)")
        }
        operatorTokenHash = Self.hash(token)
    }

    static func hash(_ token: String) -> Digest {
        Array(token.utf8).withUnsafeBytes { SHA256.hash($0) }
    }
}

/// Paths of a PEM certificate chain and its private key.
public struct TLSFiles: Sendable {
    public var certificateChain: String
    public var privateKey: String

    public init(certificateChain: String, privateKey: String) {
        self.certificateChain = certificateChain
        self.privateKey = privateKey
    }
}

/// A server setting that cannot work; the message says which and how to fix it.
public struct ConfigurationError: Error, Sendable, CustomStringConvertible {
    public var description: String

    public init(_ description: String) { self.description = description }
}
