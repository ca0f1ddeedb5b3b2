import Testing
@testable import LogbookCore
import LogbookJSON
import LogbookTestSupport

/// The validator's fast path (`FastEventDecoder`) against its general path: whatever the fast
/// path accepts, the general path accepts as the very same event; and the workload's lines do
/// take the fast path.
@Suite("Validation fast path")
enum FastPathTests {
    /// 2025-06-01T00:00:00Z.
    static let now = Timestamp(microseconds: 1_748_736_000_000_000)

    /// Lines as ../shared/workload/generate.py writes them (default and `--mix full`).
    static let workloadLines = [
        #"{"id":"d0619e9c-7039-4a52-a426-429b4dc69700","tenant":"t014","type":"activity.window","user":"6b9f2ec5-1cfd-4033-aa22-a9dc692301fc","ts":"2025-01-01T08:00:00.043Z","duration":35.944,"data":{"app":"Code","title":"preview_preview.tsx — calendar-etl — Visual Studio Code"}}"#,
        #"{"id":"2269b394-8d3b-419f-aa75-7ab7f0622518","tenant":"t014","type":"attendance.clock_in","user":"6b9f2ec5-1cfd-4033-aa22-a9dc692301fc","ts":"2025-01-01T07:59:59.543Z","data":{"note":"Today: page release limit permissions"}}"#,
        #"{"id":"0cc5a366-cce1-4bc6-a785-a5ca0d4f274c","tenant":"t086","type":"activity.window","user":"3c528f5d-c267-47be-a7bc-ecc3fa71c960","ts":"2025-01-01T10:23:55.627Z","duration":10.181,"data":{"app":"Microsoft Edge","title":"Inbox (182) - quinn29@pied.co.uk - Gmail - Work - Microsoft​ Edge"}}"#,
        #"{"id":"4c5d2ce6-9554-4e4c-afcc-ec3061c14993","tenant":"t066","type":"activity.window","user":"894cfe6c-fc5a-4c0d-af44-5f08b5bf8a81","ts":"2025-01-01T13:28:58.447Z","duration":14,"data":{"app":"Zoom","title":"Zoom Meeting"}}"#,
    ]

    enum Outcome: Equatable {
        case accepted(Event, TenantID?)
        case refused(ValidationError.Code, String)
    }

    static func general(_ line: [UInt8]) -> Outcome {
        line.withUnsafeBytes { buffer in
            do throws(ValidationError) {
                let v = try EventValidator(now: now).validateInGeneral(line: buffer)
                return .accepted(v.event, v.tenant)
            } catch {
                return .refused(error.code, error.field)
            }
        }
    }

    static func fast(_ line: [UInt8]) -> Outcome? {
        line.withUnsafeBytes { FastEventDecoder(now: now).decode($0) }.map { .accepted($0.event, $0.tenant) }
    }

