import CardCredentials
import CardSimulator
import CertificateRenewal
import Foundation
import JPKI
import Registration
import RegistrationPostgres
import Testing
import X509

/// The certificate update driven by evidence, as a portal's server runs it: the same rules as the in-process
/// flow, no session, state in the store between steps, any instance continuing it.
@Suite("Certificate update across the network: evidence instead of cards, state in the store")
struct RemoteCertificateUpdateTests {
    typealias Bench = UpdateBench
    static let origin = try! PortalOrigin("https://portal.example.jp")

    /// The IC card's key signs `challenge` for `origin`, as the card agent would.
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

    /// The file's key signs `challenge`.
    static func evidence(file: [UInt8], for challenge: EvidenceChallenge) async throws -> CardEvidence {
        let credential = try FileCredential(pkcs12: file, password: try Bench.secret(Bench.password))
        return try await challenge.sign(for: origin, with: credential)
    }

    /// The My Number card's signing key signs `challenge` (the signing PIN verified on the card).
    static func evidence(myNumber card: JPKICard, pin: String, for challenge: EvidenceChallenge) async throws
        -> CardEvidence
    {
        let slot = SimulatedSlot(name: "Agent")
        slot.insert(card)
        defer { slot.remove() }
        let client = try await MyNumberCard.connect(transport: try await slot.connect())
        let key = try await client.signingKey(pin: try Bench.signing(pin), includeCACertificate: true)
        return try await challenge.sign(for: origin, with: key)
    }

    static func update(_ bench: Bench, store: (any RegistrationStore)? = nil) throws -> RemoteCertificateUpdate {
        var environment = try bench.environment()
        if let store {
            let clock = bench.clock
            environment.service = RegistrationService(store: store, portal: bench.service.portal, now: { clock.now })
        }
        return RemoteCertificateUpdate(environment: environment, origin: origin, linkage: bench.linkage)
    }

    /// An expired IC card updated to a new one, alternating between two instances `a` and `b`.
    static func wholeUpdate(_ bench: Bench, _ a: RemoteCertificateUpdate, _ b: RemoteCertificateUpdate) async throws {
        var state = try await a.start(.privateCertificate)
        #expect(state.step == .currentCertificate)
        let first = try await b.challenge(for: state.flowID)
        #expect(first.purpose == (try EvidencePurpose(flow: "certificate-update", step: "current-certificate")))
        state = try await a.presentCurrentCertificate(
            try await evidence(bench.oldCard, pin: Bench.oldPIN, for: first), kind: .icCard, flow: state.flowID)
        #expect(state.step == .newCertificate)
        #expect(state.businessID == bench.businessID)
        let new = try bench.newCard()
        let second = try await a.challenge(for: state.flowID)
        state = try await b.presentNewCertificate(
            try await evidence(new, pin: Bench.newPIN, for: second), kind: .icCard, flow: state.flowID)
        #expect(state.step == .confirm)
        let confirmation = try await a.confirmation(flow: state.flowID)
        #expect(confirmation.current.heading == "更新元電子証明書情報")
        #expect(confirmation.new.value(of: "商号又は名称") == RenewalBench.companyName)
        #expect(try await bench.stored().version == 3, "nothing is stored before 更新実行")
        let done = try await b.update(flow: state.flowID)
        let after = try await bench.stored()
        #expect(after.version == 4)
        #expect(try after.binding(done.supersededBindingID).recordedStatus == .superseded)
        let binding = try after.binding(done.newBindingID)
        #expect(binding.kind == .icCard)
        #expect(binding.fingerprint == (try CertificateBinding.fingerprint(of: RenewalBench.certificate(of: new))))
        #expect(done.outbox.count == 2)
        #expect(try await a.state(of: state.flowID).step == .completed)
        let again = await outcome { _ = try await a.update(flow: state.flowID) }
        #expect(again == .notAtStep(expected: "confirm", current: "completed"))
    }

    @Test("an expired IC card updated on two instances over one SQLite file")
    func twoInstancesSQLite() async throws {
        let bench = try await Bench(sqlite: true)
        defer { bench.remove() }
        try await Self.wholeUpdate(
            bench, try Self.update(bench),
            try Self.update(bench, store: try SQLiteRegistrationStore(path: bench.databasePath)))
    }

