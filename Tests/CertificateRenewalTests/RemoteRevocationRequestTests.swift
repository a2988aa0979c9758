import CardCredentials
import CardSimulator
import CertificateRenewal
import Foundation
import Registration
import Testing
import X509

/// The revocation request driven by evidence, as a portal's server runs it: the same rules as the in-process
/// flow, no session, state in the store between steps; the card's work (PIN, evidence, the request's signature)
/// done where the card is.
@Suite("Revocation request across the network: evidence and the card's own signature, state in the store")
struct RemoteRevocationRequestTests {
    static let origin = try! PortalOrigin("https://portal.example.jp")

    /// The card's key, as the card agent holds it once the PIN was verified.
    static func key(_ card: PrivateCAICCard, pin: String = RenewalBench.currentPIN) async throws -> CardKey {
        let slot = SimulatedSlot(name: "Agent")
        slot.insert(card)
        let client = try await ICCard.connect(
            transport: try await slot.connect(), profile: .procurementIdentitySimulator)
        return try await client.signingKey(pin: try RenewalBench.pin(pin))
    }

    static func revocation(_ bench: RevocationBench, store: (any RegistrationStore)? = nil) -> RemoteRevocationRequest {
        var environment = bench.bench.environment()
        if let store {
            let clock = bench.bench.clock
            environment.service = RegistrationService(
                store: store, portal: bench.bench.service.portal, now: { clock.now })
        }
        return RemoteRevocationRequest(environment: environment, origin: origin, authority: bench.desk)
    }

    /// Start, both documents, agreement, the card's evidence, the form: the flow waits for the signature.
    static func driveToSignature(_ a: RemoteRevocationRequest, _ b: RemoteRevocationRequest, key: CardKey)
        async throws -> RevocationRequestState
    {
        var state = try await a.start()
        _ = try await b.openProcedure(flow: state.flowID)
        _ = try await a.openTerms(flow: state.flowID)
        state = try await b.agree(flow: state.flowID)
        let challenge = try await a.challenge(for: state.flowID)
        state = try await b.presentCard(try await challenge.sign(for: origin, with: key), flow: state.flowID)
        return try await a.fill(RevocationBench.form, flow: state.flowID)
    }

