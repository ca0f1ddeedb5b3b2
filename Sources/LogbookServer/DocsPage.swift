/// The human-readable API page served at `GET /api/docs`: rendered once from the embedded spec,
/// self-contained (inline CSS, no scripts, nothing fetched from the network).
enum DocsPage {
    static func render(_ doc: OpenAPIDocument, yaml: String) -> String {
        var html = """
            <!doctype html>
            <html lang="en"><head><meta charset="utf-8">
            <meta name="viewport" content="width=device-width, initial-scale=1">
            <title>\(escape(doc.title)) API \(escape(doc.version))</title>
            <style>
            body{font:15px/1.5 system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem;color:#222}
            code,pre{font:13px ui-monospace,monospace}pre{background:#f6f6f6;padding:1rem;overflow:auto}
            .m{display:inline-block;min-width:4.5rem;font-weight:bold}.op{border-top:1px solid #ddd;padding-top:.5rem}
            table{border-collapse:collapse}td,th{border:1px solid #ddd;padding:.2rem .5rem;text-align:left}
            </style></head><body>
            <h1>\(escape(doc.title)) API <small>\(escape(doc.version))</small></h1>
            <p>\(escape(doc.description))</p>
            <p>The machine-readable spec: <a href="/api/schema">/api/schema</a> (OpenAPI 3.1, YAML).</p>
            <h2>Operations</h2><ul>

            """
        for op in doc.operations {
            html +=
                "<li><a href=\"#\(anchor(op))\"><span class=m>\(op.method)</span><code>\(escape(op.path))</code></a>"
            html += " — \(escape(op.summary))</li>\n"
        }
        html += "</ul>\n"
        for op in doc.operations {
            html += "<section class=op id=\"\(anchor(op))\"><h3><span class=m>\(op.method)</span>"
            html += "<code>\(escape(op.path))</code></h3>\n<p><b>\(escape(op.summary))</b>"
            html += op.authenticated ? " (bearer token)" : " (no token)"
            html += "</p>\n"
            if !op.description.isEmpty { html += "<p>\(escape(op.description))</p>\n" }
            if !op.parameters.isEmpty {
                html += "<table><tr><th>parameter</th><th>in</th><th>required</th><th>description</th></tr>\n"
                for p in op.parameters {
                    html += "<tr><td><code>\(escape(p.name))</code></td><td>\(escape(p.location))</td>"
                    html += "<td>\(p.required ? "yes" : "no")</td><td>\(escape(p.description))</td></tr>\n"
                }
                html += "</table>\n"
            }
            html += "<table><tr><th>status</th><th>response</th></tr>\n"
            for r in op.responses {
                html += "<tr><td>\(escape(r.status))</td><td>\(escape(r.description))</td></tr>\n"
            }
            html += "</table></section>\n"
        }
        html += "<h2 id=spec>The full spec</h2>\n<pre>\(escape(yaml))</pre>\n</body></html>\n"
        return html
    }

    static func anchor(_ op: OpenAPIDocument.Operation) -> String {
        op.method.lowercased() + op.path.map { $0.isLetter || $0.isNumber ? String($0) : "-" }.joined()
    }

    static func escape(_ text: String) -> String {
        var out = ""
        out.reserveCapacity(text.utf8.count)
        for c in text {
            switch c {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            default: out.append(c)
            }
        }
        return out
    }
}