    @Test("an expired IC card updated on two instances over one PostgreSQL schema")
    func twoInstancesPostgres() async throws {
        var configuration = try PostgresStoreConfiguration(
            url: ProcessInfo.processInfo.environment["PI_TEST_POSTGRES_URL"]
                ?? "postgres://pi_test:pi_test@127.0.0.1:5432/pi_test", environment: [:])
        configuration.schema =
            "t_\(Int(Date().timeIntervalSince1970))_update_\(UUID().uuidString.prefix(8).lowercased())"
        let first = try await PostgresRegistrationStore(configuration)
        let second = try await PostgresRegistrationStore(configuration)
        let bench = try await Bench(store: first)
        defer { bench.remove() }
        try await Self.wholeUpdate(bench, try Self.update(bench), try Self.update(bench, store: second))
        try await first.execute(sql: "DROP SCHEMA \"\(configuration.schema ?? "")\" CASCADE")
        await first.close()
        await second.close()
    }

    @Test("an expired file certificate updated to a new file, the evidence signed with the files' keys")
    func fileToFile() async throws {
        let bench = try await Bench()
        defer { bench.remove() }
        let update = try Self.update(bench)
        var state = try await update.start(.privateCertificate)
        state = try await update.presentCurrentCertificate(
            try await Self.evidence(file: bench.oldFile, for: try await update.challenge(for: state.flowID)),
            kind: .fileCertificate, flow: state.flowID)
        state = try await update.presentNewCertificate(
            try await Self.evidence(file: try bench.newFile(), for: try await update.challenge(for: state.flowID)),
            kind: .fileCertificate, flow: state.flowID)
        let done = try await update.update(flow: state.flowID)
        #expect(try done.registration.binding(done.newBindingID).kind == .fileCertificate)
        #expect(done.confirmation.current.kind == .fileCertificate)
    }

