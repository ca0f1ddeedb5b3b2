import Foundation

/// A point in time: microseconds since 1970-01-01T00:00:00Z (UTC, no leap seconds).
public struct Timestamp: Sendable, Hashable, Comparable, CustomStringConvertible {
    public var microseconds: Int64

    public init(microseconds: Int64) { self.microseconds = microseconds }

    /// The current wall-clock time.
    public static func now() -> Timestamp {
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        return Timestamp(microseconds: Int64(ts.tv_sec) * 1_000_000 + Int64(ts.tv_nsec) / 1000)
    }

    public static func < (a: Timestamp, b: Timestamp) -> Bool { a.microseconds < b.microseconds }

    public static let min = Timestamp(microseconds: .min)
    public static let max = Timestamp(microseconds: .max)

    /// Parses RFC 3339 (`2025-03-03T09:15:02.345Z`, `…+02:00`, up to 9 fraction digits, kept to
    /// the microsecond). Years 1970–9999. Nil on anything else.
    public init?(rfc3339 bytes: UnsafeRawBufferPointer) {
        let n = bytes.count
        guard n >= 20 else { return nil }
        // Two digits at a time, without a loop: every event has a timestamp, and a digit loop
        // with its range checks took about 600 instructions of a line's 9,000.
        @inline(__always)
        func two(_ at: Int) -> Int? {
            let a = bytes[at] &- 48
            let b = bytes[at + 1] &- 48
            guard a < 10, b < 10 else { return nil }
            return Int(a) * 10 + Int(b)
        }
        guard let century = two(0), let yy = two(2), bytes[4] == UInt8(ascii: "-"), let month = two(5),
            bytes[7] == UInt8(ascii: "-"), let day = two(8),
            bytes[10] == UInt8(ascii: "T") || bytes[10] == UInt8(ascii: "t"),
            let hour = two(11), bytes[13] == UInt8(ascii: ":"), let minute = two(14),
            bytes[16] == UInt8(ascii: ":"), let second = two(17)
        else { return nil }
        let year = century * 100 + yy
        guard year >= 1970, (1...12).contains(month), day >= 1, day <= Self.daysIn(month: month, year: year),
            hour < 24, minute < 60, second < 60
        else { return nil }
        var i = 19
        var micros = 0
        if i < n, bytes[i] == UInt8(ascii: ".") {
            i += 1
            var count = 0
            while i < n, (48...57).contains(bytes[i]) {
                if count < 6 { micros = micros * 10 + Int(bytes[i]) - 48 }
                count += 1
                i += 1
            }
            guard (1...9).contains(count) else { return nil }
            var scale = count
            while scale < 6 {
                micros *= 10
                scale += 1
            }
        }
        guard i < n else { return nil }
        var offset = 0
        switch bytes[i] {
        case UInt8(ascii: "Z"), UInt8(ascii: "z"):
            i += 1
        case UInt8(ascii: "+"), UInt8(ascii: "-"):
            guard n - i == 6, let oh = two(i + 1), bytes[i + 3] == UInt8(ascii: ":"), let om = two(i + 4),
                oh < 24, om < 60
            else { return nil }
            offset = (oh * 60 + om) * 60 * (bytes[i] == UInt8(ascii: "+") ? 1 : -1)
            i += 6
        default:
            return nil
        }
        guard i == n else { return nil }
        let days = Self.daysFromCivil(year: year, month: month, day: day)
        let secs = Int64(days) * 86_400 + Int64(hour * 3600 + minute * 60 + second - offset)
        microseconds = secs * 1_000_000 + Int64(micros)
    }

    /// Parses RFC 3339 text.
    public init?(rfc3339 text: String) {
        var text = text
        guard let t = text.withUTF8({ Timestamp(rfc3339: UnsafeRawBufferPointer($0)) }) else { return nil }
        self = t
    }

    /// UTC, `Z`-suffixed; milliseconds when the sub-millisecond part is zero, else microseconds.
    public func appendRFC3339(to out: inout [UInt8]) {
        var secs = microseconds / 1_000_000
        var micros = microseconds % 1_000_000
        if micros < 0 {
            micros += 1_000_000
            secs -= 1
        }
        var days = secs / 86_400
        var rem = secs % 86_400
        if rem < 0 {
            rem += 86_400
            days -= 1
        }
        let (y, m, d) = Self.civilFromDays(Int(days))
        func put(_ v: Int, _ width: Int) {
            var div = 1
            for _ in 1..<width { div *= 10 }
            var v = v
            while div > 0 {
                out.append(UInt8(48 + (v / div) % 10))
                v %= div
                div /= 10
            }
        }
        put(y, 4); out.append(UInt8(ascii: "-")); put(m, 2); out.append(UInt8(ascii: "-")); put(d, 2)
        out.append(UInt8(ascii: "T"))
        put(Int(rem / 3600), 2); out.append(UInt8(ascii: ":")); put(Int(rem / 60 % 60), 2)
        out.append(UInt8(ascii: ":")); put(Int(rem % 60), 2)
        out.append(UInt8(ascii: "."))
        if micros % 1000 == 0 { put(Int(micros / 1000), 3) } else { put(Int(micros), 6) }
        out.append(UInt8(ascii: "Z"))
    }

    public var description: String {
        var out = [UInt8]()
        appendRFC3339(to: &out)
        return String(decoding: out, as: UTF8.self)
    }

    static func daysIn(month: Int, year: Int) -> Int {
        switch month {
        case 2: (year % 4 == 0 && (year % 100 != 0 || year % 400 == 0)) ? 29 : 28
        case 4, 6, 9, 11: 30
        default: 31
        }
    }

    // Howard Hinnant's days-from-civil algorithms (proleptic Gregorian calendar).
    static func daysFromCivil(year: Int, month: Int, day: Int) -> Int {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let doy = (153 * (month + (month > 2 ? -3 : 9)) + 2) / 5 + day - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return era * 146_097 + doe - 719_468
    }

    static func civilFromDays(_ z: Int) -> (Int, Int, Int) {
        let z = z + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let d = doy - (153 * mp + 2) / 5 + 1
        let m = mp < 10 ? mp + 3 : mp - 9
        return (yoe + era * 400 + (m <= 2 ? 1 : 0), m, d)
    }
}
