/// An activity sample as a live turn takes it from a commit's encoded batch
/// (`CommittedEvents`): the parts its timeline record and daily figures need, read in place.
///
/// Its record is, byte for byte, the one `TimelineEntry(event:category:)` encodes for the
/// decoded event — the payload is copied as the commit encoded it, in the same canonical form
/// — but no event is made: decoding each sample into an `Event`, its field array and its
/// strings, turning it into an entry, encoding that and freeing it all again was a third of a
/// live turn, and nearly every event of an agent's stream is a sample.
struct EncodedSample: TimelineRecordSource {
    let sequence: UInt64
    let id: EventID
    let occurredMicros: Int64
    let duration: Int64?
    /// The canonical payload (`EventCodec.encodePayload`), in the commit's buffer.
    let payload: UnsafeRawBufferPointer
    let app: String?
    let category: String

    var end: Int64 { occurredMicros + max(0, duration ?? 0) }

    var encodedBound: Int { TimelineEntry.bound(payload: payload.count, category: category, corrections: 0) }

    func encode(into c: inout ByteCursor) {
        TimelineEntry.encodeHead(
            type: .activityWindow, id: id, duration: duration, category: true, corrections: false, into: &c)
        c.raw(payload)
        TimelineEntry.encodeTrailer(category: category, corrections: [], into: &c)
    }

    func count(into day: inout DailyAggregate, bounds: Range<Int64>) {
        day.addActivity(start: occurredMicros, duration: duration, app: app, category: category, bounds: bounds)
    }

    /// The app and title in a sample's canonical payload, when they are strings (as the
    /// catalogue has them; a decoded entry ignores anything else in their place too).
    static func strings(
        in payload: UnsafeRawBufferPointer
    ) -> (app: UnsafeRawBufferPointer?, title: UnsafeRawBufferPointer?) {
        var app: UnsafeRawBufferPointer?
        var title: UnsafeRawBufferPointer?
        EventCodec.forEachTopLevelString(in: payload) { key, bytes in
            if key == FieldKey.app.rawValue {
                app = bytes
            } else if key == FieldKey.title.rawValue {
                title = bytes
            }
        }
        return (app, title)
    }
}
