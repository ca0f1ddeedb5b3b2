import Yams

/// What the docs page and the route/spec drift test need from specs/openapi.yaml: its operations
/// with their parameters and documented responses (`$ref`s to components resolved).
public struct OpenAPIDocument: Sendable {
    public struct Parameter: Sendable {
        public var name: String
        public var location: String
        public var required: Bool
        public var description: String
    }

    public struct Response: Sendable {
        /// "200", "4XX" or "default".
        public var status: String
        public var description: String
        /// Media types of the body, e.g. `application/problem+json`; empty when there is none.
        public var contentTypes: [String]
    }

    public struct Operation: Sendable {
        public var path: String
        /// Upper case, e.g. "GET".
        public var method: String
        public var summary: String
        public var description: String
        /// Whether a bearer token is required (no `security: []` override).
        public var authenticated: Bool
        public var parameters: [Parameter]
        public var responses: [Response]

        /// The response documented for `status` (exactly, as `4XX`, or `default`).
        public func response(status: Int) -> Response? {
            responses.first { $0.status == String(status) } ?? responses.first { $0.status == "\(status / 100)XX" }
                ?? responses.first { $0.status == "default" }
        }
    }

    public var title: String
    public var version: String
    public var description: String
    public var operations: [Operation]

    static let methods = ["get", "put", "post", "delete", "options", "head", "patch", "trace"]

    /// Parses an OpenAPI 3.1 document.
    ///
    /// - Throws: `ConfigurationError` naming what is missing, or Yams's error for invalid YAML.
    public init(yaml: String) throws {
        guard let root = try Yams.compose(yaml: yaml), let paths = root["paths"]?.mapping else {
            throw ConfigurationError("the OpenAPI document has no paths")
        }
        title = root["info"]?["title"]?.string ?? ""
        version = root["info"]?["version"]?.string ?? ""
        description = root["info"]?["description"]?.string ?? ""
        let globalSecurity = !(root["security"]?.array().isEmpty ?? true)
        func resolve(_ node: Node) -> Node {
            guard let ref = node["$ref"]?.string, ref.hasPrefix("#/") else { return node }
            var target: Node? = root
            for part in ref.dropFirst(2).split(separator: "/") { target = target?[String(part)] }
            return target ?? node
        }
        var operations: [Operation] = []
        for (pathNode, item) in paths {
            guard let path = pathNode.string else { continue }
            let shared = item["parameters"]?.array() ?? []
            for (methodNode, op) in item.mapping ?? [:] {
                guard let method = methodNode.string, Self.methods.contains(method) else { continue }
                let parameters = (shared + (op["parameters"]?.array() ?? [])).map(resolve).map { p in
                    Parameter(
                        name: p["name"]?.string ?? "", location: p["in"]?.string ?? "",
                        required: p["required"]?.bool ?? false, description: p["description"]?.string ?? "")
                }
                let responses = (op["responses"]?.mapping ?? [:]).map { status, response in
                    let response = resolve(response)
                    return Response(
                        status: status.string ?? "", description: response["description"]?.string ?? "",
                        contentTypes: response["content"]?.mapping?.keys.compactMap(\.string) ?? [])
                }
                let security = op["security"].map { !$0.array().isEmpty } ?? globalSecurity
                operations.append(
                    Operation(
                        path: path, method: method.uppercased(), summary: op["summary"]?.string ?? "",
                        description: op["description"]?.string ?? "", authenticated: security,
                        parameters: parameters, responses: responses))
            }
        }
        self.operations = operations
    }

    /// The operation documented for `method` on the path template `path` (`{name}` captures).
    public func operation(_ method: String, _ path: String) -> Operation? {
        operations.first { $0.method == method.uppercased() && $0.path == path }
    }
}

/// The spec this server was built with.
public enum OpenAPISpec {
    /// specs/openapi.yaml, embedded at build time (tools/embed-openapi).
    public static let yaml = embeddedOpenAPIYAML

    /// The embedded spec, parsed. A parse failure is a build defect the tests catch first.
    public static let document: OpenAPIDocument = {
        do { return try OpenAPIDocument(yaml: yaml) } catch {
            fatalError("the embedded OpenAPI spec is invalid: \(error)")
        }
    }()
}