    @Test(
        "the whole request across two instances: the card's signature kept with the request, accepted once, the binding revoked"
    )
    func wholeRequest() async throws {
        let bench = try await RevocationBench(sqlite: true)
        defer { bench.remove() }
        let a = Self.revocation(bench)
        let b = Self.revocation(bench, store: try SQLiteRegistrationStore(path: bench.bench.databasePath))
        var state = try await a.start()
        #expect(state.step == .agreement)
        await #expect(throws: LifecycleError.documentsNotOpened(missing: ["手続きの流れを確認", "利用規約を確認"])) {
            try await b.agree(flow: state.flowID)
        }
        #expect(try await b.openProcedure(flow: state.flowID) == .procedure)
        await #expect(throws: LifecycleError.documentsNotOpened(missing: ["利用規約を確認"])) {
            try await a.agree(flow: state.flowID)
        }
        #expect(try await a.openTerms(flow: state.flowID) == .terms)
        state = try await b.agree(flow: state.flowID)
        #expect(state.step == .card)
        let challenge = try await a.challenge(for: state.flowID)
        #expect(challenge.purpose == (try EvidencePurpose(flow: "revocation-request", step: "card")))
        let key = try await Self.key(bench.bench.currentCard)
        state = try await b.presentCard(try await challenge.sign(for: Self.origin, with: key), flow: state.flowID)
        #expect(state.step == .form)
        #expect(state.cardContents?.value(of: "ICカード業者名称") == RenewalBench.companyName)
        await #expect(throws: LifecycleError.self) {
            try await a.fill(
                RevocationRequestForm(reason: .loss, requesterName: "入札 太郎", phone: "12", mail: "taro@example.co.jp"),
                flow: state.flowID)
        }
        state = try await a.fill(RevocationBench.form, flow: state.flowID)
        #expect(state.step == .signature)
        let document = try requireValue(state.documentToSign)
        let content = try RevocationRequestContent(canonicalJSON: document)
        #expect(content.requesterName == "入札 太郎")
        #expect(content.fingerprint == bench.bench.binding.fingerprint)
        // The card agent's signature: detached, over the request's bytes.
        let signed = try await CMSSignedData.sign(document, with: key)
        state = try await b.presentSignature(signed.derEncoded, flow: state.flowID)
        #expect(state.step == .confirm)
        let confirmation = try await a.confirmation(flow: state.flowID)
        #expect(confirmation.rows.contains(ScreenRow(label: "申込ID", value: content.requestID)))
        #expect(confirmation.form == RevocationBench.form)
        // The request kept for the CA carries its content: openssl reads it alone.
        #expect(try CMSSignedData(derEncoded: confirmation.request.cms).content == document)
        #expect(try await bench.bench.stored().version == 1, "nothing is stored before the submit")

        await #expect(throws: LifecycleError.confirmationNotChecked) {
            try await b.submit(checked: false, flow: state.flowID)
        }
        let record = try await b.submit(checked: true, flow: state.flowID)
        #expect(record.receipt.requestID == content.requestID)
        #expect(record.text.contains("受付番号: \(record.receipt.receiptNumber)"))
        guard case .markedRevoked(let binding, _) = record.portal else {
            Issue.record("the binding was not marked revoked: \(record.portal)")
            return
        }
        #expect(binding == bench.bench.binding.id)
        #expect(try await bench.bench.stored().binding(binding).recordedStatus == .revoked)
        #expect(await bench.desk.revocations == 1)
        #expect(try await a.state(of: state.flowID).step == .completed)
        #expect(try await a.state(of: state.flowID).receipt == record.receipt)
        await #expect(throws: LifecycleError.revocationAlreadySubmitted) { try await a.back(flow: state.flowID) }
        await #expect(throws: LifecycleError.self) { try await a.submit(checked: true, flow: state.flowID) }

        // The request file the CA keeps verifies with openssl against the e-bidding root.
        let directory = bench.bench.directory
        let p7m = directory.appending(path: "request.p7m")
        let root = directory.appending(path: "root.pem")
        try Data(record.cmsFile).write(to: p7m)
        try bench.bench.authority.rootCertificatePEM(.eBidding).write(to: root, atomically: true, encoding: .utf8)
        let openssl = try RevocationBench.openssl([
            "cms", "-verify", "-inform", "DER", "-in", p7m.path, "-CAfile", root.path, "-purpose", "any", "-out",
            "/dev/null",
        ])
        #expect(openssl.status == 0, "\(openssl.error)")
    }

    @Test("a signature by another card, over other bytes, or replayed evidence is refused; the flow stays")
    func refusals() async throws {
        let bench = try await RevocationBench()
        defer { bench.remove() }
        let flow = Self.revocation(bench)
        let key = try await Self.key(bench.bench.currentCard)
        let state = try await Self.driveToSignature(flow, flow, key: key)
        let document = try requireValue(state.documentToSign)

        let other = try bench.bench.newCard()
        let otherKey = try await Self.key(other, pin: RenewalBench.newPIN)
        for (what, cms) in [
            ("another card", try await CMSSignedData.sign(document, with: otherKey).derEncoded),
            ("other bytes", try await CMSSignedData.sign(Array("失効申込".utf8), with: key).derEncoded),
            (
                "other bytes inside",
                try await CMSSignedData.sign(Array("{}".utf8), with: key, detached: false).derEncoded
            ),
            ("not CMS", Array("not a signature".utf8)),
        ] {
            await #expect(throws: LifecycleError.self, "\(what)") {
                try await flow.presentSignature(cms, flow: state.flowID)
            }
            #expect(try await flow.state(of: state.flowID).step == .signature, "\(what)")
        }
        // Signed with the content inside is as good as detached.
        let inside = try await CMSSignedData.sign(document, with: key, detached: false)
        #expect(try await flow.presentSignature(inside.derEncoded, flow: state.flowID).step == .confirm)

        // Evidence made for one flow's challenge is refused by another flow, and the challenge is used up by
        // that first try; evidence accepted once is not accepted again.
        let second = try await flow.start()
        let third = try await flow.start()
        for id in [second.flowID, third.flowID] {
            _ = try await flow.openProcedure(flow: id)
            _ = try await flow.openTerms(flow: id)
            _ = try await flow.agree(flow: id)
        }
        let stolen = try await flow.challenge(for: second.flowID).sign(for: Self.origin, with: key)
        await #expect(throws: LifecycleError.self) { try await flow.presentCard(stolen, flow: third.flowID) }
        await #expect(throws: LifecycleError.self) { try await flow.presentCard(stolen, flow: second.flowID) }
        let evidence = try await flow.challenge(for: second.flowID).sign(for: Self.origin, with: key)
        #expect(try await flow.presentCard(evidence, flow: second.flowID).step == .form)
        _ = try await flow.back(flow: second.flowID)
        _ = try await flow.openProcedure(flow: second.flowID)
        _ = try await flow.openTerms(flow: second.flowID)
        _ = try await flow.agree(flow: second.flowID)
        await #expect(throws: LifecycleError.self) { try await flow.presentCard(evidence, flow: second.flowID) }
        #expect(try await flow.state(of: second.flowID).step == .card)
    }

    @Test("a card within 30 days of its end goes to the paper procedure; a lost answer is sent again, revoked once")
    func paperProcedureAndLostAnswer() async throws {
        let late = try await RevocationBench(validityDays: 29.99)
        defer { late.remove() }
        let flow = Self.revocation(late)
        var state = try await flow.start()
        _ = try await flow.openProcedure(flow: state.flowID)
        _ = try await flow.openTerms(flow: state.flowID)
        state = try await flow.agree(flow: state.flowID)
        let evidence = try await flow.challenge(for: state.flowID).sign(
            for: Self.origin, with: try await Self.key(late.bench.currentCard))
        await #expect {
            try await flow.presentCard(evidence, flow: state.flowID)
        } throws: { ($0 as? LifecycleError)?.code == .paperProcedureRequired }

        let bench = try await RevocationBench()
        defer { bench.remove() }
        let revocation = Self.revocation(bench)
        let key = try await Self.key(bench.bench.currentCard)
        state = try await Self.driveToSignature(revocation, revocation, key: key)
        state = try await revocation.presentSignature(
            try await CMSSignedData.sign(try requireValue(state.documentToSign), with: key).derEncoded,
            flow: state.flowID)
        await bench.desk.failNext(losingAnswers: 1)
        await #expect {
            try await revocation.submit(checked: true, flow: state.flowID)
        } throws: { ($0 as? LifecycleError)?.code == .revocationNotAnswered }
        await #expect(throws: LifecycleError.revocationAlreadySubmitted) {
            try await revocation.back(flow: state.flowID)
        }
        let record = try await revocation.submit(checked: true, flow: state.flowID)
        #expect(await bench.desk.calls == 2)
        #expect(await bench.desk.revocations == 1)
        #expect(record.receipt.requestID == (try await revocation.state(of: state.flowID)).receipt?.requestID)
    }
}
