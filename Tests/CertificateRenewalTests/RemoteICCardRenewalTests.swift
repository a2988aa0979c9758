import CardCredentials
import CardSimulator
import CertificateRenewal
import Foundation
import Registration
import RegistrationPostgres
import Testing
import X509

/// The IC card renewal driven by evidence, as a portal's server runs it: the same rules as the in-process flow,
/// state in the store between steps, any instance continuing it.
@Suite("IC card renewal across the network: evidence instead of cards, state in the store")
struct RemoteICCardRenewalTests {
    typealias Bench = RenewalBench
    static let origin = try! PortalOrigin("https://portal.example.jp")

    /// The card's key signs `challenge` for `origin`, as the card agent would (the PIN verified on the card).
    static func evidence(
        _ card: PrivateCAICCard, pin: String, for challenge: EvidenceChallenge, origin: PortalOrigin = origin
    ) async throws -> CardEvidence {
        let slot = SimulatedSlot(name: "Agent")
        slot.insert(card)
        defer { slot.remove() }
        let client = try await ICCard.connect(
            transport: try await slot.connect(), profile: .procurementIdentitySimulator)
        let key = try await client.signingKey(pin: try Bench.pin(pin))
        return try await challenge.sign(for: origin, with: key)
    }

    static func renewal(_ bench: Bench, service: RegistrationService? = nil) -> RemoteICCardRenewal {
        var environment = bench.environment()
        if let service { environment.service = service }
        return RemoteICCardRenewal(environment: environment, origin: origin)
    }

    /// A second server instance: its own store object (its own connections) on the same database.
    static func secondInstance(_ bench: Bench, store: any RegistrationStore) -> RemoteICCardRenewal {
        let clock = bench.clock
        let service = RegistrationService(
            store: store, portal: bench.service.portal, now: { clock.now })
        return renewal(bench, service: service)
    }

    /// Runs a whole renewal, alternating between two instances `a` and `b`, and checks the result.
    static func wholeRenewal(_ bench: Bench, _ a: RemoteICCardRenewal, _ b: RemoteICCardRenewal) async throws {
        let session = try await bench.login(with: bench.currentCard, pin: Bench.currentPIN)
        let newCard = try bench.newCard()
        var state = try await a.start(for: session)
        #expect(state.step == .currentCard)
        let first = try await b.challenge(for: state.flowID, session: session)
        #expect(first.purpose == (try EvidencePurpose(flow: "ic-card-renewal", step: "current-card")))
        state = try await a.presentCurrentCard(
            try await evidence(bench.currentCard, pin: Bench.currentPIN, for: first), flow: state.flowID,
            session: session)
        #expect(state.step == .newCard)
        let second = try await a.challenge(for: state.flowID, session: session)
        state = try await b.presentNewCard(
            try await evidence(newCard, pin: Bench.newPIN, for: second), flow: state.flowID, session: session)
        #expect(state.step == .confirm)
        let confirmation = try await a.confirmation(flow: state.flowID, session: session)
        #expect(confirmation.current.value(of: "業者名称") == Bench.companyName)
        #expect(
            confirmation.new.fingerprint == (try CertificateBinding.fingerprint(of: Bench.certificate(of: newCard))))
        let before = try await bench.stored()
        let completion = try await b.update(flow: state.flowID, session: session)
        #expect(completion.registration.version == before.version + 1)
        #expect(try await a.state(of: state.flowID, session: session).step == .completed)

