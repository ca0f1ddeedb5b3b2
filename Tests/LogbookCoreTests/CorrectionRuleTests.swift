import LogbookCore
import LogbookTestSupport
import Testing

/// The rules a correction or retraction must meet when appended (TenantLog+Corrections.swift).
@Suite("Correction rules")
struct CorrectionRuleTests {
    let tenant = TenantID("acme")!
    let alice = EventFactory.user(1)
    let bob = EventFactory.user(2)

    func corrected(_ g: inout SeededGenerator, _ user: UserID, target: Value, set: [Field]) -> Event {
        Event(
            id: .random(using: &g), type: .eventCorrected, subject: user, occurredAt: EventFactory.t0,
            data: [Field(.target, target), Field(.set, .fields(set))])
    }

    func retracted(_ g: inout SeededGenerator, _ user: UserID, target: Value) -> Event {
        Event(
            id: .random(using: &g), type: .eventRetracted, subject: user, occurredAt: EventFactory.t0,
            data: [Field(.target, target), Field(.reason, .string("not work related"))])
    }

    func refusal(_ o: AppendOutcome) -> AppendOutcome.Refusal.Code? {
        if case .refused(let r) = o { return r.code }
        return nil
    }

    @Test("a correction by id or by sequence of the same user's event is stored")
    func accepted() async throws {
        let dir = TemporaryDirectory()
        let store = try LogStore(directory: dir.path, options: testOptions())
        defer { store.close() }
        var g = SeededGenerator(seed: 31)
        let w = EventFactory.window(&g, user: alice)
        let out = try await store.append(
            [
                w, corrected(&g, alice, target: .uuid(w.id), set: [Field(.title, .string("(private)"))]),
                corrected(&g, alice, target: .int(1), set: [Field(.app, .string("Editor"))]),
            ], to: tenant)
        #expect(out == [.appended(sequence: 1), .appended(sequence: 2), .appended(sequence: 3)])
    }

    @Test("within its batch, a correction finds an earlier new event by id, not a later one nor a refused one")
    func targetsInTheBatch() async throws {
        let dir = TemporaryDirectory()
        let store = try LogStore(directory: dir.path, options: testOptions())
        defer { store.close() }
        var g = SeededGenerator(seed: 33)
        let set = [Field(.title, .string("x"))]
        let (w, later) = (EventFactory.window(&g, user: alice), EventFactory.window(&g, user: alice))
        let tooEarly = corrected(&g, alice, target: .uuid(later.id), set: set)
        let out = try await store.append(
            [
                w, tooEarly, later, corrected(&g, alice, target: .uuid(w.id), set: set),
                corrected(&g, alice, target: .uuid(later.id), set: set),
                corrected(&g, alice, target: .uuid(tooEarly.id), set: set),
            ], to: tenant)
        #expect(out[0] == .appended(sequence: 1))
        #expect(refusal(out[1]) == .correctionTargetNotFound)
        #expect(out[2...4] == [.appended(sequence: 2), .appended(sequence: 3), .appended(sequence: 4)])
        #expect(refusal(out[5]) == .correctionTargetNotFound)
    }

    @Test("the target must exist in the tenant: unknown id, a sequence past the head, another tenant's event")
    func targetMustExist() async throws {
        let dir = TemporaryDirectory()
        let store = try LogStore(directory: dir.path, options: testOptions())
        defer { store.close() }
        var g = SeededGenerator(seed: 32)
        let elsewhere = EventFactory.window(&g, user: alice)
        _ = try await store.append([elsewhere], to: TenantID("other")!)
        _ = try await store.append([EventFactory.window(&g, user: alice)], to: tenant)
        let set = [Field(.title, .string("x"))]
        let out = try await store.append(
            [
                corrected(&g, alice, target: .uuid(.random(using: &g)), set: set),
                corrected(&g, alice, target: .int(99), set: set),
                retracted(&g, alice, target: .uuid(elsewhere.id)),
            ], to: tenant)
        #expect(out.map(refusal) == Array(repeating: .correctionTargetNotFound, count: 3))
        #expect(try store.stats(tenant).events == 1)  // nothing written
    }

    @Test("the target must concern the same user")
    func sameSubject() async throws {
        let dir = TemporaryDirectory()
        let store = try LogStore(directory: dir.path, options: testOptions())
        defer { store.close() }
        var g = SeededGenerator(seed: 33)
        let w = EventFactory.window(&g, user: alice)
        let out = try await store.append(
            [w, retracted(&g, bob, target: .uuid(w.id)), corrected(&g, bob, target: .int(1), set: [])], to: tenant)
        #expect(out[0] == .appended(sequence: 1))
        #expect(out.dropFirst().map(refusal) == [.correctionSubjectMismatch, .correctionSubjectMismatch])
        if case .refused(let r) = out[1] { #expect(r.field == "data.target") }
    }

    @Test("a retracted event cannot be corrected or retracted again, also through its chain, also after a restart")
    func retractedIsFinal() async throws {
        let dir = TemporaryDirectory()
        var g = SeededGenerator(seed: 34)
        let w = EventFactory.window(&g, user: alice)
        let fix = corrected(&g, alice, target: .uuid(w.id), set: [Field(.title, .string("a"))])
        let retraction = retracted(&g, alice, target: .uuid(fix.id))  // a correction names the chain's root
        do {
            let store = try LogStore(directory: dir.path, options: testOptions())
            let out = try await store.append(
                [w, fix, retraction, corrected(&g, alice, target: .int(1), set: [])], to: tenant)
            #expect(out.prefix(3) == [.appended(sequence: 1), .appended(sequence: 2), .appended(sequence: 3)])
            #expect(refusal(out[3]) == .correctionTargetRetracted)
            store.close()
        }
        let store = try LogStore(directory: dir.path, options: testOptions())
        defer { store.close() }
        let out = try await store.append(
            [
                corrected(&g, alice, target: .uuid(fix.id), set: [Field(.title, .string("b"))]),
                retracted(&g, alice, target: .int(1)),
            ], to: tenant)
        #expect(out.map(refusal) == [.correctionTargetRetracted, .correctionTargetRetracted])
    }

    @Test("only fields of the corrected event's type may be replaced; the refusal names the field")
    func catalogueFieldsOnly() async throws {
        let dir = TemporaryDirectory()
        let store = try LogStore(directory: dir.path, options: testOptions())
        defer { store.close() }
        var g = SeededGenerator(seed: 35)
        let w = EventFactory.window(&g, user: alice)
        let fix = corrected(&g, alice, target: .uuid(w.id), set: [Field(.title, .string("a"))])
        let out = try await store.append(
            [
                w, fix,
                corrected(&g, alice, target: .int(1), set: [Field(.project, .string("p"))]),
                // Correcting the correction means correcting the window sample: its fields apply.
                corrected(&g, alice, target: .uuid(fix.id), set: [Field(.app, .string("b"))]),
            ], to: tenant)
        #expect(out[3] == .appended(sequence: 3))
        guard case .refused(let r) = out[2] else {
            Issue.record("expected a refusal, got \(out[2])")
            return
        }
        #expect(r.code == .correctionFieldNotInType)
        #expect(r.field == "data.set.project")
    }
}
