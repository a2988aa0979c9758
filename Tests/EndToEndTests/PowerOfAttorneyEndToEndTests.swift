import CardCredentials
import CardSimulator
import CertificateRenewal
import Foundation
import ISO7816
import JPKI
import PCSC
import Registration
import RegistrationPostgres
import Synchronization
import Testing
import X509

extension EndToEnd {
    /// The expired power of attorney (マイナンバーカード電子委任状失効) through pcscd, vpcd and `PCSCReaderSlot`: the
    /// agent renews it (電子委任状更新) or deletes itself (利用者情報削除), against a SQLite file.
    @Suite("Power of attorney renewal and agent deletion through pcscd")
    struct PowerOfAttorneyEndToEndTests {
        static let slot = 0

        @Test("renewal: a wrong signing PIN, then the right one, 取得依頼, 委任者/受任者/代理権 shown, 電子委任状更新 stored")
        func renewal() async throws {
            let portal = try await ExpiredAgentPortal()
            defer { portal.remove() }
            let before = try await portal.stored()
            try await portal.withReader { server, context, reader in
                let flow = portal.flow(slot: context.slot(named: reader))
                try await flow.open()
                guard case .expired(let notice) = await flow.step else {
                    Issue.record("not at the 失効画面: \(await flow.step)")
                    return
                }
                #expect(notice.agentName == ExpiredAgentPortal.agentName)
                #expect(notice.powerOfAttorney.reference == "POA-OLD-1")
                try await flow.chooseRenewal()
                try await server.insert(portal.agentCard)
                try await TestBench.waitUntil(context: context, reader: reader, present: true)
                let wrong = await Self.outcome {
                    try await flow.readCardForRenewal(signingPIN: try ExpiredAgentPortal.signing("WRONG999"))
                }
                #expect(wrong == .myNumberCard(.wrongPIN(.signing, triesLeft: 4)))
                #expect(wrong.map { !String(describing: $0).contains("WRONG999") } ?? false, "no PIN in the error")
                #expect(await flow.step == .readCardForRenewal)
                try await flow.readCardForRenewal(
                    signingPIN: try ExpiredAgentPortal.signing(ExpiredAgentPortal.signingPIN))
                #expect(await flow.step == .requestPowerOfAttorney)
                try await flow.request(applicationNumber: "APP-2026-0001")
                #expect(portal.provider.requests.map(\.applicationNumber) == ["APP-2026-0001"])
                #expect(portal.provider.requests.first?.previousReference == "POA-OLD-1")
                guard case .confirmRenewal(let confirmation) = await flow.step else {
                    Issue.record("not at the confirmation: \(await flow.step)")
                    return
                }
                #expect(confirmation.sections.map(\.heading) == ["委任者情報", "受任者情報", "代理権情報"])
                #expect(
                    confirmation.principal.contains {
                        $0.label == "委任者" && $0.value.contains(ExpiredAgentPortal.company)
                    })
                #expect(confirmation.principal.contains { $0.label == "法人番号" && $0.value == "4011001098993" })
                #expect(confirmation.agent.contains { $0.label == "受任者" && $0.value == ExpiredAgentPortal.agentName })
                #expect(
                    confirmation.authority.filter { $0.label == "代理権" }.map(\.value) == ExpiredAgentPortal.authority)
                #expect(
                    confirmation.authority.contains { $0.label == "電子委任状取扱事業者" && $0.value == portal.provider.name })
                #expect(try await portal.stored() == before, "nothing stored before 電子委任状更新")

