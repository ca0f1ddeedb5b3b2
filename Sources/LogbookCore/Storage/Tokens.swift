import Foundation
public import LogbookCrypto
import LogbookLMDB

/// What a bearer token may do.
public enum TokenRole: UInt8, Sendable, CustomStringConvertible {
    /// Ingest only (desktop agents, integrations).
    case agent = 1
    /// The whole tenant: queries, tokens, stats.
    case admin = 2

    public var description: String { self == .agent ? "agent" : "admin" }
}

/// A stored token: only its hash is kept, with what it grants.
public struct TokenRecord: Sendable, Hashable {
    public var role: TokenRole
    /// The device's or person's user id, when the token is bound to one.
    public var user: UserID?
    public var created: Timestamp
    public var revoked: Bool
    public var label: String

    func encode() -> [UInt8] {
        var w = ByteWriter(capacity: 64)
        w.u8(1)
        w.u8(role.rawValue)
        w.u8(revoked ? 1 : 0)
        w.svarint(created.microseconds)
        w.u8(user == nil ? 0 : 1)
        if let user { w.uuid(user) }
        w.string(label)
        return w.bytes
    }

    init(role: TokenRole, user: UserID?, created: Timestamp, revoked: Bool, label: String) {
        self.role = role
        self.user = user
        self.created = created
        self.revoked = revoked
        self.label = label
    }

    init(decoding bytes: UnsafeRawBufferPointer) throws(CodecError) {
        var r = ByteReader(bytes)
        guard try r.u8() == 1 else { throw CodecError(code: .unknownVersion, offset: 0) }
        guard let role = TokenRole(rawValue: try r.u8()) else { throw CodecError(code: .unknownTag, offset: 1) }
        self.role = role
        revoked = try r.u8() != 0
        created = Timestamp(microseconds: try r.svarint())
        user = try r.u8() != 0 ? try r.uuid() : nil
        label = try r.string()
    }
}

/// A token as handed out once: `lbk_<tenant>_<64 hex digits>`. The tenant is part of the token
/// so a server finds the tenant's environment without a global index; the secret is 256 random
/// bits, and only SHA-256 of the whole token is stored.
public struct IssuedToken: Sendable {
    public var token: String
    /// A short public id (the first 12 hex digits of the hash), for listing and revoking.
    public var id: String
    public var tenant: TenantID
    public var record: TokenRecord
}

enum TokenFormat {
    static let prefix = "lbk_"

    static func make(_ tenant: TenantID) -> String {
        let hex = secureRandomBytes(32).map { String($0, radix: 16).leftPadded(to: 2) }.joined()
        return prefix + tenant.rawValue + "_" + hex
    }

    /// The tenant a well-formed token names; nil for anything else.
    static func tenant(of token: String) -> TenantID? {
        guard token.hasPrefix(prefix), token.utf8.count <= prefix.utf8.count + 64 + 1 + 64,
            let split = token.lastIndex(of: "_")
        else { return nil }
        let secret = token[token.index(after: split)...]
        guard secret.utf8.count == 64, secret.utf8.allSatisfy({ (48...57).contains($0) || (97...102).contains($0) })
        else { return nil }
        let name = token[token.index(token.startIndex, offsetBy: prefix.count)..<split]
        return TenantID(String(name))
    }

    static func hash(_ token: String) -> Digest {
        Array(token.utf8).withUnsafeBytes { SHA256.hash($0) }
    }
}

extension String {
    fileprivate func leftPadded(to n: Int) -> String { String(repeating: "0", count: max(0, n - count)) + self }
}

extension LogStore {
    /// Creates a token for `tenant` (creating the tenant if needed) and returns it — the only
    /// time the token is visible; the store keeps its SHA-256.
    public func issueToken(
        tenant: TenantID, role: TokenRole, user: UserID? = nil, label: String = ""
    )
        throws(LogError) -> IssuedToken
    {
        let token = TokenFormat.make(tenant)
        let digest = TokenFormat.hash(token)
        let record = TokenRecord(role: role, user: user, created: Timestamp.now(), revoked: false, label: label)
        try putToken(tenant: tenant, digest: digest, record: record, create: true)
        return IssuedToken(token: token, id: String(digest.description.prefix(12)), tenant: tenant, record: record)
    }

