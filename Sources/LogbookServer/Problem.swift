public import Hummingbird
import LogbookCore
import LogbookJSON
import Logging
import NIOCore

/// An RFC 9457 problem: the one shape every error response has (`application/problem+json`).
/// Details name what is wrong; they never echo payloads or tokens.
public struct Problem: Error, HTTPResponseError, Sendable {
    public var status: HTTPResponse.Status
    public var type: String
    public var detail: String
    public var headers: HTTPFields = [:]
    /// Extra members (e.g. per-event results).
    var extra: (@Sendable (inout JSONWriter) -> Void)?

    public init(_ status: HTTPResponse.Status, type: String, detail: String) {
        self.status = status
        self.type = type
        self.detail = detail
    }

    static func unauthorized(_ detail: String) -> Problem {
        var p = Problem(.unauthorized, type: "unauthorized", detail: detail)
        p.headers[.wwwAuthenticate] = "Bearer"
        return p
    }

    static func forbidden(_ detail: String) -> Problem { Problem(.forbidden, type: "forbidden", detail: detail) }
    static func badRequest(_ detail: String) -> Problem { Problem(.badRequest, type: "bad_request", detail: detail) }

    /// The answer for a store error while reading `what` ("the log", "the projections") of
    /// `tenant`: invalid arguments are 400 (their messages name the parameter and hold no
    /// data), a missing tenant 404, busy and shutting down 503, anything else a 500 that names
    /// no internals (the error itself goes to `logger`).
    static func readFailed(
        _ error: LogError, reading what: String, of tenant: TenantID, retryAfterSeconds: Int, logger: Logger?
    ) -> Problem {
        switch error.code {
        case .invalidArgument:
            return Problem.badRequest(error.message.replacingOccurrences(of: "`", with: ""))
        case .tenantNotFound:
            return Problem(.notFound, type: "tenant_not_found", detail: "tenant \(tenant) has no log")
        case .tooManyOpenTenants:
            var p = Problem(.serviceUnavailable, type: "busy", detail: "the server is busy; retry")
            p.headers[.retryAfter] = String(retryAfterSeconds)
            return p
        case .closed:
            return Problem(.serviceUnavailable, type: "shutting_down", detail: "the server is shutting down")
        default:
            logger?.error("read failed", metadata: ["tenant": "\(tenant)", "reading": "\(what)", "error": "\(error)"])
            return Problem(.internalServerError, type: "storage_error", detail: "\(what) could not be read")
        }
    }

    public func response(from request: Request, context: some RequestContext) throws -> Response {
        var w = JSONWriter(capacity: 256)
        w.beginObject()
        w.writeKey("type")
        w.writeString("https://logbook.invalid/problems/\(type)")
        w.writeKey("title")
        w.writeString(status.reasonPhrase)
        w.writeKey("status")
        w.writeInteger(Int64(status.code))
        w.writeKey("detail")
        w.writeString(detail)
        extra?(&w)
        w.endObject()
        var headers = headers
        headers[.contentType] = "application/problem+json"
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: w.bytes)))
    }
}

/// A JSON response from writer bytes.
func jsonResponse(_ status: HTTPResponse.Status = .ok, _ bytes: [UInt8]) -> Response {
    Response(
        status: status, headers: [.contentType: "application/json"],
        body: .init(byteBuffer: ByteBuffer(bytes: bytes)))
}
