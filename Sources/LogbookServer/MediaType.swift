import HTTPTypes
import Hummingbird

extension Request {
    /// The request's media type: its `Content-Type` before any parameters, without surrounding
    /// spaces or tabs, lower-cased; "" when there is none. Byte by byte: Foundation's
    /// `trimmingCharacters(in:)` cost about 12 µs per request.
    var mediaType: String {
        guard let value = headers[.contentType] else { return "" }
        var bytes = Array(value.utf8.prefix { $0 != UInt8(ascii: ";") })
        let blank = { (c: UInt8) in c == UInt8(ascii: " ") || c == UInt8(ascii: "\t") }
        while let last = bytes.last, blank(last) { bytes.removeLast() }
        let start = bytes.firstIndex { !blank($0) } ?? bytes.count
        return String(decoding: bytes[start...].map { $0 | ($0 >= 0x41 && $0 <= 0x5A ? 0x20 : 0) }, as: UTF8.self)
    }
}
