import Foundation
import Testing
@testable import LogbookCore
import LogbookTestSupport

/// `Timestamp`: RFC 3339 in (`init?(rfc3339:)`) and out (`description`).
///
/// Expected instants are written as microsecond literals computed independently (Python's
/// `datetime`), or derived from Foundation's Gregorian calendar, never from the code under test.
@Suite("Timestamp")
enum TimestampTests {
    /// 2025-03-03T09:15:02Z.
    static let base: Int64 = 1_740_993_302_000_000
    /// 9999-12-31T23:59:59.999999Z, the last instant the parser accepts.
    static let last: Int64 = 253_402_300_799_999_999

    static func parse(_ text: String) -> Int64? { Timestamp(rfc3339: text)?.microseconds }
}

extension TimestampTests {
    @Suite("Parsing RFC 3339")
    struct Parsing {
        @Test("A Z-suffixed timestamp parses to the instant it names, with or without a fraction, either case")
        func zulu() {
            #expect(parse("2025-03-03T09:15:02Z") == base)
            #expect(parse("2025-03-03T09:15:02.345Z") == base + 345_000)
            #expect(parse("2025-03-03t09:15:02.345z") == base + 345_000)
            #expect(parse("1970-01-01T00:00:00Z") == 0)
            #expect(parse("2000-01-01T00:00:00Z") == 946_684_800_000_000)
            #expect(parse("2025-06-01T00:00:00Z") == 1_748_736_000_000_000)
            #expect(parse("9999-12-31T23:59:59.999999Z") == last)
        }

        @Test(
            "A numeric offset is subtracted to give UTC, also across day and month boundaries",
            arguments: [
                ("2025-03-03T11:15:02.345+02:00", base + 345_000),
                ("2025-03-03T03:45:02.345-05:30", base + 345_000),
                ("2025-03-03T09:15:02.345+00:00", base + 345_000),
                ("2025-03-03T09:15:02.345-00:00", base + 345_000),
                ("2025-03-03T23:59:02+14:44", base),
                // 2025-03-01T01:00:00+02:00 is 2025-02-28T23:00:00Z.
                ("2025-03-01T01:00:00+02:00", 1_740_783_600_000_000),
                // 2024-12-31T20:30:00-05:30 is 2025-01-01T02:00:00Z.
                ("2024-12-31T20:30:00-05:30", 1_735_696_800_000_000),
            ] as [(String, Int64)])
        func offsets(text: String, micros: Int64) {
            #expect(parse(text) == micros)
        }

        @Test(
            "A fraction of one to six digits is read as a decimal fraction of a second",
            arguments: [
                (".3", 300_000), (".34", 340_000), (".345", 345_000), (".3456", 345_600), (".34567", 345_670),
                (".345678", 345_678), (".000001", 1), (".000000", 0), (".999999", 999_999), (".05", 50_000),
            ] as [(String, Int64)])
        func shortFractions(fraction: String, micros: Int64) {
            #expect(parse("2025-03-03T09:15:02\(fraction)Z") == base + micros)
            #expect(parse("2025-03-03T11:15:02\(fraction)+02:00") == base + micros)
        }

        @Test(
            "A fraction of seven to nine digits is kept to the microsecond",
            arguments: [
                (".1234560", 123_456), (".12345600", 123_456), (".123456000", 123_456),
                (".1234561", 123_456), (".12345612", 123_456), (".123456123", 123_456),
                (".0000004", 0), (".999999000", 999_999),
            ] as [(String, Int64)])
        func longFractions(fraction: String, micros: Int64) {
            #expect(parse("2025-03-03T09:15:02\(fraction)Z") == base + micros)
            #expect(parse("2025-03-03T11:15:02\(fraction)+02:00") == base + micros)
        }

        @Test("February 29 exists in leap years only (2024, 2000) and not in 2025 or 2100")
        func leapDays() {
            #expect(parse("2024-02-29T00:00:00Z") == 1_709_164_800_000_000)
            #expect(parse("2024-03-01T00:00:00Z") == 1_709_251_200_000_000)
            #expect(parse("2000-02-29T12:00:00Z") == 951_825_600_000_000)
            #expect(parse("2025-02-29T00:00:00Z") == nil)
            #expect(parse("2100-02-29T00:00:00Z") == nil)
            #expect(parse("2024-02-30T00:00:00Z") == nil)
            #expect(parse("2025-02-28T23:59:59.999Z") != nil)
        }