        // The old card can no longer log in; the new one can.
        await #expect(throws: RegistrationError.certificateNotActive(.superseded)) {
            _ = try await bench.login(with: bench.currentCard, pin: Bench.currentPIN)
        }
        #expect(try await bench.login(with: newCard, pin: Bench.newPIN).userID == bench.userID)
    }

    @Test("a whole renewal on two instances over one SQLite file")
    func twoInstancesSQLite() async throws {
        let bench = try await Bench(sqlite: true)
        defer { bench.remove() }
        let second = Self.secondInstance(bench, store: try SQLiteRegistrationStore(path: bench.databasePath))
        try await Self.wholeRenewal(bench, Self.renewal(bench), second)
    }

    @Test("a whole renewal on two instances over one PostgreSQL schema")
    func twoInstancesPostgres() async throws {
        var configuration = try PostgresStoreConfiguration(
            url: ProcessInfo.processInfo.environment["PI_TEST_POSTGRES_URL"]
                ?? "postgres://pi_test:pi_test@127.0.0.1:5432/pi_test", environment: [:])
        configuration.schema =
            "t_\(Int(Date().timeIntervalSince1970))_renewal_\(UUID().uuidString.prefix(8).lowercased())"
        let first = try await PostgresRegistrationStore(configuration)
        let second = try await PostgresRegistrationStore(configuration)
        let bench = try await Bench(store: first)
        defer { bench.remove() }
        try await Self.wholeRenewal(bench, Self.renewal(bench), Self.secondInstance(bench, store: second))
        try await first.execute(sql: "DROP SCHEMA \"\(configuration.schema ?? "")\" CASCADE")
        await first.close()
        await second.close()
    }

    /// The registration and its history are as they were.
    static func unchanged(_ bench: Bench, _ before: BusinessRegistration) async throws {
        #expect(try await bench.stored() == before)
        #expect(try await bench.store.history(of: before.id).count == 1)
    }

    static func refusal(_ error: LifecycleError?) -> EvidenceError.Code? {
        guard error?.code == .registration, case .evidenceRefused(let refusal)? = error?.registrationError else {
            return nil
        }
        return refusal.code
    }

    @Test("replayed, foreign-origin, expired and out-of-order evidence is refused and changes nothing")
    func refusals() async throws {
        let bench = try await Bench()
        defer { bench.remove() }
        let before = try await bench.stored()
        let renewal = Self.renewal(bench)
        let session = try await bench.login(with: bench.currentCard, pin: Bench.currentPIN)
        var state = try await renewal.start(for: session)
        let flow = state.flowID

        // Out of order: the new card's step before the current card's.
        let early = try await renewal.challenge(for: flow, session: session)
        let earlyEvidence = try await Self.evidence(bench.currentCard, pin: Bench.currentPIN, for: early)
        let outOfOrder = await #expect(throws: LifecycleError.self) {
            try await renewal.presentNewCard(earlyEvidence, flow: flow, session: session)
        }
        #expect(outOfOrder == .notAtStep(expected: "new-card", current: "current-card"))

        // A page of another site had the card sign the portal's challenge.
        let foreign = try await Self.evidence(
            bench.currentCard, pin: Bench.currentPIN, for: try await renewal.challenge(for: flow, session: session),
            origin: try PortalOrigin("https://evil.example"))
        let foreignError = await #expect(throws: LifecycleError.self) {
            try await renewal.presentCurrentCard(foreign, flow: flow, session: session)
        }
        #expect(Self.refusal(foreignError) == .foreignOrigin)

        // Expired: signed, then sent after the challenge's two minutes.
        let late = try await Self.evidence(
            bench.currentCard, pin: Bench.currentPIN, for: try await renewal.challenge(for: flow, session: session))
        bench.clock.advance(by: 121)
        let lateError = await #expect(throws: LifecycleError.self) {
            try await renewal.presentCurrentCard(late, flow: flow, session: session)
        }
        #expect(Self.refusal(lateError) == .challengeExpired)

        // The good evidence passes once; sent again it is a replay, refused at the next step.
        let good = try await Self.evidence(
            bench.currentCard, pin: Bench.currentPIN, for: try await renewal.challenge(for: flow, session: session))
        state = try await renewal.presentCurrentCard(good, flow: flow, session: session)
        #expect(state.step == .newCard)
        let replay = await #expect(throws: LifecycleError.self) {
            try await renewal.presentNewCard(good, flow: flow, session: session)
        }
        #expect(Self.refusal(replay) == .challengeUnknown)

        // Evidence for the current card's step sent to the new card's step (a challenge of the old step kept).
        let kept = try await Self.evidence(bench.currentCard, pin: Bench.currentPIN, for: early)
        let keptError = await #expect(throws: LifecycleError.self) {
            try await renewal.presentNewCard(kept, flow: flow, session: session)
        }
        #expect(Self.refusal(keptError) == .challengeUnknown, "the early challenge was used up by its refusal")

        // The current card again as the "new" one: the rules refuse it.
        let same = try await Self.evidence(
            bench.currentCard, pin: Bench.currentPIN, for: try await renewal.challenge(for: flow, session: session))
        await #expect(throws: LifecycleError.sameCard) {
            try await renewal.presentNewCard(same, flow: flow, session: session)
        }
        try await Self.unchanged(bench, before)
    }

    @Test("a challenge of one flow is refused in another; a flow is its user's only; an idle flow expires")
    func ownership() async throws {
        let bench = try await Bench()
        defer { bench.remove() }
        let renewal = Self.renewal(bench)
        let session = try await bench.login(with: bench.currentCard, pin: Bench.currentPIN)
        let one = try await renewal.start(for: session)
        let two = try await renewal.start(for: session)
        let challenge = try await renewal.challenge(for: one.flowID, session: session)
        let evidence = try await Self.evidence(bench.currentCard, pin: Bench.currentPIN, for: challenge)
        let error = await #expect(throws: LifecycleError.self) {
            try await renewal.presentCurrentCard(evidence, flow: two.flowID, session: session)
        }
        #expect(Self.refusal(error) == .challengeNotYours)

        var stranger = session
        stranger.userID = UserID.random()
        await #expect(throws: LifecycleError.flowNotFound(one.flowID)) {
            try await renewal.state(of: one.flowID, session: stranger)
        }
        bench.clock.advance(by: renewal.lifetime + 1)
        await #expect(throws: LifecycleError.flowExpired(one.flowID)) {
            try await renewal.state(of: one.flowID, session: session)
        }
        await #expect(throws: LifecycleError.flowNotFound(one.flowID)) {
            try await renewal.state(of: one.flowID, session: session)
        }
    }

    @Test("two requests continue one flow at once: one wins, the other is refused with flowChanged")
    func race() async throws {
        let bench = try await Bench(sqlite: true)
        defer { bench.remove() }
        let a = Self.renewal(bench)
        let b = Self.secondInstance(bench, store: try SQLiteRegistrationStore(path: bench.databasePath))
        let session = try await bench.login(with: bench.currentCard, pin: Bench.currentPIN)
        let flow = try await a.start(for: session).flowID
        let first = try await Self.evidence(
            bench.currentCard, pin: Bench.currentPIN, for: try await a.challenge(for: flow, session: session))
        let second = try await Self.evidence(
            bench.currentCard, pin: Bench.currentPIN, for: try await b.challenge(for: flow, session: session))
        async let one = Self.outcome { try await a.presentCurrentCard(first, flow: flow, session: session) }
        async let two = Self.outcome { try await b.presentCurrentCard(second, flow: flow, session: session) }
        let outcomes = await [one, two]
        let wins = outcomes.filter { $0 == nil }
        let losses = outcomes.compactMap { $0 }
        #expect(wins.count == 1)
        #expect(losses == [.registration(.flowChanged(flow))])
        #expect(try await a.state(of: flow, session: session).step == .newCard)
    }

    /// The error `body` throws, or nil when it returns.
    static func outcome(_ body: () async throws -> ICCardRenewalState) async -> LifecycleError? {
        do {
            _ = try await body()
            return nil
        } catch {
            return error as? LifecycleError ?? .cancelled
        }
    }

    @Test("the registration changed after the confirmation was prepared: nothing stored, the flow starts over")
    func changedUnderneath() async throws {
        let bench = try await Bench()
        defer { bench.remove() }
        let renewal = Self.renewal(bench)
        let session = try await bench.login(with: bench.currentCard, pin: Bench.currentPIN)
        let newCard = try bench.newCard()
        let flow = try await renewal.start(for: session).flowID
        _ = try await renewal.presentCurrentCard(
            try await Self.evidence(
                bench.currentCard, pin: Bench.currentPIN, for: try await renewal.challenge(for: flow, session: session)),
            flow: flow, session: session)
        _ = try await renewal.presentNewCard(
            try await Self.evidence(
                newCard, pin: Bench.newPIN, for: try await renewal.challenge(for: flow, session: session)),
            flow: flow, session: session)
        // Another change (the user's phone) lands first.
        var information = try #require(bench.registration.representative).information
        information.phone = try PhoneNumber("03-9999-0000")
        _ = try await bench.service.commit(
            try await bench.service.prepare(
                .updateUserInformation(bench.userID, information), to: bench.registration.id,
                by: .user(bench.userID, binding: bench.binding.id)))
        let changed = try await bench.stored()
        await #expect(throws: LifecycleError.registrationChanged) {
            try await renewal.update(flow: flow, session: session)
        }
        #expect(try await bench.stored() == changed)
        #expect(try await renewal.state(of: flow, session: session).step == .currentCard)
    }
}
