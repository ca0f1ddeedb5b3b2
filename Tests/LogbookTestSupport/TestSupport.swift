import Foundation
public import LogbookCore

/// A temporary directory removed when the value is deinitialised.
public final class TemporaryDirectory: Sendable {
    public let path: String

    public init(_ prefix: String = "logbook-test") {
        let template = NSTemporaryDirectory() + "/\(prefix)-XXXXXX"
        var bytes = Array(template.utf8CString)
        guard let p = mkdtemp(&bytes) else { fatalError("mkdtemp failed") }
        path = String(cString: p)
    }

    deinit { try? FileManager.default.removeItem(atPath: path) }
}

/// Deterministic random numbers (SplitMix64) for reproducible test data.
public struct SeededGenerator: RandomNumberGenerator, Sendable {
    public var state: UInt64
    public init(seed: UInt64) { state = seed }
    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// Builds valid events for tests.
public enum EventFactory {
    /// A fixed instant (2025-01-01T08:00:00Z) for reproducible events.
    public static let t0 = Timestamp(microseconds: 1_735_718_400_000_000)

    public static func user(_ n: Int) -> UserID {
        UUID128(high: 0x0000_0000_0000_4000 | UInt64(n) << 16, low: 0x8000_0000_0000_0000 | UInt64(n))
    }

    /// An activity.window sample.
    public static func window<G: RandomNumberGenerator>(
        _ g: inout G, user: UserID = user(1), at: Timestamp = t0, app: String = "Code", title: String? = nil
    ) -> Event {
        Event(
            id: .random(using: &g), type: .activityWindow, subject: user, occurredAt: at,
            duration: Int64(g.next() % 600_000_000),
            data: [
                Field(.app, .string(app)), Field(.title, .string(title ?? "main.swift — logbook \(g.next() % 100)")),
            ])
    }

    /// A random event of any catalogue type with random (valid-shaped) fields, for codec property tests.
    public static func random<G: RandomNumberGenerator>(_ g: inout G) -> Event {
        let type = EventType.allCases[Int(g.next() % UInt64(EventType.allCases.count))]
        let spec = Catalogue.spec(type)
        var data: [Field] = []
        for f in spec.fields where f.required || g.next() % 2 == 0 {
            data.append(Field(f.key, randomValue(f.kind, &g)))
        }
        return Event(
            sequence: g.next() % 1_000_000, id: .random(using: &g), type: type,
            subject: g.next() % 5 == 0 ? nil : user(Int(g.next() % 50)),
            actor: g.next() % 4 == 0 ? "agent:device-\(g.next() % 10)" : nil,
            occurredAt: Timestamp(microseconds: t0.microseconds + Int64(g.next() % 1_000_000_000_000)),
            recordedAt: Timestamp(microseconds: t0.microseconds + Int64(g.next() % 1_000_000_000)),
            duration: spec.duration == false ? nil : Int64(g.next() % 86_400_000_000), data: data)
    }

    static func randomString<G: RandomNumberGenerator>(_ g: inout G, max: Int = 40) -> String {
        let pieces = ["a", "Z", "é", "—", "日本", "🙂", " ", "\"", "\\", "\n", "x"]
        var s = ""
        for _ in 0..<Int(g.next() % UInt64(max / 4 + 1)) { s += pieces[Int(g.next() % UInt64(pieces.count))] }
        return s
    }

    static func randomValue<G: RandomNumberGenerator>(_ kind: Catalogue.Kind, _ g: inout G) -> Value {
        switch kind {
        case .string: return .string(randomString(&g))
        case .oneOf(let options): return .string(options[Int(g.next() % UInt64(options.count))])
        case .int(let r):
            return .int(r.lowerBound + Int64(g.next() % UInt64(min(r.upperBound - r.lowerBound + 1, 1000))))
        case .bool: return .bool(g.next() % 2 == 0)
        case .uuid: return .uuid(.random(using: &g))
        case .uuidOrNull: return g.next() % 3 == 0 ? .null : .uuid(.random(using: &g))
        case .time: return .time(Timestamp(microseconds: t0.microseconds + Int64(g.next() % 1_000_000_000)))
        case .sha256: return .string(String(repeating: "ab", count: 32))
        case .eventRef: return g.next() % 2 == 0 ? .uuid(.random(using: &g)) : .int(Int64(1 + g.next() % 1000))
        case .json: return .string("{\"tz\":\"Europe/Berlin\"}")
        case .replacement: return .fields([Field(.title, .string(randomString(&g)))])
        }
    }
}

/// Options for fast tests: small blocks and batches, an early dictionary.
public func testOptions(noSync: Bool = false) -> LogStore.Options {
    var o = LogStore.Options()
    o.maxBlockEvents = 100
    o.dictionaryTrainingEvents = 500
    o.commitThreads = 4
    o.mapSize = 1 << 30
    o.unsafeNoSync = noSync
    return o
}

/// Checks `condition` every `interval` until it holds or `limit` has passed; whether it held.
/// For what background threads (commits, projection turns) bring about in their own time.
public func eventually(
    within limit: Duration, every interval: Duration = .milliseconds(5), _ condition: () throws -> Bool
) async throws -> Bool {
    let deadline = ContinuousClock.now + limit
    while try !condition() {
        if ContinuousClock.now >= deadline { return false }
        try await Task.sleep(for: interval)
    }
    return true
}