                let done = try await flow.renew()
                guard case .renewed = await flow.step else {
                    Issue.record("not at the completion: \(await flow.step)")
                    return
                }
                let stored = try await portal.stored()
                #expect(stored == done.registration)
                let current = try #require(stored.currentPowerOfAttorney(of: portal.agentID))
                #expect(current.reference == "POA-APP-2026-0001")
                #expect(current.isValid(at: Date()))
                #expect(current.provider == portal.provider.name)
                #expect(stored.powersOfAttorney.filter(\.isSuperseded).map(\.reference) == ["POA-OLD-1"])
                let outbox = try await portal.store.outbox(state: nil).filter { $0.changeID == done.changeID }
                #expect(outbox.map(\.kind).contains(.gepsHandOver))
                #expect(
                    outbox.contains {
                        $0.kind == .mail && String(decoding: $0.payload, as: UTF8.self).contains("[重要]利用者更新完了通知")
                    })
                let history = try await portal.store.history(of: portal.businessID)
                #expect(history.last?.kind == "renewPowerOfAttorney")
                #expect(history.last?.actor == portal.agentID, "made by the agent, whose rights allow exactly this")

                // In force again: the flow is no longer offered.
                let again = portal.flow(slot: context.slot(named: reader))
                #expect(
                    await Self.outcome { try await again.open() }
                        == .powerOfAttorneyStillValid(validUntil: current.validUntil))
            }
        }

        @Test("deletion: a wrong 4-digit PIN, JPKI pairs the card with the agent, 削除 acknowledged; irreversible")
        func deletion() async throws {
            let portal = try await ExpiredAgentPortal()
            defer { portal.remove() }
            let before = try await portal.stored()
            try await portal.withReader { server, context, reader in
                let flow = portal.flow(slot: context.slot(named: reader))
                try await flow.open()
                try await flow.chooseDeletion()
                try await server.insert(portal.agentCard)
                try await TestBench.waitUntil(context: context, reader: reader, present: true)
                #expect(
                    await Self.outcome {
                        try await flow.readCardForDeletion(
                            authenticationPIN: try ExpiredAgentPortal.authentication("9999"))
                    } == .myNumberCard(.wrongPIN(.authentication, triesLeft: 2)))
                #expect(await flow.step == .readCardForDeletion)
                try await flow.readCardForDeletion(
                    authenticationPIN: try ExpiredAgentPortal.authentication(ExpiredAgentPortal.authenticationPIN))
                #expect(portal.linkage.questions == 1, "JPKI was asked which signing certificate pairs with the card")
                guard case .confirmDeletion(let confirmation) = await flow.step else {
                    Issue.record("not at the deletion confirmation: \(await flow.step)")
                    return
                }
                #expect(confirmation.user.contains { $0.label == "氏名" && $0.value == ExpiredAgentPortal.agentName })
                #expect(confirmation.certificates.contains { $0.label == "証明書の種類" && $0.value == "マイナンバーカード" })
                #expect(
                    confirmation.powerOfAttorney.contains {
                        $0.label == "受任者" && $0.value == ExpiredAgentPortal.agentName
                    })
                #expect(confirmation.notes.first == "削除した利用者情報を元に戻すことはできません。")
                #expect(
                    await Self.outcome { try await flow.delete(acknowledgingIrreversible: false) }
                        == .deletionNotAcknowledged)
                #expect(try await portal.stored() == before, "nothing stored before 削除")

                let done = try await flow.delete(acknowledgingIrreversible: true)
                let stored = try await portal.stored()
                #expect(stored == done.registration)
                #expect(try stored.user(portal.agentID).status == .deleted)
                #expect(stored.bindings(of: portal.agentID).allSatisfy { $0.recordedStatus == .removed })
                #expect(try stored.user(portal.representativeID).status == .active, "only the agent is deleted")
                let outbox = try await portal.store.outbox(state: nil).filter { $0.changeID == done.changeID }
                #expect(outbox.map(\.kind).contains(.gepsHandOver))
                #expect(try await portal.store.history(of: portal.businessID).last?.kind == "deleteUser")

                // Irreversible: the flow refuses a deleted user.
                let again = portal.flow(slot: context.slot(named: reader))
                #expect(await Self.outcome { try await again.open() } == .registration(.userDeleted(portal.agentID)))
                #expect(
                    await Self.outcome { try await flow.delete(acknowledgingIrreversible: true) }
                        == .notAtStep(expected: "confirmDeletion", current: "deleted"))
            }
        }

        @Test(
            "renewal: no card, then the card pulled while it signs — the step stays, nothing stored; back in, it works")
        func renewalCardPulled() async throws {
            let portal = try await ExpiredAgentPortal()
            defer { portal.remove() }
            let before = try await portal.stored()
            try await portal.withReader { server, context, reader in
                let flow = portal.flow(slot: context.slot(named: reader), wait: .milliseconds(500))
                try await flow.open()
                try await flow.chooseRenewal()
                let pin = try ExpiredAgentPortal.signing(ExpiredAgentPortal.signingPIN)
                // No card in the reader at the step.
                #expect(
                    await Self.outcome { try await flow.readCardForRenewal(signingPIN: pin) }
                        == .noCardInserted(reader: reader))
                #expect(await flow.step == .readCardForRenewal)

                // The card pulled after its PIN was accepted, while it signs the challenge.
                server.faults.arm(.pullCard, matching: { $0.ins == 0x2A })
                try await server.insert(portal.agentCard)
                try await TestBench.waitUntil(context: context, reader: reader, present: true)
                let pulled = await Self.outcome { try await flow.readCardForRenewal(signingPIN: pin) }
                #expect(pulled == .myNumberCard(.cardRemoved))
                #expect(pulled.map { !$0.description.isEmpty } ?? false)
                #expect(!server.faults.hasArmedFaults, "the card was pulled during the signature")
                #expect(await flow.step == .readCardForRenewal)
                #expect(try await portal.stored() == before)
                try await TestBench.waitUntil(context: context, reader: reader, present: false)

                // Put back: the same step succeeds.
                try await server.insert(portal.agentCard)
                try await TestBench.waitUntil(context: context, reader: reader, present: true)
                try await flow.readCardForRenewal(signingPIN: pin)
                #expect(await flow.step == .requestPowerOfAttorney)
                #expect(try await portal.stored() == before)
            }
        }

        @Test("deletion: the card pulled while it is read, then back; 戻る from each confirmation stores nothing")
        func deletionCardPulledAndBack() async throws {
            let portal = try await ExpiredAgentPortal()
            defer { portal.remove() }
            let before = try await portal.stored()
            let outboxBefore = try await portal.store.outbox(state: nil)
            try await portal.withReader { server, context, reader in
                let flow = portal.flow(slot: context.slot(named: reader), wait: .milliseconds(500))
                try await flow.open()
                try await flow.chooseDeletion()
                let pin = try ExpiredAgentPortal.authentication(ExpiredAgentPortal.authenticationPIN)

                // The card pulled while the certificate is read (READ BINARY), before JPKI is asked.
                server.faults.arm(.pullCard, skipping: 1, matching: { $0.ins == 0xB0 })
                try await server.insert(portal.agentCard)
                try await TestBench.waitUntil(context: context, reader: reader, present: true)
                let pulled = await Self.outcome { try await flow.readCardForDeletion(authenticationPIN: pin) }
                #expect(pulled == .myNumberCard(.cardRemoved))
                #expect(!server.faults.hasArmedFaults, "the card was pulled while its certificate was read")
                #expect(await flow.step == .readCardForDeletion)
                #expect(portal.linkage.questions == 0, "JPKI is not asked about a card that was pulled")
                try await TestBench.waitUntil(context: context, reader: reader, present: false)
                #expect(
                    await Self.outcome { try await flow.readCardForDeletion(authenticationPIN: pin) }
                        == .noCardInserted(reader: reader))
                try await server.insert(portal.agentCard)
                try await TestBench.waitUntil(context: context, reader: reader, present: true)
                try await flow.readCardForDeletion(authenticationPIN: pin)
                guard case .confirmDeletion = await flow.step else {
                    Issue.record("not at the deletion confirmation: \(await flow.step)")
                    return
                }

                // 戻る from the deletion confirmation: back at the 失効画面, nothing stored.
                try await flow.back()
                guard case .expired = await flow.step else {
                    Issue.record("戻る did not return to the 失効画面: \(await flow.step)")
                    return
                }
                #expect(try await portal.stored() == before)
                #expect(
                    await Self.outcome { try await flow.delete(acknowledgingIrreversible: true) }
                        == .notAtStep(expected: "confirmDeletion", current: "expired"))

                // And 戻る from the renewal confirmation, after the provider issued the document.
                try await flow.chooseRenewal()
                try await flow.readCardForRenewal(
                    signingPIN: try ExpiredAgentPortal.signing(ExpiredAgentPortal.signingPIN))
                try await flow.request(applicationNumber: "APP-2026-0002")
                guard case .confirmRenewal = await flow.step else {
                    Issue.record("not at the renewal confirmation: \(await flow.step)")
                    return
                }
                try await flow.back()
                guard case .expired = await flow.step else {
                    Issue.record("戻る did not return to the 失効画面: \(await flow.step)")
                    return
                }
                #expect(
                    await Self.outcome { try await flow.renew() }
                        == .notAtStep(expected: "confirmRenewal", current: "expired"))
                #expect(try await portal.stored() == before, "the registration is unchanged")
                #expect(try await portal.store.outbox(state: nil) == outboxBefore, "nothing handed to GEPS or mailed")
                #expect(try await portal.store.history(of: portal.businessID).count == 2)
            }
        }

        @Test(
            "renewal: a signing certificate JPKI revoked (a change of address) is refused before the provider is asked")
        func renewalRevokedCertificate() async throws {
            var portal = try await ExpiredAgentPortal()
            defer { portal.remove() }
            try portal.revokeAgentCertificate(.signing)
            let before = try await portal.stored()
            try await portal.withReader { server, context, reader in
                let flow = portal.flow(slot: context.slot(named: reader))
                try await flow.open()
                try await flow.chooseRenewal()
                try await server.insert(portal.agentCard)
                try await TestBench.waitUntil(context: context, reader: reader, present: true)
                let refused = await Self.outcome {
                    try await flow.readCardForRenewal(
                        signingPIN: try ExpiredAgentPortal.signing(ExpiredAgentPortal.signingPIN))
                }
                guard refused?.code == .agentCertificateInvalid, refused?.certificateKind == .signing,
                    let reason = refused?.reason
                else {
                    Issue.record("expected agentCertificateInvalid(.signing), got \(String(describing: refused))")
                    return
                }
                #expect(reason.contains("失効"), "\(reason)")
                #expect(refused.map { $0.description.contains("電子証明書更新") } ?? false)
                #expect(await flow.step == .readCardForRenewal)
                #expect(portal.provider.requests.isEmpty, "no power of attorney is asked for a revoked certificate")
                #expect(try await portal.stored() == before)
            }
        }

        @Test(
            "deletion: a revoked user-authentication certificate is refused, named as the My Number card's, not asked of JPKI"
        )
        func deletionRevokedCertificate() async throws {
            var portal = try await ExpiredAgentPortal()
            defer { portal.remove() }
            try portal.revokeAgentCertificate(.authentication)
            let before = try await portal.stored()
            try await portal.withReader { server, context, reader in
                let flow = portal.flow(slot: context.slot(named: reader))
                try await flow.open()
                try await flow.chooseDeletion()
                try await server.insert(portal.agentCard)
                try await TestBench.waitUntil(context: context, reader: reader, present: true)
                let refused = await Self.outcome {
                    try await flow.readCardForDeletion(
                        authenticationPIN: try ExpiredAgentPortal.authentication(ExpiredAgentPortal.authenticationPIN))
                }
                guard refused?.code == .agentCertificateInvalid, refused?.certificateKind == .authentication,
                    let reason = refused?.reason
                else {
                    Issue.record(
                        "expected agentCertificateInvalid(.authentication), got \(String(describing: refused))")
                    return
                }
                #expect(reason.contains("失効"), "\(reason)")
                #expect(refused.map { $0.description.contains("利用者証明用電子証明書") } ?? false)
                #expect(refused.map { !$0.description.contains("ICカード") } ?? false, "a My Number card, not an IC card")
                #expect(await flow.step == .readCardForDeletion)
                #expect(portal.linkage.questions == 0)
                #expect(try await portal.stored() == before)
            }
        }

        /// The LifecycleError `body` threw, or nil.
        static func outcome(_ body: () async throws -> Void) async -> LifecycleError? {
            do {
                try await body()
                return nil
            } catch let error as LifecycleError {
                return error
            } catch {
                Issue.record("not a LifecycleError: \(error)")
                return nil
            }
        }
    }
}

