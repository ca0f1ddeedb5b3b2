import LogbookTestSupport
import Testing

@testable import LogbookCore

@Suite("Named totals")
struct NamedTotalsTests {
    @Test("random adds and takes agree with a dictionary, below and past the search limit")
    func agreesWithDictionary() {
        for names in [3, NamedTotals.searchLimit + 20] {
            var g = SeededGenerator(seed: UInt64(names))
            var totals = NamedTotals()
            var model: [String: Int64] = [:]
            for _ in 0..<5_000 {
                let name = "app-\(g.next() % UInt64(names))"
                let v = Int64(1 + g.next() % 50)
                if g.next() % 3 == 0 {
                    let ok = totals.take(name, v)
                    let old = model[name] ?? 0
                    #expect(ok == (old >= v && model[name] != nil))
                    if ok { model[name] = old == v ? nil : old - v }
                } else {
                    totals.add(name, v)
                    model[name, default: 0] += v
                }
                #expect(totals[name] == model[name])
            }
            #expect(totals.dictionary == model)
            #expect(totals == NamedTotals(model))
            #expect(totals.sorted.map(\.name) == model.keys.sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) })
        }
    }

    @Test("equality ignores order; a refused take changes nothing")
    func equalityAndRefusal() {
        var a = NamedTotals()
        a.add("Editor", 5)
        a.add("Slack", 7)
        var b = NamedTotals()
        b.add("Slack", 7)
        b.add("Editor", 5)
        #expect(a == b)
        let tooMuch = b.take("Editor", 6)
        let absent = b.take("Mail", 1)
        #expect(!tooMuch && !absent)
        #expect(a == b)
        let exact = b.take("Editor", 5)
        #expect(exact)
        #expect(b["Editor"] == nil && b.count == 1)
        #expect(a != b)
    }
}
