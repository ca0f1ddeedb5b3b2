import LogbookJSON
import LogbookTestSupport

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Parses text through the byte-buffer entry point, which every other entry point funnels into.
func parse(_ text: String, limits: JSONParser.Limits = .default) throws(JSONError) -> JSONValue {
    try JSONParser.parse(Array(text.utf8), limits: limits)
}

/// The compact serialisation of a value, as text.
func serialize(_ value: JSONValue) -> String {
    var writer = JSONWriter()
    writer.write(value)
    return String(decoding: writer.bytes, as: UTF8.self)
}

/// Holds bytes so that they end exactly where an inaccessible page begins: a parser that reads even one byte
/// past the end crashes the test instead of silently reading neighbouring memory.
final class GuardedBuffer {
    private let region: UnsafeMutableRawPointer
    private let regionSize: Int
    let bytes: UnsafeRawBufferPointer

    init(_ content: [UInt8]) {
        let pageSize = Int(sysconf(Int32(_SC_PAGESIZE)))
        let dataPages = (content.count + pageSize - 1) / pageSize
        regionSize = (dataPages + 1) * pageSize
        guard
            let mapped = mmap(nil, regionSize, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0),
            mapped != MAP_FAILED
        else {
            fatalError("mmap failed")
        }
        region = mapped
        let guardPage = region + dataPages * pageSize
        guard mprotect(guardPage, pageSize, PROT_NONE) == 0 else {
            fatalError("mprotect failed")
        }
        let start = guardPage - content.count
        content.withUnsafeBytes { source in
            if let base = source.baseAddress {
                start.copyMemory(from: base, byteCount: content.count)
            }
        }
        bytes = UnsafeRawBufferPointer(start: start, count: content.count)
    }

    deinit {
        munmap(region, regionSize)
    }
}

/// Random JSON values for property tests; every object's keys are distinct under `String` equality, as the
/// parser requires.
struct ValueGenerator {
    var random: SeededGenerator

    /// Scalars chosen to stress escaping and UTF-8: quotes, backslashes, every control character class,
    /// DEL, two- three- and four-byte sequences, a combining mark, line separators and the last scalar.
    private static let palette: [Unicode.Scalar] = [
        "a", "b", "Z", "0", " ", "\"", "\\", "/", "\n", "\r", "\t", "\u{08}", "\u{0C}", "\u{00}", "\u{01}",
        "\u{1F}", "\u{7F}", "é", "ß", "€", "中", "😀", "\u{301}", "\u{2028}", "\u{FFFF}", "\u{10FFFF}", "K",
        "\u{212A}",
    ]

    mutating func string(maxLength: Int = 12) -> String {
        var scalars = String.UnicodeScalarView()
        // Mostly short ASCII, sometimes long enough to exercise the eight-byte scanning.
        let length = Int.random(in: 0...(Bool.random(using: &random) ? maxLength : maxLength * 4), using: &random)
        for _ in 0..<length {
            if Int.random(in: 0..<4, using: &random) == 0 {
                scalars.append(Self.palette.randomElement(using: &random)!)
            } else {
                scalars.append(Unicode.Scalar(UInt8.random(in: 0x20...0x7E, using: &random)))
            }
        }
        return String(scalars)
    }

    mutating func double() -> Double {
        switch Int.random(in: 0..<4, using: &random) {
        case 0:
            // Any finite bit pattern, including subnormals.
            while true {
                let candidate = Double(bitPattern: random.next())
                if candidate.isFinite {
                    return candidate
                }
            }
        case 1:
            // Short decimals like the durations in events.
            return Double(Int.random(in: -1_000_000...1_000_000, using: &random)) / 1000
        case 2:
            return [
                0.0, -0.0, 0.1, 1e16, .leastNonzeroMagnitude, 2.2250738585072014e-308, .greatestFiniteMagnitude, 12.0,
            ]
            .randomElement(using: &random)!
        default:
            return Double.random(in: -1e6...1e6, using: &random)
        }
    }

    mutating func value(depth: Int = 0) -> JSONValue {
        let kinds = depth >= 4 ? 5 : 7
        switch Int.random(in: 0..<kinds, using: &random) {
        case 0:
            return .null
        case 1:
            return .bool(Bool.random(using: &random))
        case 2:
            if Bool.random(using: &random) {
                return .integer(Int64(bitPattern: random.next()))
            }
            return .integer(Int64.random(in: -1000...1000, using: &random))
        case 3:
            return .double(double())
        case 4:
            return .string(string())
        case 5:
            let count = Int.random(in: 0...5, using: &random)
            return .array((0..<count).map { _ in value(depth: depth + 1) })
        default:
            // Occasionally past the parser's linear duplicate-check limit.
            let count = Int.random(in: 0...(Int.random(in: 0..<8, using: &random) == 0 ? 24 : 5), using: &random)
            var keys = Set<String>()
            var members: [(key: String, value: JSONValue)] = []
            while members.count < count {
                let key = string(maxLength: 6)
                if keys.insert(key).inserted {
                    members.append((key: key, value: value(depth: depth + 1)))
                }
            }
            return .object(JSONObject(members))
        }
    }
}