/// The 電子委任状取扱事業者 of these tests: issues a year's power of attorney for the registered business and agent.
final class YearPOAProvider: ElectronicPOAProvider {
    let name = "テスト委任状サービス"
    private let asked = Mutex([PowerOfAttorneyRequest]())

    var requests: [PowerOfAttorneyRequest] { asked.withLock { $0 } }

    func requestPowerOfAttorney(_ request: PowerOfAttorneyRequest) async throws -> IssuedPowerOfAttorney {
        asked.withLock { $0.append(request) }
        let now = Date()
        return IssuedPowerOfAttorney(
            principal: request.principal, agent: request.agent, authority: ExpiredAgentPortal.authority,
            validFrom: now.addingTimeInterval(-3600), validUntil: now.addingTimeInterval(365 * 86_400),
            reference: "POA-\(request.applicationNumber)")
    }
}

/// The tests' JPKI: which signing certificate shares a card with an authentication certificate.
final class PairingJPKILinkage: JPKILinkageService {
    private struct State {
        var pairs: [[UInt8]: (Certificate.SerialNumber, DistinguishedName)] = [:]
        var asked = 0
    }
    private let state = Mutex(State())

    var questions: Int { state.withLock { $0.asked } }

    func record(_ card: JPKICard) throws {
        let signing = try Certificate(derEncoded: card.snapshot.signingCertificate)
        let authentication = try Certificate(derEncoded: card.snapshot.authenticationCertificate)
        state.withLock {
            $0.pairs[authentication.serialNumber.bytes.map { $0 }] = (signing.serialNumber, signing.issuer)
        }
    }

