import Foundation
import Testing
@testable import LogbookCore
import LogbookJSON
import LogbookTestSupport

/// `EventValidator`: which wire lines become events, and the exact code and field of every refusal.
@Suite("Validation")
enum ValidationTests {
    /// 2025-06-01T00:00:00Z, the server clock of these tests.
    static let now = Timestamp(microseconds: 1_748_736_000_000_000)
    static let hour: Int64 = 3_600_000_000
    static let id = "0b6e7f8a-1c2d-4e3f-8a9b-0c1d2e3f4a5b"
    static let user = "6b9f2ec5-1cfd-4033-aa22-a9dc692301fc"
    static let other = "3ae8f51c-053b-4da3-a104-9780b03ab5c9"
    /// 2025-05-31T12:00:00Z.
    static let ts = "2025-05-31T12:00:00.000Z"
    static let windowData = #"{"app":"Code","title":"main.swift"}"#

    // MARK: Building lines

    /// `s` as a JSON string literal.
    static func q(_ s: String) -> String {
        var w = JSONWriter()
        w.writeString(s)
        return String(decoding: w.bytes, as: UTF8.self)
    }

    /// A JSON object from raw member values, in order.
    static func obj(_ members: [(String, String)]) -> String {
        "{" + members.map { "\(q($0.0)):\($0.1)" }.joined(separator: ",") + "}"
    }

    /// One wire line. Values are raw JSON; nil leaves the member out; `extra` members go last.
    static func line(
        type: String? = q("activity.window"), id: String? = q(id), tenant: String? = q("acme"),
        user: String? = q(user), ts: String? = q(ts), duration: String? = "12.5", data: String? = windowData,
        extra: [(String, String)] = []
    ) -> String {
        let members: [(String, String?)] = [
            ("id", id), ("tenant", tenant), ("type", type), ("user", user), ("ts", ts), ("duration", duration),
            ("data", data),
        ]
        return obj(members.compactMap { k, v in v.map { (k, $0) } } + extra)
    }

    /// A line of a type without a duration.
    static func line(_ type: String, data: String, user: String? = q(user), id: String = q(id)) -> String {
        line(type: q(type), id: id, user: user, duration: nil, data: data)
    }

    /// An activity.window line whose title is `title`.
    static func window(title: String) -> String {
        line(data: obj([("app", q("Code")), ("title", q(title))]))
    }

    /// An activity.window line with occurred-at `micros`.
    static func window(at micros: Int64) -> String {
        line(ts: q(Timestamp(microseconds: micros).description))
    }

    // MARK: Validating

    static func validate(bytes: [UInt8], now: Timestamp = now) throws(ValidationError) -> EventValidator.Validated {
        let result = bytes.withUnsafeBytes { buffer in
            Result { () throws(ValidationError) in try EventValidator(now: now).validate(line: buffer) }
        }
        return try result.get()
    }

    static func validate(_ line: String, now: Timestamp = now) throws(ValidationError) -> EventValidator.Validated {
        try validate(bytes: Array(line.utf8), now: now)
    }

    /// Expects `line` to be refused with `code` at `field`; returns the error.
    @discardableResult
    static func expectRejected(
        _ line: String, _ code: ValidationError.Code, at field: String,
        sourceLocation: SourceLocation = #_sourceLocation
    ) -> ValidationError? {
        let error = #expect(throws: ValidationError.self, "\(line)", sourceLocation: sourceLocation) {
            try validate(line)
        }
        #expect(error?.code == code, "\(line)", sourceLocation: sourceLocation)
        #expect(error?.field == field, "\(line)", sourceLocation: sourceLocation)
        return error
    }
}

// MARK: - Accepted events

extension ValidationTests {
    @Suite("Valid events are accepted and converted")
    struct Accepted {
        @Test("A valid activity.window line becomes the event it describes")
        func window() throws {
            let v = try validate(line(extra: [("actor", q("agent:laptop-1"))]))
            #expect(v.tenant == TenantID("acme"))
            #expect(v.event.id == UUID128(id))
            #expect(v.event.type == .activityWindow)
            #expect(v.event.subject == UUID128(user))
            #expect(v.event.actor == "agent:laptop-1")
            #expect(v.event.occurredAt == Timestamp(microseconds: now.microseconds - 12 * hour))
            #expect(v.event.duration == 12_500_000)
            #expect(v.event.data == [Field(.app, .string("Code")), Field(.title, .string("main.swift"))])
            #expect(v.event.sequence == 0)
        }