    @Test("the My Number card: consent first, then JPKI names the new certificate; no second card")
    func myNumber() async throws {
        let bench = try await Bench()
        defer { bench.remove() }
        let renewed = try bench.renewedMyNumberCard()
        let update = try Self.update(bench)
        var state = try await update.start(.myNumberCard)
        let evidence = try await Self.evidence(
            myNumber: bench.agentCard, pin: Bench.signingPIN, for: try await update.challenge(for: state.flowID))
        let flow = state.flowID
        #expect(
            await outcome { _ = try await update.presentCurrentCertificate(evidence, flow: flow) }
                == .jpkiConsentRequired)
        #expect(bench.linkage.questions == 0, "JPKI is not asked without consent")
        state = try await update.presentCurrentCertificate(
            try await Self.evidence(
                myNumber: bench.agentCard, pin: Bench.signingPIN, for: try await update.challenge(for: flow)),
            consent: true, flow: flow)
        #expect(state.step == .confirm)
        let confirmation = try await update.confirmation(flow: flow)
        #expect(confirmation.new.kind == .myNumberCard)
        #expect(confirmation.new.value(of: "氏名") == JPKIHolder.example.name)
        let done = try await update.update(flow: flow)
        let binding = try done.registration.binding(done.newBindingID)
        #expect(
            binding.fingerprint
                == (try CertificateBinding.fingerprint(
                    of: try Certificate(derEncoded: renewed.snapshot.signingCertificate))))
        #expect(binding.userID == bench.agentID)
    }

    static func refusal(_ error: LifecycleError?) -> EvidenceError.Code? {
        guard error?.code == .registration, case .evidenceRefused(let refusal)? = error?.registrationError else {
            return nil
        }
        return refusal.code
    }

    @Test("replayed, foreign-origin, expired, other-flow and unregistered evidence is refused; nothing changes")
    func refusals() async throws {
        let bench = try await Bench()
        defer { bench.remove() }
        let before = try await bench.stored()
        let update = try Self.update(bench)
        let state = try await update.start(.privateCertificate)
        let flow = state.flowID

        // Signed for another site's page.
        let foreign = try await Self.evidence(
            bench.oldCard, pin: Bench.oldPIN, for: try await update.challenge(for: flow),
            origin: try PortalOrigin("https://evil.example"))
        #expect(
            Self.refusal(await outcome { _ = try await update.presentCurrentCertificate(foreign, flow: flow) })
                == .foreignOrigin)

        // A challenge of another flow.
        let other = try await update.start(.privateCertificate)
        let stolen = try await Self.evidence(
            bench.oldCard, pin: Bench.oldPIN, for: try await update.challenge(for: other.flowID))
        #expect(
            Self.refusal(await outcome { _ = try await update.presentCurrentCertificate(stolen, flow: flow) })
                == .challengeNotYours)

        // Expired: sent after the challenge's two minutes.
        let late = try await Self.evidence(bench.oldCard, pin: Bench.oldPIN, for: try await update.challenge(for: flow))
        bench.clock.advance(by: 121)
        #expect(
            Self.refusal(await outcome { _ = try await update.presentCurrentCertificate(late, flow: flow) })
                == .challengeExpired)

        // A certificate that is not registered (a new card, before any update).
        let stranger = try await Self.evidence(
            try bench.newCard(), pin: Bench.newPIN, for: try await update.challenge(for: flow))
        #expect(
            await outcome { _ = try await update.presentCurrentCertificate(stranger, flow: flow) }
                == .certificateNotRegistered)

        // Accepted once; the same evidence again is a replay.
        let good = try await Self.evidence(bench.oldCard, pin: Bench.oldPIN, for: try await update.challenge(for: flow))
        _ = try await update.presentCurrentCertificate(good, flow: flow)
        #expect(
            Self.refusal(await outcome { _ = try await update.presentNewCertificate(good, flow: flow) })
                == .challengeUnknown)

        // The new certificate: the registered one again, then an expired one.
        let same = try await Self.evidence(bench.oldCard, pin: Bench.oldPIN, for: try await update.challenge(for: flow))
        #expect(await outcome { _ = try await update.presentNewCertificate(same, flow: flow) } == .sameCard)
        let expiredCard = try bench.newCard(
            validity: CertificateValidity(
                notValidBefore: bench.clock.now.addingTimeInterval(-20 * Bench.day),
                notValidAfter: bench.clock.now.addingTimeInterval(-Bench.day)))
        let expired = try await Self.evidence(
            expiredCard, pin: Bench.newPIN, for: try await update.challenge(for: flow))
        guard
            await outcome({ _ = try await update.presentNewCertificate(expired, flow: flow) })?.code == .newCardExpired
        else {
            Issue.record("an expired new card was not refused as expired")
            return
        }
        #expect(try await update.state(of: flow).step == .newCertificate, "a refused step stays where it was")

        // Unknown and other-kind flows are not found.
        #expect(
            await outcome { _ = try await update.state(of: "U" + String(repeating: "0", count: 32)) }
                == .flowNotFound("U" + String(repeating: "0", count: 32)))
        #expect(try await bench.stored() == before)
    }

    @Test("the registration changed under the confirmation: nothing stored, the flow starts over")
    func changedUnderneath() async throws {
        let bench = try await Bench()
        defer { bench.remove() }
        let update = try Self.update(bench)
        var state = try await update.start(.privateCertificate)
        let flow = state.flowID
        state = try await update.presentCurrentCertificate(
            try await Self.evidence(bench.oldCard, pin: Bench.oldPIN, for: try await update.challenge(for: flow)),
            flow: flow)
        state = try await update.presentNewCertificate(
            try await Self.evidence(try bench.newCard(), pin: Bench.newPIN, for: try await update.challenge(for: flow)),
            flow: flow)
        #expect(state.step == .confirm)
        // Another change wins in between (the business's telephone number).
        let registration = try await bench.stored()
        var business = registration.business
        business.phone = try PhoneNumber("03-9999-0000")
        _ = try await bench.service.commit(
            try await bench.service.prepare(
                .updateBusinessInformation(business), to: bench.businessID, by: .portal(operator: "test")))
        let changed = try await bench.stored()
        #expect(await outcome { _ = try await update.update(flow: flow) } == .registrationChanged)
        #expect(try await update.state(of: flow).step == .currentCertificate)
        #expect(try await bench.stored() == changed)
        // 戻る is possible before completion, not after.
        #expect(try await update.back(flow: flow).step == .currentCertificate)
    }
}
