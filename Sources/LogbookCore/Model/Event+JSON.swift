public import LogbookJSON

extension Event {
    /// Writes the event in the v1 wire envelope, plus the log's `seq` and `recorded`.
    public func writeJSON(tenant: TenantID, into w: inout JSONWriter) {
        w.beginObject()
        w.writeKey("seq")
        w.writeInteger(Int64(bitPattern: sequence))
        w.writeKey("id")
        w.writeString(id.description)
        w.writeKey("tenant")
        w.writeString(tenant.rawValue)
        w.writeKey("type")
        w.writeString(type.name)
        if let subject {
            w.writeKey("user")
            w.writeString(subject.description)
        }
        if let actor {
            w.writeKey("actor")
            w.writeString(actor)
        }
        w.writeKey("ts")
        w.writeString(occurredAt.description)
        w.writeKey("recorded")
        w.writeString(recordedAt.description)
        if let duration {
            w.writeKey("duration")
            w.writeDouble(Double(duration) / 1_000_000)
        }
        w.writeKey("data")
        Event.writeFields(data, type: type, into: &w)
        w.endObject()
    }

    static func writeFields(_ fields: [Field], type: EventType?, into w: inout JSONWriter) {
        w.beginObject()
        for f in fields {
            w.writeKey(f.key.name)
            if f.key == .value, type == .settingsChanged, case .string(let json) = f.value,
                let parsed = try? JSONParser.parse(json)
            {
                w.write(parsed)  // settings values are stored as compact JSON text
                continue
            }
            writeValue(f.value, into: &w)
        }
        w.endObject()
    }

    static func writeValue(_ v: Value, into w: inout JSONWriter) {
        switch v {
        case .null: w.writeNull()
        case .bool(let b): w.writeBool(b)
        case .int(let i): w.writeInteger(i)
        case .double(let d): w.writeDouble(d)
        case .string(let s): w.writeString(s)
        case .uuid(let u): w.writeString(u.description)
        case .time(let t): w.writeString(t.description)
        case .fields(let fs): writeFields(fs, type: nil, into: &w)
        }
    }
}
