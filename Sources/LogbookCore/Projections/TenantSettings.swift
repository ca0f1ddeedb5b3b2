import Foundation
import LogbookJSON

/// The tenant settings projections use, from `settings.changed` events (key → JSON value):
///
/// - `timezone`: an IANA name (`"Europe/Berlin"`); days of the daily and team aggregates are
///   calendar days there, DST-correct. Default UTC. An unknown name keeps the previous zone.
/// - `pulsetime`: seconds (number); timeline samples with equal data merge across gaps up to
///   this long. Default 5.
/// - `categories`: ordered rules `[{"category": "Development", "app": "regex", "title": "regex"}]`;
///   the first rule whose given patterns all match (unanchored, case-insensitive) names a
///   sample's category; none matching: `Uncategorized`.
/// - `hourly_rates`: `{"default": 40, "<user id>": 55}`, for cost figures.
///
/// A setting applies from its event on; a rebuild replays them in log order.
struct TenantSettings {
    var timeZone = DayCalendar.utc
    var pulseMicros: Int64 = 5_000_000
    var rules: [CategoryRule] = []
    var rates: [String: Double] = [:]
    /// (app, title) → category, for the current rules.
    private var categoryCache: [String: String] = [:]

    static let uncategorized = "Uncategorized"

    struct CategoryRule {
        var category: String
        var app: NSRegularExpression?
        var title: NSRegularExpression?
    }

    /// Applies one setting; unknown keys are kept (in the state database) but ignored here.
    mutating func apply(key: String, json: String) {
        guard let value = try? JSONParser.parse(json) else { return }
        switch (key, value) {
        case ("timezone", .string(let name)):
            if let zone = DayCalendar(identifier: name) { timeZone = zone }
        case ("pulsetime", .integer(let s)) where s >= 0 && s <= 86_400:
            pulseMicros = s * 1_000_000
        case ("pulsetime", .double(let s)) where s >= 0 && s <= 86_400:
            pulseMicros = Int64(s * 1_000_000)
        case ("categories", .array(let items)):
            rules = items.compactMap { item in
                guard case .object(let o) = item, case .string(let category)? = o["category"] else { return nil }
                func regex(_ key: String) -> NSRegularExpression? {
                    guard case .string(let p)? = o[key] else { return nil }
                    return try? NSRegularExpression(pattern: p, options: [.caseInsensitive])
                }
                return CategoryRule(category: category, app: regex("app"), title: regex("title"))
            }
            categoryCache = [:]
        case ("hourly_rates", .object(let o)):
            rates = [:]
            for (k, v) in o.members {
                switch v {
                case .integer(let i): rates[k] = Double(i)
                case .double(let d): rates[k] = d
                default: break
                }
            }
        default:
            break
        }
    }

    /// The category of an activity sample under the current rules.
    mutating func category(app: String, title: String) -> String {
        if rules.isEmpty { return TenantSettings.uncategorized }
        let key = app + "\u{0}" + title
        if let c = categoryCache[key] { return c }
        func matches(_ r: NSRegularExpression?, _ s: String) -> Bool {
            guard let r else { return true }
            return r.firstMatch(in: s, range: NSRange(s.startIndex..., in: s)) != nil
        }
        let c =
            rules.first { ($0.app != nil || $0.title != nil) && matches($0.app, app) && matches($0.title, title) }?
            .category ?? TenantSettings.uncategorized
        if categoryCache.count > 100_000 { categoryCache = [:] }  // bounded
        categoryCache[key] = c
        return c
    }

    func rate(for user: UserID) -> Double? { rates[user.description] ?? rates["default"] }
}

/// Calendar days in one time zone, as day numbers since 1970-01-01 (local), with the UTC
/// offset looked up once per hour and cached.
struct DayCalendar {
    static let utc = DayCalendar(zone: nil)
    static let dayMicros: Int64 = 86_400_000_000
    static let hourMicros: Int64 = 3_600_000_000

    /// nil: UTC.
    let zone: TimeZone?
    private var offsets: [Int64: Int64] = [:]
    /// The last hour looked up and its offset: a user's samples come hour after hour, and a
    /// dictionary lookup per event and day was 2 % of a rebuild.
    private var lastHour = Int64.min
    private var lastOffset: Int64 = 0
    /// Likewise the last day's bounds: four offsets each, and asked for once per event.
    private var lastDay = Int32.min
    private var lastBounds: Range<Int64> = 0..<0

    private init(zone: TimeZone?) { self.zone = zone }

    init?(identifier: String) {
        if identifier == "UTC" || identifier == "Etc/UTC" {
            self = .utc
            return
        }
        guard let z = TimeZone(identifier: identifier) else { return nil }
        self.init(zone: z)
    }

    var identifier: String { zone?.identifier ?? "UTC" }

    /// The zone's offset from UTC at instant `t` (µs), in µs.
    mutating func offset(at t: Int64) -> Int64 {
        let hour = t >= 0 ? t / DayCalendar.hourMicros : (t - DayCalendar.hourMicros + 1) / DayCalendar.hourMicros
        if hour == lastHour { return lastOffset }  // before `zone` is touched: that costs a retain
        guard let zone else { return 0 }
        let o =
            offsets[hour] ?? Int64(zone.secondsFromGMT(for: Date(timeIntervalSince1970: Double(t) / 1e6))) * 1_000_000
        if offsets.count > 50_000 { offsets = [:] }
        offsets[hour] = o
        (lastHour, lastOffset) = (hour, o)
        return o
    }

    /// The local calendar day holding instant `t`.
    mutating func day(of t: Int64) -> Int32 {
        let local = t + offset(at: t)
        return Int32(
            local >= 0 ? local / DayCalendar.dayMicros : (local - DayCalendar.dayMicros + 1) / DayCalendar.dayMicros)
    }

    /// The UTC instants at which local day `d` starts and ends (23 or 25 hours on DST days).
    mutating func bounds(of d: Int32) -> Range<Int64> {
        if d == lastDay { return lastBounds }
        (lastDay, lastBounds) = (d, start(of: d)..<start(of: d + 1))
        return lastBounds
    }

    private mutating func start(of d: Int32) -> Int64 {
        let midnight = Int64(d) * DayCalendar.dayMicros
        var guess = midnight - offset(at: midnight)
        guess = midnight - offset(at: guess)
        return guess
    }

    /// Day number → `YYYY-MM-DD`.
    static func date(_ d: Int32) -> String {
        var out: [UInt8] = []
        Timestamp(microseconds: Int64(d) * dayMicros).appendRFC3339(to: &out)
        return String(decoding: out.prefix(10), as: UTF8.self)
    }

    /// `YYYY-MM-DD` → day number.
    static func day(from date: String) -> Int32? {
        guard date.utf8.count == 10, let t = Timestamp(rfc3339: date + "T00:00:00Z") else { return nil }
        return Int32(t.microseconds / dayMicros)
    }
}
