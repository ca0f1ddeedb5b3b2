import Foundation
import Hummingbird
import HummingbirdTesting
import LogbookCore
import LogbookServer
import Logging
import NIOCore
import Prometheus
import Synchronization
import Testing

/// The operator token the admin tests configure.
let operatorToken = String(repeating: "op", count: 20)

extension ServerConfiguration {
    /// Defaults plus `operatorToken`.
    static func withOperator() throws -> ServerConfiguration {
        var config = ServerConfiguration()
        try config.setOperatorToken(operatorToken)
        return config
    }
}

/// A logger that drops everything: the request log lines are tested on their own.
let quietLogger = Logger(label: "test") { _ in SwiftLogNoOpLogHandler() }

/// Sends one request with an optional bearer token and JSON (or other) body.
func send(
    _ client: some TestClientProtocol, _ method: HTTPRequest.Method, _ uri: String, token: String? = nil,
    body: String? = nil, type: String = "application/json"
) async throws -> TestResponse {
    var headers: HTTPFields = [:]
    if let token { headers[.authorization] = "Bearer \(token)" }
    if body != nil { headers[.contentType] = type }
    return try await client.execute(
        uri: uri, method: method, headers: headers, body: body.map { ByteBuffer(string: $0) })
}

/// Checks every response against the spec: the operation exists and documents the status.
/// Records which operations were exercised, so a test can demand all of them.
final class SpecChecker: Sendable {
    let document = OpenAPISpec.document
    private let visited = Mutex<Set<String>>([])

    var visitedOperations: Set<String> { visited.withLock { $0 } }

    /// `template` is the spec's path (`/v1/tokens/{id}`); `uri` the concrete one.
    func call(
        _ client: some TestClientProtocol, _ method: HTTPRequest.Method, _ template: String, uri: String? = nil,
        token: String? = nil, body: String? = nil, type: String = "application/json",
        sourceLocation: SourceLocation = #_sourceLocation
    ) async throws -> TestResponse {
        let response = try await send(client, method, uri ?? template, token: token, body: body, type: type)
        visited.withLock { _ = $0.insert("\(method.rawValue) \(template)") }
        guard let operation = document.operation(method.rawValue, template) else {
            Issue.record("\(method) \(template) is not in specs/openapi.yaml", sourceLocation: sourceLocation)
            return response
        }
        guard let documented = operation.response(status: Int(response.status.code)) else {
            Issue.record(
                "\(method) \(template) answered \(response.status.code), which the spec does not document",
                sourceLocation: sourceLocation)
            return response
        }
        // The body's media type is one the spec lists for that status (none when it lists none).
        let mediaType = response.headers[.contentType].map { String($0.prefix { $0 != ";" }) }
        #expect(
            mediaType.map(documented.contentTypes.contains) ?? documented.contentTypes.isEmpty,
            "\(method) \(template) \(response.status.code) sent \(mediaType ?? "no body type")",
            sourceLocation: sourceLocation)
        return response
    }
}