        @Test(
            "Impossible dates and times are rejected",
            arguments: [
                "2025-00-10T10:00:00Z", "2025-13-10T10:00:00Z", "2025-99-10T10:00:00Z",
                "2025-01-00T10:00:00Z", "2025-01-32T10:00:00Z", "2025-04-31T10:00:00Z", "2025-06-31T10:00:00Z",
                "2025-01-10T24:00:00Z", "2025-01-10T25:00:00Z", "2025-01-10T10:60:00Z", "2025-01-10T10:00:61Z",
                "2025-01-10T10:00:00+24:00", "2025-01-10T10:00:00+02:60", "1969-12-31T23:59:59Z",
            ])
        func impossible(text: String) {
            #expect(parse(text) == nil)
        }

        @Test(
            "Text that is not RFC 3339 is rejected",
            arguments: [
                "", "Z", "2025-03-03", "2025-03-03T09:15:02", "2025-03-03T09:15Z", "2025-03-03 09:15:02Z",
                "2025-3-03T09:15:02Z", "2025-03-3T09:15:02Z", "25-03-03T09:15:02Z", "2025/03/03T09:15:02Z",
                "2025-03-03T09:15:02.Z", "2025-03-03T09:15:02.1234567890Z", "2025-03-03T09:15:02,345Z",
                "2025-03-03T09:15:02+0200", "2025-03-03T09:15:02+02", "2025-03-03T09:15:02+2:00",
                "2025-03-03T09:15:02+02:00Z", "2025-03-03T09:15:02Z ", " 2025-03-03T09:15:02Z",
                "2025-03-03T09:15:02ZZ", "2025-03-03T09:15:02.345", "2025-03-03T09:15:02.34a5Z",
                "2025-03-03X09:15:02Z", "2025-03-03T09-15-02Z", "+025-03-03T09:15:02Z", "2025-03-03T09:15:02Q",
                "２０２５-03-03T09:15:02Z", "2025-03-03T09:15:02.345\u{0}Z", "not a timestamp at all!!",
            ])
        func garbage(text: String) {
            #expect(parse(text) == nil)
        }

        @Test("Parsed instants agree with Foundation's Gregorian calendar for random dates, times and offsets")
        func agreesWithFoundation() throws {
            var calendar = Calendar(identifier: .gregorian)
            calendar.timeZone = try #require(TimeZone(secondsFromGMT: 0))
            var g = SeededGenerator(seed: 0x7157)
            for _ in 0..<400 {
                let year = 1971 + Int(g.next() % 8000)
                let month = 1 + Int(g.next() % 12)
                let day = 1 + Int(g.next() % 28)
                let hour = Int(g.next() % 24), minute = Int(g.next() % 60), second = Int(g.next() % 60)
                let micros = Int64(g.next() % 1_000_000)
                let offsetMinutes = Int(g.next() % (2 * 24 * 60 - 1)) - (24 * 60 - 1)
                let sign = offsetMinutes < 0 ? "-" : "+"
                let text =
                    String(
                        format: "%04d-%02d-%02dT%02d:%02d:%02d.%06d", year, month, day, hour, minute, second,
                        Int(micros))
                    + sign + String(format: "%02d:%02d", abs(offsetMinutes) / 60, abs(offsetMinutes) % 60)
                let components = DateComponents(
                    year: year, month: month, day: day, hour: hour, minute: minute, second: second)
                let date = try #require(calendar.date(from: components))
                let expected = (Int64(date.timeIntervalSince1970) - Int64(offsetMinutes) * 60) * 1_000_000 + micros
                #expect(parse(text) == expected, "\(text)")
            }
        }

