public import LogbookJSON

// JSON forms of projection results, shared by the CLI and the HTTP API (specs/projections.md).
// Durations are seconds (numbers), instants RFC 3339 strings, every figure traceable to the
// log through `events`, `seq` and `target`.

extension JSONWriter {
    mutating func key(_ k: String, seconds micros: Int64) {
        writeKey(k)
        writeDouble(Double(micros) / 1e6)
    }

    mutating func key(_ k: String, _ s: String?) {
        writeKey(k)
        if let s { writeString(s) } else { writeNull() }
    }

    mutating func secondsMap(_ k: String, _ m: [String: Int64]) {
        writeKey(k)
        beginObject()
        for (name, v) in m.sorted(by: { $0.value != $1.value ? $0.value > $1.value : $0.key < $1.key }) {
            key(name, seconds: v)
        }
        endObject()
    }
}

extension TimelineItem {
    public func writeJSON(into w: inout JSONWriter) {
        w.beginObject()
        w.key("start", start.description)
        w.key("end", end.description)
        w.key("duration", seconds: end.microseconds - start.microseconds)
        w.key("type", type.name)
        w.writeKey("data")
        Event.writeFields(data, type: type, into: &w)
        if let category { w.key("category", category) }
        w.writeKey("events")
        w.beginArray()
        for id in events { w.writeString(id.description) }
        w.endArray()
        w.writeKey("seqs")
        w.beginArray()
        for s in sequences { w.writeInteger(Int64(bitPattern: s)) }
        w.endArray()
        w.endObject()
    }
}

extension DailyAggregate {
    func writeFigures(into w: inout JSONWriter) {
        w.key("active_seconds", seconds: activeMicros)
        w.key("afk_seconds", seconds: afkMicros)
        w.secondsMap("apps", apps)
        w.secondsMap("categories", categories)
        w.key("first_activity", firstActivity == .max ? nil : Timestamp(microseconds: firstActivity).description)
        w.key("last_activity", lastActivity == .min ? nil : Timestamp(microseconds: lastActivity).description)
        for (k, list) in [("clock_in", clockIns), ("clock_out", clockOuts)] {
            w.writeKey(k)
            w.beginArray()
            for t in list { w.writeString(Timestamp(microseconds: t).description) }
            w.endArray()
        }
        w.key("attended_seconds", seconds: attendedMicros)
        w.secondsMap("projects", projects)
        w.writeKey("events")
        w.writeInteger(events)
    }
}

extension DailyRow {
    public func writeJSON(into w: inout JSONWriter) {
        w.beginObject()
        w.key("user", user.description)
        w.key("date", date)
        aggregate.writeFigures(into: &w)
        w.endObject()
    }
}

extension TeamReport {
    public func writeJSON(into w: inout JSONWriter) {
        w.beginObject()
        w.key("manager", manager.description)
        w.key("from", fromDate)
        w.key("to", toDate)
        w.writeKey("totals")
        w.beginObject()
        totals.writeFigures(into: &w)
        w.endObject()
        for (k, top) in [("top_apps", topApps), ("top_categories", topCategories)] {
            w.writeKey(k)
            w.beginArray()
            for t in top {
                w.beginObject()
                w.key("name", t.name)
                w.key("seconds", seconds: t.micros)
                w.endObject()
            }
            w.endArray()
        }
        if let cost {
            w.writeKey("cost")
            w.writeDouble(cost)
        }
        w.writeKey("members")
        w.beginArray()
        for m in members {
            w.beginObject()
            w.key("user", m.user.description)
            w.key("role", m.role)
            w.writeKey("active")
            w.writeBool(m.active)
            w.writeKey("days_attended")
            w.writeInteger(Int64(m.daysAttended))
            w.key("attended_seconds", seconds: m.attendedMicros)
            if let c = m.cost {
                w.writeKey("cost")
                w.writeDouble(c)
            }
            w.writeKey("totals")
            w.beginObject()
            m.totals.writeFigures(into: &w)
            w.endObject()
            w.endObject()
        }
        w.endArray()
        w.endObject()
    }
}

extension AuditRecord {
    public func writeJSON(into w: inout JSONWriter) {
        let e = event
        w.beginObject()
        w.writeKey("seq")
        w.writeInteger(Int64(bitPattern: e.sequence))
        w.key("id", e.id.description)
        w.key("type", e.type.name)
        w.key("actor", e.actor)
        w.key("user", e.subject?.description)
        w.key("ts", e.occurredAt.description)
        w.key("recorded", e.recordedAt.description)
        w.writeKey("data")
        Event.writeFields(e.data, type: e.type, into: &w)
        if let targetID { w.key("target", targetID.description) }
        if let target {
            w.writeKey("target_seq")
            w.writeInteger(Int64(bitPattern: target))
        }
        if let before {
            w.writeKey("before")
            Event.writeFields(before, type: nil, into: &w)
        }
        if let after {
            w.writeKey("after")
            Event.writeFields(after, type: nil, into: &w)
        }
        w.endObject()
    }
}

/// The JSON documents queries answer with, the same from the CLI and the HTTP API:
/// `{"items": […], "next": …}`, `{"days": […]}`, `{"team": {…}}`, `{"records": […], "next": …}`.
public enum ProjectionDocument {
    public static func timeline(_ page: TimelinePage) -> [UInt8] {
        list("items", page.items, next: page.next, sizeEach: 256) { $0.writeJSON(into: &$1) }
    }

    public static func daily(_ rows: [DailyRow]) -> [UInt8] {
        list("days", rows, sizeEach: 512) { $0.writeJSON(into: &$1) }
    }

    public static func team(_ report: TeamReport) -> [UInt8] {
        var w = JSONWriter(capacity: 4096)
        w.beginObject()
        w.writeKey("team")
        report.writeJSON(into: &w)
        w.endObject()
        return w.bytes
    }

    public static func audit(_ page: AuditPage) -> [UInt8] {
        list("records", page.records, next: page.next.map { String($0) }, sizeEach: 320) { $0.writeJSON(into: &$1) }
    }

    /// `{"<key>": [items…]}`, plus `"next"` (a cursor or null) for paged answers.
    private static func list<T>(
        _ key: String, _ items: [T], next: String?? = nil, sizeEach: Int, _ write: (T, inout JSONWriter) -> Void
    ) -> [UInt8] {
        var w = JSONWriter(capacity: 1024 + items.count * sizeEach)
        w.beginObject()
        w.writeKey(key)
        w.beginArray()
        for item in items { write(item, &w) }
        w.endArray()
        if let next { w.key("next", next) }
        w.endObject()
        return w.bytes
    }
}