        @Test("Payload fields come out in catalogue order whatever their order on the wire")
        func catalogueOrder() throws {
            let v = try validate(
                line(data: obj([("url", q("https://example.com")), ("title", q("t")), ("app", q("a"))])))
            #expect(v.event.data.map(\.key) == [.app, .title, .url])
        }

        @Test("settings.changed without a user is accepted as a tenant-wide event")
        func settingsWithoutUser() throws {
            let v = try validate(
                line("settings.changed", data: #"{"key":"timezone","value":{"tz":"Europe/Berlin"}}"#, user: nil))
            #expect(v.event.type == .settingsChanged)
            #expect(v.event.subject == nil)
            #expect(v.event[.key] == .string("timezone"))
            #expect(v.event[.value] == .string(#"{"tz":"Europe/Berlin"}"#))
        }

        @Test("event.corrected with a set of catalogue fields is accepted with the set sorted by field")
        func correction() throws {
            let v = try validate(
                line(
                    "event.corrected", data: obj([("target", q(other)), ("set", #"{"title":"(private)","app":"X"}"#)])))
            #expect(v.event[.target] == .uuid(UUID128(other)!))
            #expect(v.event[.set] == .fields([Field(.app, .string("X")), Field(.title, .string("(private)"))]))
        }

        @Test("A user of null counts as no user")
        func nullUser() throws {
            let v = try validate(line("retention.policy_set", data: #"{"class":"activity","days":30}"#, user: "null"))
            #expect(v.event.subject == nil)
            expectRejected(line(user: "null"), .missingField, at: "user")
        }
    }

    @Suite("The workload generator's events validate")
    struct Workload {
        /// The package root: this file is Tests/LogbookCoreTests/ValidationTests.swift.
        static let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent()
        /// In a fresh clone `shared/` sits next to the package root.
        static let script = packageRoot.deletingLastPathComponent().appendingPathComponent(
            "shared/workload/generate.py")
        static let python3: String? = {
            let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
            return path.split(separator: ":").map { "\($0)/python3" }.first {
                FileManager.default.isExecutableFile(atPath: $0)
            }
        }()
        static let available = python3 != nil && FileManager.default.fileExists(atPath: script.path)

        @Test(
            "The first 200 lines of a --mix full workload validate, and every type in it is accepted",
            .enabled(if: available, "needs python3 on PATH and ../shared/workload/generate.py beside the package root"))
        func generatedWorkload() throws {
            let dir = TemporaryDirectory()
            let out = dir.path + "/full.ndjson"
            let generated = try runChild(
                try #require(Self.python3), [Self.script.path, out, "--n", "2000", "--mix", "full"])
            try #require(generated.status == 0, "generate.py failed")

            let lines = try Data(contentsOf: URL(fileURLWithPath: out)).split(separator: UInt8(ascii: "\n"))
                .map { Array($0) }
            try #require(lines.count == 2000)
            var firstOfType: [String: [UInt8]] = [:]
            for bytes in lines {
                guard case .object(let o) = try JSONParser.parse(bytes), case .string(let type)? = o["type"] else {
                    Issue.record("generated line is not an object with a type")
                    continue
                }
                if firstOfType[type] == nil { firstOfType[type] = bytes }
            }
            #expect(
                Set(firstOfType.keys).isSuperset(of: [
                    "activity.window", "activity.afk", "attendance.clock_in", "user.invited", "event.corrected",
                    "event.retracted",
                ]))

            let validator = EventValidator(now: now)
            func check(_ bytes: [UInt8]) {
                do throws(ValidationError) {
                    let v = try bytes.withUnsafeBytes { buffer in
                        Result { () throws(ValidationError) in try validator.validate(line: buffer) }
                    }.get()
                    guard case .object(let o) = try? JSONParser.parse(bytes) else { return }
                    #expect(o["type"] == .string(v.event.type.name))
                    #expect(o["id"] == .string(v.event.id.description))
                    #expect(o["user"] == v.event.subject.map { JSONValue.string($0.description) })
                    #expect(o["tenant"] == v.tenant.map { JSONValue.string($0.rawValue) })
                } catch {
                    Issue.record("rejected \(error): \(String(decoding: bytes, as: UTF8.self))")
                }
            }
            for bytes in lines.prefix(200) { check(bytes) }
            for (_, bytes) in firstOfType.sorted(by: { $0.key < $1.key }) { check(bytes) }
        }
    }
}

// MARK: - One test per rule

extension ValidationTests {
    @Suite("Each rule refuses with its code and field")
    struct Rules {
        @Test(
            "A type outside the catalogue is refused as unknownType at type",
            arguments: ["activity.keylogger", "", "Activity.Window", "activity.window "])
        func unknownType(type: String) {
            expectRejected(line(type: q(type)), .unknownType, at: "type")
        }

        @Test(
            "A member outside the v1 envelope is refused as unknownField at its name",
            arguments: ["seq", "recorded", "password", "Data", "screenshot"])
        func unknownEnvelopeField(name: String) {
            expectRejected(line(extra: [(name, q("secret-token-123"))]), .unknownField, at: name)
        }

        @Test(
            "A payload field outside the type's catalogue entry is refused as unknownField at data.<name>",
            arguments: ["screenshot", "keystrokes", "clipboard", "file_contents", "url_history", "status"])
        func unknownDataField(name: String) {
            let data = obj([("app", q("Code")), ("title", q("main.swift")), (name, q("x"))])
            expectRejected(line(data: data), .unknownField, at: "data.\(name)")
        }

        @Test(
            "A value of the wrong JSON type is refused as wrongType at its path",
            arguments: [
                (line(duration: q("12.5")), "duration"),
                (line(duration: "true"), "duration"),
                (line(data: #"{"app":42,"title":"t"}"#), "data.app"),
                (line(data: #"{"app":"Code","title":["t"]}"#), "data.title"),
                (line(id: "42"), "id"),
                (line(user: "7"), "user"),
                (line(ts: "1717200000"), "ts"),
                (line(type: "1"), "type"),
                (line(tenant: "{}"), "tenant"),
                (line(data: q("app=Code")), "data"),
                (line(extra: [("actor", "5")]), "actor"),
                (
                    line(
                        "attachment.added",
                        data:
                            #"{"task":"T-1","name":"a.pdf","size":"12","content_type":"application/pdf","sha256":"\#(String(repeating: "0", count: 64))"}"#
                    ), "data.size"
                ),
                (
                    line(
                        "time_entry.recorded",
                        data:
                            #"{"project":"p","start":"2025-05-01T09:00:00Z","end":"2025-05-01T10:00:00Z","billable":"yes"}"#
                    ), "data.billable"
                ),
            ])
        func wrongType(line: String, field: String) {
            expectRejected(line, .wrongType, at: field)
        }

        @Test("A data.title of 1025 bytes is refused as tooLong; 1024 bytes are accepted")
        func titleLength() throws {
            _ = try validate(window(title: String(repeating: "a", count: 1024)))
            expectRejected(window(title: String(repeating: "a", count: 1025)), .tooLong, at: "data.title")
        }

        @Test("String limits count UTF-8 bytes, not characters")
        func lengthInBytes() throws {
            _ = try validate(window(title: String(repeating: "é", count: 512)))  // 1024 bytes
            expectRejected(window(title: String(repeating: "é", count: 513)), .tooLong, at: "data.title")  // 1026
            _ = try validate(window(title: String(repeating: "日", count: 341)))  // 1023 bytes
            expectRejected(window(title: String(repeating: "日", count: 342)), .tooLong, at: "data.title")  // 1026
            expectRejected(window(title: String(repeating: "🙂", count: 257)), .tooLong, at: "data.title")  // 1028
            expectRejected(line(extra: [("actor", q(String(repeating: "ü", count: 65)))]), .tooLong, at: "actor")
            _ = try validate(line(extra: [("actor", q(String(repeating: "ü", count: 64)))]))
        }

        @Test("Invalid UTF-8 inside a string makes the line invalidJSON")
        func invalidUTF8() {
            let bytes = Array(line(data: #"{"app":"Code","title":"ab__cd"}"#).utf8)
            let at = bytes.firstIndex(of: UInt8(ascii: "_"))!
            var corrupt = bytes
            corrupt[at] = 0xC3
            corrupt[at + 1] = 0x28
            let error = #expect(throws: ValidationError.self) { try validate(bytes: corrupt) }
            #expect(error?.code == .invalidJSON)
            #expect(error?.field == "")
        }

        @Test(
            "Lines that are not one JSON object are refused",
            arguments: [
                ("", ValidationError.Code.invalidJSON), ("{", .invalidJSON), ("{\"id\":1,}", .invalidJSON),
                (line() + line(), .invalidJSON), ("[]", .notAnObject), ("\"event\"", .notAnObject),
                ("null", .notAnObject),
            ] as [(String, ValidationError.Code)])
        func notAnObject(line: String, code: ValidationError.Code) {
            expectRejected(line, code, at: "")
        }

        @Test("A member given twice makes the line invalidJSON")
        func duplicateKey() {
            expectRejected(line(extra: [("id", q(other))]), .invalidJSON, at: "")
        }

        @Test(
            "A negative duration is refused as negativeDuration at duration",
            arguments: ["-1", "-0.001", "-86400", "-1e-3"])
        func negativeDuration(duration: String) {
            expectRejected(line(duration: duration), .negativeDuration, at: "duration")
        }

        @Test("A duration of zero up to one day is accepted; longer is invalidValue")
        func durationRange() throws {
            #expect(try validate(line(duration: "0")).event.duration == 0)
            #expect(try validate(line(duration: "86400")).event.duration == 86_400_000_000)
            #expect(try validate(line(duration: "12.345678")).event.duration == 12_345_678)
            expectRejected(line(duration: "86400.5"), .invalidValue, at: "duration")
        }

        @Test("A time entry that ends before it starts is refused as negativeDuration at data.end")
        func timeEntryBackwards() throws {
            func entry(_ start: String, _ end: String) -> String {
                line("time_entry.recorded", data: obj([("project", q("p")), ("start", q(start)), ("end", q(end))]))
            }
            expectRejected(entry("2025-05-01T10:00:00Z", "2025-05-01T09:59:59.999Z"), .negativeDuration, at: "data.end")
            // Offsets are compared as instants: 11:59+02:00 is before 10:00Z, 12:00+02:00 is the same instant.
            expectRejected(
                entry("2025-05-01T10:00:00Z", "2025-05-01T11:59:00+02:00"), .negativeDuration, at: "data.end")
            _ = try validate(entry("2025-05-01T10:00:00Z", "2025-05-01T12:00:00+02:00"))
            _ = try validate(entry("2025-05-01T10:00:00Z", "2025-05-01T10:00:00.001Z"))
        }

        @Test("ts more than 24 hours after now is refused as timestampInFuture; up to 24 hours is accepted")
        func future() throws {
            expectRejected(window(at: now.microseconds + 24 * hour + 1000), .timestampInFuture, at: "ts")
            expectRejected(window(at: now.microseconds + 25 * hour), .timestampInFuture, at: "ts")
            expectRejected(window(at: now.microseconds + 24 * hour + 1), .timestampInFuture, at: "ts")
            _ = try validate(window(at: now.microseconds + 23 * hour))
            _ = try validate(window(at: now.microseconds + 24 * hour))
            // The rule follows the validator's clock, not the wall clock.
            let later = Timestamp(microseconds: now.microseconds + 48 * hour)
            _ = try validate(window(at: now.microseconds + 25 * hour), now: later)
        }

        @Test(
            "ts and payload times with seven to nine fraction digits are accepted, kept to the microsecond", )
        func nanosecondTimestamps() throws {
            let v = try validate(line(ts: q("2025-05-31T12:00:00.1234567Z")))
            #expect(v.event.occurredAt == Timestamp(microseconds: now.microseconds - 12 * hour + 123_456))
            let entry = line(
                "time_entry.recorded",
                data: obj([
                    ("project", q("p")), ("start", q("2025-05-01T10:00:00.000000001Z")),
                    ("end", q("2025-05-01T11:00:00.123456789+01:00")),
                ]))
            let e = try validate(entry).event
            let tenOClock: Int64 = 1_746_093_600_000_000  // 2025-05-01T10:00:00Z
            #expect(e[.start] == .time(Timestamp(microseconds: tenOClock)))
            #expect(e[.end] == .time(Timestamp(microseconds: tenOClock + 123_456)))
        }

        @Test("ts before 2000-01-01 or not RFC 3339 is refused as invalidValue at ts")
        func tsInvalid() throws {
            expectRejected(line(ts: q("1999-12-31T23:59:59.999Z")), .invalidValue, at: "ts")
            expectRejected(line(ts: q("2025-05-31 12:00:00")), .invalidValue, at: "ts")
            expectRejected(line(ts: q("2025-02-29T12:00:00Z")), .invalidValue, at: "ts")
            _ = try validate(line(ts: q("2000-01-01T00:00:00Z")))
        }

        @Test(
            "A missing required member is refused as missingField at its path",
            arguments: [
                (line(id: nil), "id"),
                (line(type: nil), "type"),
                (line(ts: nil), "ts"),
                (line(user: nil), "user"),
                (line(duration: nil), "duration"),
                (line(duration: "null"), "duration"),
                (line(data: #"{"title":"main.swift"}"#), "data.app"),
                (line(data: #"{"app":null,"title":"main.swift"}"#), "data.app"),
                (line(data: nil), "data.app"),
                (line(type: q("activity.afk"), data: "{}"), "data.status"),
                (line("event.retracted", data: #"{"target":1}"#), "data.reason"),
                (line("tag.added", data: #"{"entity":"T-1"}"#, user: nil), "user"),
            ])
        func missing(line: String, field: String) {
            expectRejected(line, .missingField, at: field)
        }

        @Test(
            "A malformed UUID is refused as invalidValue at its path",
            arguments: [
                (line(id: q("not-a-uuid")), "id"),
                (line(id: q("0b6e7f8a-1c2d-4e3f-8a9b-0c1d2e3f4a5")), "id"),
                (line(id: q("0b6e7f8a-1c2d-4e3f-8a9b-0c1d2e3f4a5bb")), "id"),
                (line(id: q("0b6e7f8a1c2d-4e3f-8a9b-0c1d2e3f4a5b0")), "id"),
                (line(id: q("{0b6e7f8a-1c2d-4e3f-8a9b-0c1d2e3f4a}")), "id"),
                (line(user: q("6b9f2ec5-1cfd-4033-aa22-a9dc692301fg")), "user"),
                (line("team.member_added", data: obj([("manager", q("nobody"))])), "data.manager"),
                (line("event.retracted", data: obj([("target", q("x")), ("reason", q("r"))])), "data.target"),
                (line("event.retracted", data: obj([("target", "0"), ("reason", q("r"))])), "data.target"),
            ])
        func malformedUUID(line: String, field: String) {
            expectRejected(line, .invalidValue, at: field)
        }

        @Test(
            "A value outside its enumeration or range is refused as invalidValue",
            arguments: [
                (line(type: q("activity.afk"), data: #"{"status":"sleeping"}"#), "data.status"),
                (line(type: q("activity.afk"), data: #"{"status":"AFK"}"#), "data.status"),
                (line("user.role_changed", data: #"{"role":"owner"}"#), "data.role"),
                (line("retention.policy_set", data: #"{"class":"activity","days":0}"#, user: nil), "data.days"),
                (line("retention.policy_set", data: #"{"class":"everything","days":30}"#, user: nil), "data.class"),
                (line(tenant: q("Acme Corp")), "tenant"),
                (line(tenant: q("")), "tenant"),
            ])
        func outsideValues(line: String, field: String) {
            expectRejected(line, .invalidValue, at: field)
        }

        @Test("activity.afk with a status of its enumeration is accepted")
        func afkAccepted() throws {
            let v = try validate(line(type: q("activity.afk"), data: #"{"status":"not-afk"}"#))
            #expect(v.event[.status] == .string("not-afk"))
        }

        @Test(
            "A correction whose set names a field outside the catalogue is refused as unknownField at data.set.<name>",
            arguments: ["screenshot", "keystrokes", "sequence", "target", "set"])
        func correctionUnknownField(name: String) {
            let data = obj([("target", q(other)), ("set", obj([(name, q("x"))]))])
            expectRejected(line("event.corrected", data: data), .unknownField, at: "data.set.\(name)")
        }

        @Test("A correction with an empty set is refused as invalidValue at data.set")
        func correctionEmptySet() {
            expectRejected(
                line("event.corrected", data: obj([("target", q(other)), ("set", "{}")])), .invalidValue, at: "data.set"
            )
        }

        @Test("A correction's replacement values are checked like the fields they replace")
        func correctionValuesChecked() {
            let long = obj([("target", "12"), ("set", obj([("title", q(String(repeating: "t", count: 1025)))]))])
            expectRejected(line("event.corrected", data: long), .tooLong, at: "data.set.title")
            let wrong = obj([("target", "12"), ("set", obj([("billable", q("yes"))]))])
            expectRejected(line("event.corrected", data: wrong), .wrongType, at: "data.set.billable")
        }

        @Test("A duration on a type that has none is refused as unknownField at duration")
        func durationNotAllowed() {
            expectRejected(line(type: q("attendance.clock_in"), data: "{}"), .unknownField, at: "duration")
        }
    }

    @Suite("Refusals never echo the offending value")
    struct Privacy {
        static let secret = "secret-token-123"

        @Test("A 2000-character title is refused without quoting it")
        func longTitle() {
            let error = expectRejected(window(title: String(repeating: "S", count: 2000)), .tooLong, at: "data.title")
            #expect(error.map { !$0.description.contains("SSSS") && !$0.message.contains("SSSS") } == true)
        }

        /// A refused line and a short name for the test report.
        struct Case: Sendable, CustomTestStringConvertible {
            var name: String
            var line: String
            var testDescription: String { name }
        }

        static let cases: [Case] = [
            Case(name: "unknown envelope field", line: line(extra: [("password", q(secret))])),
            Case(
                name: "unknown data field",
                line: line(data: obj([("app", q("Code")), ("title", q("t")), ("clipboard", q(secret))]))),
            Case(name: "unknown type", line: line(type: q(secret))),
            Case(name: "malformed id", line: line(id: q(secret))),
            Case(name: "malformed user", line: line(user: q(secret))),
            Case(name: "malformed ts", line: line(ts: q(secret))),
            Case(name: "invalid tenant", line: line(tenant: q(secret.uppercased()))),
            Case(name: "duration as string", line: line(duration: q(secret))),
            Case(name: "enum value", line: line(type: q("activity.afk"), data: obj([("status", q(secret))]))),
            Case(name: "long actor", line: line(extra: [("actor", q(String(repeating: secret, count: 10)))])),
            Case(
                name: "unknown replacement field",
                line: line("event.corrected", data: obj([("target", q(other)), ("set", obj([("cookie", q(secret))]))]))),
            Case(
                name: "malformed target",
                line: line("event.retracted", data: obj([("target", q(secret)), ("reason", q("r"))]))),
            Case(
                name: "long settings value",
                line: line(
                    "settings.changed",
                    data: obj([("key", q("k")), ("value", q(String(repeating: secret, count: 1100)))]),
                    user: nil)),
            Case(name: "truncated JSON", line: "{\"id\":\"\(secret)\","),
            Case(name: "control character in JSON", line: "{\"note\":\"\(secret)\u{1}\"}"),
        ]

        @Test("The message and description name the field but not the value", arguments: cases)
        func noEcho(_ c: Case) {
            let error = #expect(throws: ValidationError.self) { try validate(c.line) }
            for text in [error?.description, error?.message, error?.field] {
                #expect(text.map { !$0.lowercased().contains(Self.secret) } == true, "\(text ?? "")")
            }
        }
    }
}

// MARK: - Ingest

extension ValidationTests {
    @Suite("An invalid event writes nothing")
    struct IngestNothing {
        /// One invalid line per rule, each naming tenant `acme`.
        static let invalidLines: [String] = [
            line(type: q("activity.keylogger")),
            line(extra: [("seq", "1")]),
            line(data: obj([("app", q("Code")), ("title", q("t")), ("screenshot", q("iVBORw0KGgo="))])),
            line(duration: q("12")),
            window(title: String(repeating: "a", count: 1025)),
            line(duration: "-1"),
            line(
                "time_entry.recorded",
                data: #"{"project":"p","start":"2025-05-01T10:00:00Z","end":"2025-05-01T09:00:00Z"}"#),
            window(at: Timestamp.now().microseconds + 48 * hour),
            line(id: nil),
            line(user: nil),
            line(data: #"{"title":"t"}"#),
            line(id: q("not-a-uuid")),
            line(type: q("activity.afk"), data: #"{"status":"sleeping"}"#),
            line("event.corrected", data: obj([("target", q(other)), ("set", #"{"screenshot":"x"}"#)])),
            line("event.corrected", data: obj([("target", q(other)), ("set", "{}")])),
            line(tenant: nil),
            "{\"id\":",
            "[1,2,3]",
        ]

        static func ingest(_ lines: [String], into store: LogStore) -> NDJSONIngester.Report {
            let buffer = Array(lines.joined(separator: "\n").utf8) + Array("\n".utf8)
            return buffer.withUnsafeBytes { NDJSONIngester(store: store).ingest(buffer: $0) }
        }

        static func validLine(_ n: Int) -> String {
            let id = String(format: "00000000-0000-4000-8000-%012d", n)
            return line(
                id: q(id),
                ts: q(Timestamp(microseconds: EventFactory.t0.microseconds + Int64(n) * 1_000_000).description))
        }

        @Test(
            "A buffer of only invalid lines is all rejected and creates no tenant; valid lines among invalid ones are all that is stored"
        )
        func invalidWritesNothing() throws {
            let dir = TemporaryDirectory()
            let store = try LogStore(directory: dir.path, options: testOptions())
            defer { store.close() }

            let report = Self.ingest(Self.invalidLines, into: store)
            #expect(report.lines == Self.invalidLines.count)
            #expect(report.rejected == Self.invalidLines.count)
            #expect(report.appended == 0)
            #expect(report.duplicates == 0)
            #expect(report.failure == nil)
            #expect(report.rejections.map { $0.line } == Array(1...Self.invalidLines.count))
            #expect(store.tenants().isEmpty)

            // Valid lines interleaved with the invalid ones: only the valid ones are stored, in order.
            var mixed: [String] = []
            var validIDs: [EventID] = []
            var invalidLineNumbers: [Int] = []
            for (i, bad) in Self.invalidLines.enumerated() {
                let good = Self.validLine(i + 1)
                mixed.append(good)
                validIDs.append(try validate(good, now: .now()).event.id)
                mixed.append(bad)
                invalidLineNumbers.append(mixed.count)
            }
            let second = Self.ingest(mixed, into: store)
            #expect(second.lines == mixed.count)
            #expect(second.rejected == Self.invalidLines.count)
            #expect(second.appended == validIDs.count)
            #expect(second.failure == nil)
            #expect(second.rejections.map { $0.line } == Array(invalidLineNumbers.prefix(20)))

            let acme = try #require(TenantID("acme"))
            #expect(store.tenants() == [acme])
            var stored: [Event] = []
            try store.read(acme) {
                stored.append($0); return true
            }
            #expect(stored.map(\.id) == validIDs)
            #expect(stored.map(\.sequence) == Array(1...UInt64(validIDs.count)))
            #expect(stored.allSatisfy { $0.type == .activityWindow && $0.subject == UUID128(user) })
        }
    }
}
