import LogbookJSON

/// Everything Logbook holds about one person, for their data-access request: their raw events
/// (corrections and retractions included), the effective timeline, and the daily aggregates.
public enum ExportFormat: String, Sendable, CaseIterable {
    /// One JSON document: `{"tenant", "user", "person", "events": […], "timeline": […], "daily": […]}`.
    case json
    /// One CSV table, a row per record: `record` is `event`, `timeline` or `daily`; `data` holds
    /// the record's fields as JSON.
    case csv
}

extension LogStore {
    /// Writes the export of `user` in pieces to `write`; raw events stream from the log in
    /// constant memory.
    public func exportPerson(
        _ tenant: TenantID, user: UserID, format: ExportFormat, write: ([UInt8]) throws -> Void
    ) throws(LogError) {
        try catchUpProjections(tenant)
        let (person, items, days): (PersonRecord?, [TimelineItem], [DailyRow]) = try withProjections(
            tenant, asOf: nil
        ) { reader, txn in
            (
                try reader.person(user, in: txn),
                try reader.timeline(
                    user, from: Timestamp(microseconds: 0), to: Timestamp(microseconds: .max / 2), after: nil,
                    limit: .max, in: txn
                ).items,
                try reader.daily(user, fromDay: .min, toDay: .max, in: txn)
            )
        }
        var w = JSONWriter(capacity: 1 << 16)
        func flush(_ force: Bool = false) throws {
            if force || w.bytes.count > 1 << 16 {
                try write(w.bytes)
                w.reset()
            }
        }
        try wrap {
            switch format {
            case .json:
                w.beginObject()
                w.writeKey("tenant")
                w.writeString(tenant.rawValue)
                w.writeKey("user")
                w.writeString(user.description)
                w.writeKey("person")
                if let person {
                    w.beginObject()
                    w.key("role", person.role)
                    w.key("manager", person.manager?.description)
                    w.writeKey("active")
                    w.writeBool(person.active)
                    w.endObject()
                } else {
                    w.writeNull()
                }
                w.writeKey("events")
                w.beginArray()
                try read(tenant) { e in
                    if e.subject == user {
                        e.writeJSON(tenant: tenant, into: &w)
                        try flush()
                    }
                    return true
                }
                w.endArray()
                w.writeKey("timeline")
                w.beginArray()
                for item in items {
                    item.writeJSON(into: &w)
                    try flush()
                }
                w.endArray()
                w.writeKey("daily")
                w.beginArray()
                for d in days { d.writeJSON(into: &w) }
                w.endArray()
                w.endObject()
                w.bytes.append(UInt8(ascii: "\n"))
            case .csv:
                w.bytes += Array("record,seq,id,type,time,end,seconds,data,events\n".utf8)
                try read(tenant) { e in
                    if e.subject == user {
                        var data = JSONWriter()
                        Event.writeFields(e.data, type: e.type, into: &data)
                        csvRow(
                            &w,
                            [
                                "event", "\(e.sequence)", e.id.description, e.type.name, e.occurredAt.description, "",
                                e.duration.map { "\(Double($0) / 1e6)" } ?? "",
                                String(decoding: data.bytes, as: UTF8.self),
                                "",
                            ])
                        try flush()
                    }
                    return true
                }
                for item in items {
                    var data = JSONWriter()
                    Event.writeFields(item.data, type: item.type, into: &data)
                    csvRow(
                        &w,
                        [
                            "timeline", item.sequences.first.map { "\($0)" } ?? "", "", item.type.name,
                            item.start.description, item.end.description,
                            "\(Double(item.end.microseconds - item.start.microseconds) / 1e6)",
                            String(decoding: data.bytes, as: UTF8.self),
                            item.events.map(\.description).joined(separator: " "),
                        ])
                    try flush()
                }
                for d in days {
                    var data = JSONWriter()
                    data.beginObject()
                    d.aggregate.writeFigures(into: &data)
                    data.endObject()
                    csvRow(
                        &w,
                        [
                            "daily", "", "", "", d.date, "", "\(Double(d.aggregate.activeMicros) / 1e6)",
                            String(decoding: data.bytes, as: UTF8.self), "",
                        ])
                }
            }
            try flush(true)
        }
    }
}

/// One CSV row (RFC 4180: fields with commas, quotes or line breaks are quoted, quotes doubled).
/// A field starting with `=`, `+`, `-` or `@` gets a leading apostrophe, so that a spreadsheet
/// does not run it as a formula (window titles are user-controlled).
func csvRow(_ w: inout JSONWriter, _ fields: [String]) {
    for (i, f) in fields.enumerated() {
        if i > 0 { w.bytes.append(UInt8(ascii: ",")) }
        var f = f
        if let c = f.first, "=+-@".contains(c), Double(f) == nil { f = "'" + f }
        if f.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" }) {
            w.bytes.append(UInt8(ascii: "\""))
            w.bytes += Array(f.replacingOccurrences(of: "\"", with: "\"\"").utf8)
            w.bytes.append(UInt8(ascii: "\""))
        } else {
            w.bytes += Array(f.utf8)
        }
    }
    w.bytes.append(UInt8(ascii: "\n"))
}