    func successor(ofSigningCertificate serialNumber: Certificate.SerialNumber, issuer: DistinguishedName)
        async throws -> JPKILinkage?
    { nil }

    func signingCertificate(
        pairedWithAuthenticationCertificate serialNumber: Certificate.SerialNumber, issuer: DistinguishedName
    ) async throws -> (serialNumber: Certificate.SerialNumber, issuer: DistinguishedName)? {
        state.withLock {
            $0.asked += 1
            return $0.pairs[serialNumber.bytes.map { $0 }].map { (serialNumber: $0.0, issuer: $0.1) }
        }
    }
}

/// A portal (an SQLite file, or a PostgreSQL schema) with a representative, and an agent registered 30 days ago with a My Number card whose power
/// of attorney expired yesterday: the portal tool has no way to reach that state (an agent is added only with a power
/// of attorney in force, and the tool's clock is the real one), so the file is seeded through `RegistrationService`.
struct ExpiredAgentPortal {
    static let day: TimeInterval = 86_400
    static let company = "株式会社試験建設"
    static let agentName = "試験 花子"
    static let signingPIN = "SIGN1234"
    static let authenticationPIN = "4071"
    static let authority = ["入札及び見積に関する件", "契約締結に関する件"]

    let directory: URL
    let authority: TestCertificateAuthority
    let agentCard: JPKICard
    let database: String
    let store: any RegistrationStore
    private(set) var environment: LifecycleEnvironment
    let provider = YearPOAProvider()
    let linkage = PairingJPKILinkage()
    let businessID: BusinessID
    let representativeID: UserID
    let agentID: UserID