        /// The parser as first written, a digit at a time: the model the one in use is held to.
        static func reference(_ b: [UInt8]) -> Int64? {
            let n = b.count
            guard n >= 20 else { return nil }
            func digits(_ at: Int, _ count: Int) -> Int? {
                var v = 0
                for i in at..<(at + count) {
                    let d = Int(b[i]) - 48
                    guard (0...9).contains(d) else { return nil }
                    v = v * 10 + d
                }
                return v
            }
            guard let year = digits(0, 4), b[4] == 0x2D, let month = digits(5, 2), b[7] == 0x2D,
                let day = digits(8, 2), b[10] == 0x54 || b[10] == 0x74, let hour = digits(11, 2), b[13] == 0x3A,
                let minute = digits(14, 2), b[16] == 0x3A, let second = digits(17, 2),
                year >= 1970, (1...12).contains(month), day >= 1, day <= Timestamp.daysIn(month: month, year: year),
                hour < 24, minute < 60, second < 60
            else { return nil }
            var i = 19
            var micros = 0
            if b[i] == 0x2E {
                i += 1
                var count = 0
                while i < n, (48...57).contains(b[i]) {
                    if count < 6 { micros = micros * 10 + Int(b[i]) - 48 }
                    count += 1
                    i += 1
                }
                guard (1...9).contains(count) else { return nil }
                for _ in count..<max(count, 6) { micros *= 10 }
            }
            guard i < n else { return nil }
            var offset = 0
            if b[i] == 0x5A || b[i] == 0x7A {
                i += 1
            } else if b[i] == 0x2B || b[i] == 0x2D {
                guard n - i == 6, let oh = digits(i + 1, 2), b[i + 3] == 0x3A, let om = digits(i + 4, 2), oh < 24,
                    om < 60
                else { return nil }
                offset = (oh * 60 + om) * 60 * (b[i] == 0x2B ? 1 : -1)
                i += 6
            } else {
                return nil
            }
            guard i == n else { return nil }
            let days = Timestamp.daysFromCivil(year: year, month: month, day: day)
            return (Int64(days) * 86_400 + Int64(hour * 3600 + minute * 60 + second - offset)) * 1_000_000
                + Int64(micros)
        }

        @Test("Timestamps with one byte changed parse exactly as a digit-at-a-time model does")
        func mutatedAgainstModel() {
            var g = SeededGenerator(seed: 0x7158)
            let replacements = Array("0123456789/:-+.TtZz ".utf8) + [0x00, 0x2F, 0x3A, 0x7F, 0xC3, 0xFF]
            var accepted = 0
            for i in 0..<20_000 {
                var text = Timestamp(microseconds: Int64(g.next() % UInt64(last + 1))).description
                if i % 4 == 0 { text = String(text.dropLast()) + ["+02:00", "-11:30", "+00:00"][i % 3] }
                var bytes = Array(text.utf8)
                bytes[Int(g.next() % UInt64(bytes.count))] = replacements[Int(g.next() % UInt64(replacements.count))]
                let expected = Self.reference(bytes)
                if expected != nil { accepted += 1 }
                #expect(bytes.withUnsafeBytes { Timestamp(rfc3339: $0)?.microseconds } == expected, "\(bytes)")
            }
            #expect(accepted > 2_000 && accepted < 18_000, "both accepted and refused mutations were tried")
        }
    }

    @Suite("Formatting RFC 3339")
    struct Formatting {
        @Test(
            "UTC with Z; milliseconds when the sub-millisecond part is zero, microseconds otherwise",
            arguments: [
                (base, "2025-03-03T09:15:02.000Z"),
                (base + 345_000, "2025-03-03T09:15:02.345Z"),
                (base + 5_000, "2025-03-03T09:15:02.005Z"),
                (base + 345_678, "2025-03-03T09:15:02.345678Z"),
                (base + 345_001, "2025-03-03T09:15:02.345001Z"),
                (base + 1, "2025-03-03T09:15:02.000001Z"),
                (0, "1970-01-01T00:00:00.000Z"),
                (1_709_164_800_000_000, "2024-02-29T00:00:00.000Z"),
                (1_767_225_599_000_000, "2025-12-31T23:59:59.000Z"),
                (last, "9999-12-31T23:59:59.999999Z"),
            ] as [(Int64, String)])
        func format(micros: Int64, text: String) {
            #expect(Timestamp(microseconds: micros).description == text)
        }

        @Test("appendRFC3339 appends the same text as description after existing bytes")
        func append() {
            var out = Array("ts=".utf8)
            Timestamp(microseconds: base + 345_678).appendRFC3339(to: &out)
            #expect(String(decoding: out, as: UTF8.self) == "ts=2025-03-03T09:15:02.345678Z")
        }

        @Test(
            "Random instants from 1970 to 9999 format and parse back to the same value",
            arguments: [0x51, 0x52, 0x53] as [UInt64])
        func roundTrip(seed: UInt64) {
            var g = SeededGenerator(seed: seed)
            for i in 0..<3000 {
                var micros = Int64(g.next() % UInt64(last + 1))
                if i % 3 == 0 { micros -= micros % 1000 }  // a third on whole milliseconds
                if i % 9 == 0 { micros -= micros % 1_000_000 }  // some on whole seconds
                let text = Timestamp(microseconds: micros).description
                let subMilli = micros % 1000 != 0
                #expect(text.utf8.count == (subMilli ? 27 : 24), "\(text)")
                #expect(text.hasSuffix("Z"))
                #expect(parse(text) == micros, "\(micros) → \(text)")
            }
        }
    }
}
