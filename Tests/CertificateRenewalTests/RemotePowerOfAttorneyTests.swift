import CardCredentials
import CardSimulator
import CertificateRenewal
import Foundation
import JPKI
import Registration
import Testing
import X509

/// The expired power of attorney driven by evidence, as a portal's server runs it: the rules of
/// `PowerOfAttorneyFlow`, state in the store, any instance continuing it.
@Suite("Expired power of attorney across the network: renewal and deletion from evidence")
struct RemotePowerOfAttorneyTests {
    typealias Bench = UpdateBench
    static let origin = try! PortalOrigin("https://portal.example.jp")

    /// The My Number card's signing key (or its user-authentication key) signs `challenge`.
    static func evidence(
        _ card: JPKICard, key: JPKIKey = .signing, pin: String, for challenge: EvidenceChallenge
    ) async throws -> CardEvidence {
        let slot = SimulatedSlot(name: "Agent")
        slot.insert(card)
        defer { slot.remove() }
        let client = try await MyNumberCard.connect(transport: try await slot.connect())
        let secret =
            key == .signing ? try Bench.signing(pin) : try Bench.authentication(pin)
        let signer = try await client.signingKey(key, pin: secret, includeCACertificate: true)
        return try await challenge.sign(for: origin, with: signer)
    }

    static func desk(_ bench: Bench, _ provider: TestPOAProvider, store: (any RegistrationStore)? = nil) throws
        -> RemotePowerOfAttorney
    {
        var environment = try bench.environment()
        if let store {
            let clock = bench.clock
            environment.service = RegistrationService(store: store, portal: bench.service.portal, now: { clock.now })
        }
        return RemotePowerOfAttorney(
            environment: environment, origin: origin, provider: provider, linkage: bench.linkage)
    }

    /// The agent's session (its login is tested elsewhere).
    static func session(_ bench: Bench) async throws -> LoginSession {
        let registration = try await bench.stored()
        let binding = try requireValue(registration.bindings.first { $0.userID == bench.agentID })
        return LoginSession(
            businessID: bench.businessID, businessName: registration.business.name, userID: bench.agentID,
            userName: "試験 花子", role: .agent, bindingID: binding.id, authenticatedAt: bench.clock.now)
    }