    init(store kind: ClientStoreKind = .sqlite) async throws {
        let now = Date()
        let registeredAt = now.addingTimeInterval(-30 * Self.day)
        directory = FileManager.default.temporaryDirectory.appending(path: "e2e-poa-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let authority = try TestCertificateAuthority(
            directory: directory.appending(path: "ca"),
            rootValidity: CertificateValidity(
                notValidBefore: now.addingTimeInterval(-1000 * Self.day),
                notValidAfter: now.addingTimeInterval(3650 * Self.day)))
        self.authority = authority
        var holder = EBiddingHolder.example
        holder.companyName = Self.company
        let representativeCard = try PrivateCAICCard.issue(
            by: authority, holder: holder, pin: "REP-PIN-1", validity: .valid(days: 395, from: registeredAt))
        agentCard = try JPKICard.issue(
            by: authority, holder: .example, signingPIN: Self.signingPIN, authenticationPIN: Self.authenticationPIN,
            validity: .valid(days: 5 * 365, from: registeredAt))
        try linkage.record(agentCard)
        switch kind {
        case .sqlite: database = directory.appending(path: "portal.sqlite").path
        case .postgres: database = ClientStoreKind.postgresURL()
        }
        store = try await ClientBench.openStore(database)
        let profile = PortalProfile(name: "調達ポータル", mailFrom: try MailAddress("noreply@portal.example.jp"))
        // The registration and the agent happened 30 days ago, while the power of attorney was in force.
        let past = RegistrationService(store: store, portal: profile, now: { registeredAt })
        let registration = try await past.commit(
            try await past.prepareRegistration(
                of: try BusinessInformation(
                    name: Self.company, postalCode: "100-0013", address: "東京都千代田区霞が関1-1-1",
                    representativeTitle: "代表取締役", representativeName: "入札 太郎", corporateNumber: "4011001098993",
                    phone: "03-1234-5678"),
                representative: try UserInformation(
                    title: "代表取締役", name: "入札 太郎", postalCode: "1000013", address: "東京都千代田区霞が関1-1-1",
                    phone: "03-1234-5678", fax: "03-1234-5679", mail: "taro@example.co.jp"),
                certificate: try Certificate(derEncoded: representativeCard.snapshot.holderCertificate), kind: .icCard,
                by: .portal(operator: "e2e"))
        ).registration
        businessID = registration.id
        representativeID = try #require(registration.representative?.id)
        let attorney = try PowerOfAttorney(
            agentID: UserID(rawValue: "new"), principal: "\(Self.company) 代表取締役 入札 太郎", agent: Self.agentName,
            authority: Self.authority, validFrom: registeredAt.addingTimeInterval(-300 * Self.day),
            validUntil: now.addingTimeInterval(-Self.day), provider: "テスト委任状サービス", reference: "POA-OLD-1")
        let withAgent = try await past.commit(
            try await past.prepare(
                .addAgent(
                    try UserInformation(
                        title: "営業部長", name: Self.agentName, postalCode: "1000013", address: "東京都千代田区霞が関2-1-2",
                        phone: "03-1234-5670", fax: "", mail: "hanako@example.co.jp"),
                    try Certificate(derEncoded: agentCard.snapshot.signingCertificate), .myNumberCard,
                    powerOfAttorney: attorney),
                to: businessID, by: .portal(operator: "e2e"))
        ).registration
        agentID = try #require(withAgent.users.first { $0.role == .agent }?.id)
        environment = LifecycleEnvironment(
            service: RegistrationService(store: store, portal: profile),
            validator: try Self.validator(authority), cardWaitTimeout: .seconds(10))
    }

