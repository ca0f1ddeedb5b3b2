/// Finds the byte ranges of a top-level JSON array's elements without parsing them, so that
/// each can be handed on by itself (the ingest route validates events one by one, on its fast
/// path where it can).
///
/// It tracks only strings (with their escapes) and bracket depth; it does not check that the
/// elements are valid JSON — the caller parses each one. It answers nil for anything that is
/// not plainly an array of comma-separated values (another top-level value, a missing or
/// trailing comma, unbalanced brackets, content after the array), and the caller then parses
/// the whole document the usual way, which names the problem.
public enum JSONArrayElements {
    /// The elements of the array that fills `bytes` (whitespace aside), trimmed, in order; nil
    /// when `bytes` is not that (see the type's comment).
    public static func split(_ bytes: UnsafeRawBufferPointer) -> [UnsafeRawBufferPointer]? {
        var i = 0
        let n = bytes.count
        func skipWhitespace() {
            while i < n, isWhitespace(bytes[i]) { i += 1 }
        }
        skipWhitespace()
        guard i < n, bytes[i] == ASCII.openBracket else { return nil }
        i += 1
        var elements: [UnsafeRawBufferPointer] = []
        skipWhitespace()
        if i < n, bytes[i] == ASCII.closeBracket {
            i += 1
            skipWhitespace()
            return i == n ? [] : nil
        }
        while true {
            skipWhitespace()
            let start = i
            var depth = 0
            scan: while i < n {
                switch bytes[i] {
                case ASCII.quote:
                    i += 1
                    while i < n, bytes[i] != ASCII.quote {
                        i += bytes[i] == ASCII.backslash ? 2 : 1
                    }
                    guard i < n else { return nil }
                case ASCII.openBrace, ASCII.openBracket:
                    depth += 1
                case ASCII.closeBrace, ASCII.closeBracket:
                    if depth == 0 { break scan }
                    depth -= 1
                case ASCII.comma where depth == 0:
                    break scan
                default:
                    break
                }
                i += 1
            }
            guard i < n, depth == 0 else { return nil }
            var end = i
            while end > start, isWhitespace(bytes[end - 1]) { end -= 1 }
            guard end > start else { return nil }  // an empty element: `[,` or `,]`
            elements.append(UnsafeRawBufferPointer(rebasing: bytes[start..<end]))
            if bytes[i] == ASCII.comma {
                i += 1
                continue
            }
            guard bytes[i] == ASCII.closeBracket else { return nil }  // a `}` closing nothing
            i += 1
            skipWhitespace()
            return i == n ? elements : nil
        }
    }
}