    /// Fails the test when the fast path accepts `line` differently from the general path, or
    /// its encoding straight from the line's bytes differs from the encoding of its event.
    static func agree(_ line: [UInt8], sourceLocation: SourceLocation = #_sourceLocation) -> Bool {
        var g = SeededGenerator(seed: 1)
        var encoded = EncodedEvents()
        encoded.append(EventFactory.window(&g))  // what is there already stays as it is
        let before = encoded
        let tenant = line.withUnsafeBytes {
            FastEventDecoder(now: now).decode($0, into: &encoded, tenant: { TenantID(utf8: $0) })
        }
        // The file ingester's way: the tenant as an index into names checked once each.
        var names = TenantNames()
        var encodedWithNames = before
        let index = line.withUnsafeBytes {
            FastEventDecoder(now: now).decode($0, into: &encodedWithNames, tenant: { names.index(utf8: $0) })
        }
        #expect(encodedWithNames == encoded, sourceLocation: sourceLocation)
        #expect(index.map { $0.map { names.names[$0] } } == tenant, sourceLocation: sourceLocation)
        guard let f = fast(line) else {
            #expect(
                tenant == nil && encoded == before, "encoded a line the fast path refuses",
                sourceLocation: sourceLocation)
            return false
        }
        #expect(f == general(line), "\(String(decoding: line, as: UTF8.self))", sourceLocation: sourceLocation)
        var expected = before
        if case .accepted(let event, let t) = f {
            expected.append(event)
            #expect(tenant == .some(t), sourceLocation: sourceLocation)
        }
        #expect(encoded == expected, "\(String(decoding: line, as: UTF8.self))", sourceLocation: sourceLocation)
        return true
    }

    @Test("workload lines take the fast path and decode as the general path does")
    static func workload() {
        for line in workloadLines {
            #expect(agree(Array(line.utf8)), "not on the fast path: \(line)")
        }
    }

    /// A random catalogue event in the wire envelope (the replay form without `seq`/`recorded`).
    static func wireLine<G: RandomNumberGenerator>(_ g: inout G) -> [UInt8] {
        var e = EventFactory.random(&g)
        e.occurredAt = Timestamp(microseconds: now.microseconds - Int64(g.next() % 1_000_000_000_000))
        var w = JSONWriter()
        e.writeJSON(tenant: TenantID("t\(g.next() % 100)")!, into: &w)
        guard case .object(var o) = try! JSONParser.parse(w.bytes) else { fatalError() }
        o.members.removeAll { $0.key == "seq" || $0.key == "recorded" }
        var out = JSONWriter()
        out.write(.object(o))
        return out.bytes
    }

    @Test("random catalogue events: accepted alike, and most take the fast path")
    static func randomEvents() {
        var g = SeededGenerator(seed: 11)
        var fastCount = 0
        let n = 3000
        for _ in 0..<n where agree(wireLine(&g)) { fastCount += 1 }
        // Escaped strings, settings values and correction sets go the general way; the rest is fast.
        #expect(fastCount > n / 5, "only \(fastCount) of \(n) took the fast path")
    }

    /// Bytes that change a line's meaning at JSON or rule level.
    static let interesting: [UInt8] = Array(#""\-0.5e9{},: n\#t"#.utf8) + [0xC3, 0xA9, 0xFF, 0xED, 0x00, 0x7F]

    @Test("mutated lines: whatever the fast path accepts, the general path accepts identically")
    static func mutations() {
        var g = SeededGenerator(seed: 12)
        var seeds = workloadLines.map { Array($0.utf8) }
        for _ in 0..<200 { seeds.append(wireLine(&g)) }
        var accepted = 0
        for _ in 0..<40_000 {
            var line = seeds[Int(g.next() % UInt64(seeds.count))]
            for _ in 0...(g.next() % 3) {
                let i = Int(g.next() % UInt64(line.count))
                let b = interesting[Int(g.next() % UInt64(interesting.count))]
                switch g.next() % 3 {
                case 0: line[i] = b
                case 1: line.insert(b, at: i)
                default: line.remove(at: i)
                }
            }
            if agree(line) { accepted += 1 }
        }
        #expect(accepted > 200, "the mutations rarely reached the fast path (\(accepted))")
    }

    @Test(
        "numbers at the edges go the general way or agree with it",
        arguments: [
            "35.944", "0", "0.0", "86400", "86400.0", "86400.000001", "-0.5", "-0", "1e2", "1.0000001", "01.5", "1.",
            ".5", "1.2.3", "--1", "9999999999999999999", "0.000001", "null", "\"5\"", "true",
        ])
    static func durations(_ text: String) {
        let line =
            #"{"id":"d0619e9c-7039-4a52-a426-429b4dc69700","type":"activity.window","user":"6b9f2ec5-1cfd-4033-aa22-a9dc692301fc","ts":"2025-01-01T08:00:00.043Z","duration":"#
            + text + #","data":{"app":"Code","title":"x"}}"#
        let fast = agree(Array(line.utf8))
        // Plain decimal seconds within a day are the common case and must stay on the fast path.
        if ["35.944", "0", "0.0", "86400", "86400.0", "0.000001"].contains(text) {
            #expect(fast, "duration \(text) left the fast path")
        }
        let size =
            #"{"id":"d0619e9c-7039-4a52-a426-429b4dc69700","type":"attachment.added","user":"6b9f2ec5-1cfd-4033-aa22-a9dc692301fc","ts":"2025-01-01T08:00:00.043Z","data":{"task":"T-1","name":"a.pdf","size":"#
            + text
            + #","content_type":"application/pdf","sha256":"0000000000000000000000000000000000000000000000000000000000000000"}}"#
        let fastSize = agree(Array(size.utf8))
        if ["0", "86400"].contains(text) { #expect(fastSize, "size \(text) left the fast path") }
    }
}

@Suite("Tenant names of a file part")
struct TenantNamesTests {
    @Test("names get indexes in order of first appearance, through the table's growth; invalid ones none")
    func firstAppearance() {
        var g = SeededGenerator(seed: 5)
        var names = TenantNames()
        var model: [String: Int] = [:]
        var order: [String] = []
        for _ in 0..<5_000 {
            // 300 valid names, interleaved at random, and now and then an invalid one.
            let k = Int(g.next() % 320)
            let text = k < 300 ? "t\(k)" : ["", "-x", "Upper", "a b", String(repeating: "a", count: 65)][k % 5]
            let got = Array(text.utf8).withUnsafeBytes { names.index(utf8: $0) }
            guard TenantID(text) != nil else {
                #expect(got == nil, "\(text)")
                continue
            }
            if model[text] == nil {
                model[text] = order.count
                order.append(text)
            }
            #expect(got == model[text], "\(text)")
        }
        #expect(names.names.map(\.rawValue) == order)
        #expect(order.count == 300)
        for (i, text) in order.enumerated() { #expect(names.index(of: TenantID(text)!) == i) }
        #expect(names.index(of: TenantID("new")!) == 300)
    }
}

extension TenantNamesTests {
    @Test("validating lines gives each tenant one index, whichever path a line takes; a bad name appends nothing")
    func throughTheValidator() throws {
        let validator = EventValidator(now: FastPathTests.now)
        var tenants = TenantNames()
        var events = EncodedEvents()
        func validate(_ line: String) throws -> Int? {
            try Array(line.utf8).withUnsafeBytes { try validator.validate(line: $0, into: &events, tenants: &tenants) }
        }
        let fast = FastPathTests.workloadLines[0]  // tenant t014
        // An escape in the title sends a line to the general path.
        let general = fast.replacingOccurrences(of: #""title":"preview"#, with: #""title":"pre\u0076iew"#)
        #expect(Array(general.utf8).withUnsafeBytes { FastEventDecoder(now: FastPathTests.now).decode($0) } == nil)
        #expect(try validate(fast) == 0)
        #expect(try validate(general) == 0)
        #expect(try validate(FastPathTests.workloadLines[2]) == 1)  // t086
        #expect(try validate(general.replacingOccurrences(of: "t014", with: "t086")) == 1)
        #expect(tenants.names == [TenantID("t014")!, TenantID("t086")!])
        #expect(events.count == 4)
        #expect(throws: ValidationError.self) { try validate(fast.replacingOccurrences(of: "t014", with: "T 14")) }
        #expect(events.count == 4 && tenants.names.count == 2)
    }
}

@Suite("Short keys as words")
struct LittleEndianWordTests {
    @Test("the first eight bytes (or fewer) as a little-endian word, for every length, read in place")
    func everyLength() {
        var g = SeededGenerator(seed: 9)
        for _ in 0..<200 {
            let bytes = (0..<12).map { _ in UInt8(truncatingIfNeeded: g.next()) }
            for start in 0..<3 {
                for n in 0...(12 - start) {
                    var expected: UInt64 = 0
                    for i in 0..<min(n, 8) { expected |= UInt64(bytes[start + i]) << (8 * UInt64(i)) }
                    let got = bytes.withUnsafeBytes {
                        UnsafeRawBufferPointer(rebasing: $0[start..<start + n]).littleEndianWord
                    }
                    #expect(got == expected, "\(bytes[start..<start + n])")
                }
            }
        }
    }
}