    /// The portal's checks: the three roots, and CRLs published a minute ago.
    static func validator(_ authority: TestCertificateAuthority) throws -> CertificateValidator {
        let crls = try [TestCertificateAuthority.Hierarchy.jpkiSigning, .jpkiAuthentication, .eBidding].map {
            try CertificateRevocationList(
                bytes: authority.publishCRL(for: $0, thisUpdate: Date().addingTimeInterval(-60)))
        }
        return CertificateValidator(
            trustAnchors: [
                authority.rootCertificate(.eBidding), authority.rootCertificate(.jpkiSigning),
                authority.rootCertificate(.jpkiAuthentication),
            ],
            crls: crls, revocation: .whenAvailable)
    }

    /// JPKI revokes one of the agent's certificates an hour ago (the signing one after a change of address), and
    /// the portal gets the CRL.
    mutating func revokeAgentCertificate(_ kind: JPKICertificateKind) throws {
        let der =
            kind == .signing ? agentCard.snapshot.signingCertificate : agentCard.snapshot.authenticationCertificate
        let certificate = try Certificate(derEncoded: der)
        let reason: RevocationReason = kind == .signing ? .affiliationChanged : .keyCompromise
        try authority.revoke(certificate.serialNumber, reason: reason, at: Date().addingTimeInterval(-3600))
        environment.validator = try Self.validator(authority)
    }

    static func signing(_ text: String) throws -> SecretPIN { try SecretPIN(text, policy: .jpkiSigning) }
    static func authentication(_ text: String) throws -> SecretPIN {
        try SecretPIN(text, policy: .jpkiAuthentication)
    }

    func flow(slot: PCSCReaderSlot, wait: Duration = .seconds(10)) -> PowerOfAttorneyFlow {
        var environment = environment
        environment.cardWaitTimeout = wait
        return PowerOfAttorneyFlow(
            user: agentID, of: businessID, slot: slot, environment: environment, provider: provider, linkage: linkage)
    }

    func stored() async throws -> BusinessRegistration {
        try #require(try await store.registration(businessID))
    }

    /// Runs `body` with the vpcd server of the reader empty at the start, and pulls any card at the end.
    func withReader(
        _ body: (_ server: VPCDCardServer, _ context: PCSCContext, _ reader: String) async throws -> Void
    ) async throws {
        let reader = try await TestBench.readerName(slot: EndToEnd.PowerOfAttorneyEndToEndTests.slot)
        let context = try PCSCContext()
        if try await context.readerStatuses(of: [reader]).first?.isCardPresent == true {
            Issue.record("\(reader) already holds a card: stop the program that serves it (card-simulator?) first")
            throw CancellationError()
        }
        let server = VPCDCardServer(port: VPCDCardServer.port(forSlot: EndToEnd.PowerOfAttorneyEndToEndTests.slot))
        do {
            try await body(server, context, reader)
        } catch {
            await server.remove()
            try? await TestBench.waitUntil(context: context, reader: reader, present: false)
            throw error
        }
        await server.remove()
        try await TestBench.waitUntil(context: context, reader: reader, present: false)
    }

    func remove() {
        try? FileManager.default.removeItem(at: directory)
        // A PostgreSQL store's pool is closed off the caller (the schema is dropped by the test bench's clean-up).
        let store = store
        if store is PostgresRegistrationStore { Task { await ClientBench.close(store) } }
    }
}
