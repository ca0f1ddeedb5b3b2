import Testing
@testable import LogbookCore
import LogbookTestSupport

@Suite("Tokens")
struct TokenTests {
    @Test("a token check when every open slot is busy says so (retry), never 'unknown token'")
    func authenticateWhenBusy() throws {
        let dir = TemporaryDirectory()
        var options = testOptions()
        options.maxOpenTenants = 1
        let store = try LogStore(directory: dir.path, options: options)
        defer { store.close() }
        let (a, b) = (TenantID("busy-a")!, TenantID("busy-b")!)
        let tokenB = try store.issueToken(tenant: b, role: .agent).token
        _ = try store.issueToken(tenant: a, role: .agent)
        #expect(try store.authenticate(token: tokenB)?.tenant == b)
        // While a's environment is pinned, b's cannot be opened: a typed, retryable error.
        try store.withTenant(a, create: false) { _ in
            let error = #expect(throws: LogError.self) { try store.authenticate(token: tokenB) }
            #expect(error?.code == .tooManyOpenTenants)
        }
        // A token of a tenant that does not exist is simply unknown.
        #expect(try store.authenticate(token: tokenB.replacingOccurrences(of: "busy-b", with: "busy-c")) == nil)
        #expect(try store.authenticate(token: tokenB)?.tenant == b)
    }
}