    /// The tenant and record of a presented token; nil when it is malformed, unknown or revoked.
    /// Constant work per call (one LMDB lookup), so no cache can serve a revoked token.
    ///
    /// - Throws: `LogError` when the answer cannot be known now — every open-environment slot
    ///   busy (`tooManyOpenTenants`: retry), or storage failing — as opposed to a token that
    ///   is unknown, revoked or of no tenant (nil).
    public func authenticate(token: String) throws(LogError) -> (tenant: TenantID, record: TokenRecord)? {
        guard let tenant = TokenFormat.tenant(of: token) else { return nil }
        let digest = TokenFormat.hash(token)
        let record: TokenRecord?
        do {
            record = try wrap {
                try withTenant(tenant, create: false) { log in
                    try log.env.read { txn in
                        try digest.withUnsafeBytes { k in
                            try txn.get(log.tokens, key: k) { v in try v.map { try TokenRecord(decoding: $0) } }
                        }
                    }
                }
            }
        } catch {
            if error.code == .tenantNotFound { return nil }
            throw error
        }
        guard let record, !record.revoked else { return nil }
        return (tenant, record)
    }

    /// Revokes the token of `tenant` whose id (or full token) is `idOrToken`. Returns false when
    /// there is no such token.
    public func revokeToken(tenant: TenantID, idOrToken: String) throws(LogError) -> Bool {
        let list = try listTokens(tenant: tenant)
        let wanted =
            TokenFormat.tenant(of: idOrToken) != nil
            ? String(TokenFormat.hash(idOrToken).description.prefix(12)) : idOrToken
        guard wanted.utf8.count >= 8, let match = list.first(where: { $0.id.hasPrefix(wanted) }) else { return false }
        var record = match.record
        record.revoked = true
        try putToken(tenant: tenant, digest: match.digest, record: record, create: false)
        return true
    }

    /// Every token of `tenant` (ids and records, never the tokens).
    public func listTokens(tenant: TenantID) throws(LogError) -> [(id: String, digest: Digest, record: TokenRecord)] {
        do {
            return try withTenant(tenant, create: false) { log in
                try log.env.read { txn in
                    try txn.withCursor(log.tokens) { cursor in
                        var out: [(String, Digest, TokenRecord)] = []
                        var entry = try cursor.first()
                        while let e = entry {
                            if let d = Digest(bytes: e.key) {
                                out.append((String(d.description.prefix(12)), d, try TokenRecord(decoding: e.value)))
                            }
                            entry = try cursor.next()
                        }
                        return out
                    }
                }
            }
        } catch let e as LogError { throw e } catch {
            throw LogError(.io, "cannot read the tokens of \(tenant)", cause: error)
        }
    }

    private func putToken(tenant: TenantID, digest: Digest, record: TokenRecord, create: Bool) throws(LogError) {
        do {
            try withTenant(tenant, create: create) { log in
                try TokenWriter.put(log: log, digest: digest, record: record)
            }
        } catch let e as LogError { throw e } catch {
            throw LogError(.io, "cannot store a token of \(tenant)", cause: error)
        }
    }
}

/// Synchronous LMDB write, kept out of async contexts (a write transaction stays on one thread).
enum TokenWriter {
    static func put(log: TenantLog, digest: Digest, record: TokenRecord) throws {
        let value = record.encode()
        try log.env.write { (txn: inout WriteTransaction) throws in
            try digest.withUnsafeBytes { k in
                try value.withUnsafeBytes { v in try txn.put(log.tokens, key: k, value: v) }
            }
        }
        log.syncNewDirectories()  // a token printed for a new tenant must outlive a power loss
    }
}