    @Test("renewal: 失効画面, the signing key's evidence, 取得依頼 once, 確認, 更新, on two instances over one SQLite file")
    func renewal() async throws {
        let bench = try await Bench(sqlite: true)
        defer { bench.remove() }
        let provider = bench.provider()
        let a = try Self.desk(bench, provider)
        let b = try Self.desk(bench, provider, store: try SQLiteRegistrationStore(path: bench.databasePath))
        let session = try await Self.session(bench)
        var state = try await a.start(for: session)
        #expect(state.step == .expired)
        #expect(try await b.notice(flow: state.flowID, session: session).powerOfAttorney.reference == "POA-OLD-1")
        let flow = state.flowID
        // Out of order: 取得依頼 before the card.
        #expect(
            await outcome { _ = try await b.request(applicationNumber: "APP-1", flow: flow, session: session) }
                == .notAtStep(expected: "request", current: "expired"))
        state = try await b.chooseRenewal(flow: flow, session: session)
        let challenge = try await a.challenge(for: flow, session: session)
        #expect(challenge.purpose == (try EvidencePurpose(flow: "power-of-attorney", step: "renewal-card")))
        state = try await b.presentRenewalCard(
            try await Self.evidence(bench.agentCard, pin: Bench.signingPIN, for: challenge), flow: flow,
            session: session)
        #expect(state.step == .request)
        state = try await a.request(applicationNumber: "APP-2026-0001", flow: flow, session: session)
        #expect(state.step == .confirmRenewal)
        let confirmation = try await b.renewalConfirmation(flow: flow, session: session)
        #expect(confirmation.agent.first?.value == "試験 花子")
        #expect(try await bench.stored().version == 3, "nothing stored before 電子委任状更新")
        let done = try await a.renew(flow: flow, session: session)
        #expect(provider.requests.count == 1, "the provider is asked once, at 取得依頼")
        let current = try requireValue(done.registration.currentPowerOfAttorney(of: bench.agentID))
        #expect(current.reference == "POA-APP-2026-0001")
        #expect(try await b.state(of: flow, session: session).step == .renewed)
        // In force again: the flow is no longer offered.
        #expect(
            await outcome { _ = try await a.start(for: session) }
                == .powerOfAttorneyStillValid(validUntil: current.validUntil))
    }

    @Test("deletion: the user-authentication key's evidence paired by JPKI, the irreversibility acknowledged")
    func deletion() async throws {
        let bench = try await Bench()
        defer { bench.remove() }
        let desk = try Self.desk(bench, bench.provider())
        let session = try await Self.session(bench)
        var state = try await desk.start(for: session)
        let flow = state.flowID
        state = try await desk.chooseDeletion(flow: flow, session: session)
        state = try await desk.presentDeletionCard(
            try await Self.evidence(
                bench.agentCard, key: .authentication, pin: Bench.authenticationPIN,
                for: try await desk.challenge(for: flow, session: session)), flow: flow, session: session)
        #expect(state.step == .confirmDeletion)
        let confirmation = try await desk.deletionConfirmation(flow: flow, session: session)
        #expect(confirmation.notes.first == "削除した利用者情報を元に戻すことはできません。")
        #expect(
            await outcome { _ = try await desk.delete(acknowledgingIrreversible: false, flow: flow, session: session) }
                == .deletionNotAcknowledged)
        let done = try await desk.delete(acknowledgingIrreversible: true, flow: flow, session: session)
        #expect(try done.registration.user(bench.agentID).status == .deleted)
    }

    @Test("another card, a replay, a signing key at the deletion, another user's flow: refused, nothing changes")
    func refusals() async throws {
        let bench = try await Bench()
        defer { bench.remove() }
        let before = try await bench.stored()
        let desk = try Self.desk(bench, bench.provider())
        let session = try await Self.session(bench)
        let flow = try await desk.start(for: session).flowID
        _ = try await desk.chooseRenewal(flow: flow, session: session)

        // Another person's My Number card.
        var other = JPKIHolder.example
        other.name = "別人\u{3000}次郎"
        let stranger = try JPKICard.issue(
            by: bench.authority, holder: other, signingPIN: Bench.signingPIN, authenticationPIN: "1234",
            validity: .valid(days: 365, from: bench.clock.now))
        let wrongCard = try await Self.evidence(
            stranger, pin: Bench.signingPIN, for: try await desk.challenge(for: flow, session: session))
        #expect(
            await outcome { _ = try await desk.presentRenewalCard(wrongCard, flow: flow, session: session) }
                == .agentCardMismatch)

        // Accepted once, then replayed.
        let good = try await Self.evidence(
            bench.agentCard, pin: Bench.signingPIN, for: try await desk.challenge(for: flow, session: session))
        _ = try await desk.presentRenewalCard(good, flow: flow, session: session)
        _ = try await desk.back(flow: flow, session: session)
        _ = try await desk.chooseRenewal(flow: flow, session: session)
        let replay = await outcome { _ = try await desk.presentRenewalCard(good, flow: flow, session: session) }
        guard case .evidenceRefused(let refusal)? = replay?.registrationError, refusal.code == .challengeUnknown else {
            Issue.record("a replay was not refused as such: \(String(describing: replay))")
            return
        }

        // Someone else's session does not find the flow.
        var intruder = session
        intruder.userID = bench.representativeID
        #expect(await outcome { _ = try await desk.state(of: flow, session: intruder) } == .flowNotFound(flow))
        #expect(try await bench.stored() == before)
    }
}
