import CardCredentials
import CardSimulator
import Foundation
import JPKI
import PCSC
import PortalClient
import Registration
import RegistrationPostgres
import Testing
import X509

extension EndToEnd {
    /// The reference client against the real thing: two `portal-server` processes over one SQLite file, and the
    /// cards simulated in a vpcd reader of pcscd (`PCSCLITE_CSOCK_NAME`, `PI_VPCD_PORT`), read by the client's
    /// `CardEvidenceSigner` (the card agent's `CardAuthenticator`): the IC card renewal, the certificate update, the
    /// revocation request and the expired power of attorney.
    @Suite("PortalClient: the flows against portal-server through pcscd")
    struct PortalClientEndToEndTests {
        static let slot = 1
        static let currentPIN = "OLD-PIN-1234"
        static let newPIN = "NEW-PIN-5678"

        static func card(pin: String) -> CardEvidenceSigner {
            CardEvidenceSigner { try SecretPIN(pin, policy: ICCardProfile.procurementIdentitySimulator.pinPolicy) }
        }

        @Test(
            "log in with the current card, renew across two instances (swap in the reader), the old card refused",
            arguments: ClientStoreKind.allCases)
        func renewAcrossTwoInstances(_ kind: ClientStoreKind) async throws {
            let bench = try await ClientBench(store: kind)
            defer { bench.stop() }
            let new = try PrivateCAICCard.issue(by: bench.authority, holder: bench.holder, pin: Self.newPIN)
            let a = PortalClient(server: bench.servers[0].url, origin: bench.origin)
            let b = a.sharingSession(with: bench.servers[1].url)
            let (currentCard, newCard) = (Self.card(pin: Self.currentPIN), Self.card(pin: Self.newPIN))

            try await TestBench.withCard(bench.current, slot: Self.slot) { server, context, reader in
                let session = try await a.logIn(with: currentCard)
                #expect(session.role == "representative")
                #expect(session.businessID == bench.registered.id.rawValue)
                let before = try await b.registration()
                #expect(before.certificate(session.bindingID)?.status == "active")

                // Started on A, the current card on B, the new card on A, the confirmation on B, 更新 on A.
                let renewal = try await a.startICCardRenewal()
                let onB = try await b.resume(ICCardRenewalFlow.self, flowID: renewal.flowID)
                #expect(try await onB.state().step == .currentCard)
                #expect(try await onB.presentCurrentCard(with: currentCard).step == .newCard)

                await server.remove()
                try await TestBench.waitUntil(context: context, reader: reader, present: false)
                try await server.insert(new)
                try await TestBench.waitUntil(context: context, reader: reader, present: true)

                #expect(try await renewal.presentNewCard(with: newCard).step == .confirm)
                let confirmation = try await onB.confirmation()
                #expect(confirmation.title == "電子証明書更新確認")
                #expect(confirmation.blocks.map(\.heading) == ["現在使用しているICカード", "新規に使用するICカード"])
                #expect(confirmation.blocks.last?.value(of: "ICカード取得者氏名") == bench.holder.name)
                #expect(try await b.registration() == before, "nothing stored before 更新")

                let completion = try await renewal.update()
                #expect(completion.supersededBindingID == session.bindingID)
                #expect(completion.version == before.version + 1)

                // The session was the current card's: it ended with it, on both instances.
                let ended = await #expect(throws: PortalClientError.self) { try await b.registration() }
                #expect(ended?.rule == "noSession")
                #expect(!a.hasSession)

                // The new card (in the reader) logs in; the registration shows the swap.
                let renewed = try await b.logIn(with: newCard)
                #expect(renewed.bindingID == completion.newBindingID)
                let after = try await a.registration()
                #expect(after.version == completion.version)
                #expect(after.certificate(completion.newBindingID)?.status == "active")
                #expect(after.certificate(completion.supersededBindingID)?.status == "superseded")
                #expect(after.history.contains { $0.id == completion.changeID && $0.version == completion.version })
                let finished = try await a.resume(ICCardRenewalFlow.self, flowID: renewal.flowID).state()
                #expect(finished.step == .completed)
                #expect(finished.changeID == completion.changeID)
                try await a.logOut()

                // The old card, back in the reader, no longer logs in.
                await server.remove()
                try await TestBench.waitUntil(context: context, reader: reader, present: false)
                try await server.insert(bench.current)
                try await TestBench.waitUntil(context: context, reader: reader, present: true)
                let refused = await #expect(throws: PortalClientError.self) { try await a.logIn(with: currentCard) }
                #expect(refused?.code == .refused)
                #expect(refused?.rule == "certificateNotActive", "\(String(describing: refused))")
                #expect(refused?.status == 403)
                #expect(!a.hasSession)
            }
        }

        @Test(
            "certificate update without login across two instances: the registered card, the swap, 更新実行",
            arguments: ClientStoreKind.allCases)
        func certificateUpdateWithoutLogin(_ kind: ClientStoreKind) async throws {
            let bench = try await ClientBench(store: kind)
            defer { bench.stop() }
            let new = try PrivateCAICCard.issue(by: bench.authority, holder: bench.holder, pin: Self.newPIN)
            let a = PortalClient(server: bench.servers[0].url, origin: bench.origin)
            let b = PortalClient(server: bench.servers[1].url, origin: bench.origin)
            let (currentCard, newCard) = (Self.card(pin: Self.currentPIN), Self.card(pin: Self.newPIN))

            try await TestBench.withCard(bench.current, slot: Self.slot) { server, context, reader in
                // No one logs in: the flow's identifier continues it, on either instance.
                let update = try await a.startCertificateUpdate(.privateCertificate)
                let onB = try await b.resume(CertificateUpdateFlow.self, flowID: update.flowID)
                #expect(try await onB.presentCurrentCertificate(with: currentCard).step == .newCertificate)

                await server.remove()
                try await TestBench.waitUntil(context: context, reader: reader, present: false)
                try await server.insert(new)
                try await TestBench.waitUntil(context: context, reader: reader, present: true)

                #expect(try await update.presentNewCertificate(with: newCard).step == .confirm)
                let confirmation = try await onB.confirmation()
                #expect(confirmation.title == "電子証明書の更新確認")
                #expect(confirmation.current.heading == "更新元電子証明書情報")
                #expect(confirmation.new.kind == "icCard")
                let completion = try await update.update()
                #expect(try await onB.state().step == .completed)

                // The new card (in the reader) logs in and sees the update in its registration.
                let session = try await b.logIn(with: newCard)
                #expect(session.bindingID == completion.newBindingID)
                let after = try await b.registration()
                #expect(after.certificate(completion.supersededBindingID)?.status == "superseded")
                #expect(after.certificate(completion.newBindingID)?.status == "active")
            }
        }

        @Test(
            "a revocation request across two instances, the card through pcscd: its evidence, its CMS signature, 確定",
            arguments: ClientStoreKind.allCases)
        func revocationRequest(_ kind: ClientStoreKind) async throws {
            let bench = try await ClientBench(store: kind)
            defer { bench.stop() }
            let card = try PrivateCAICCard.issue(by: bench.authority, holder: bench.holder, pin: Self.newPIN)
            let serial = CertificateSummary(try Certificate(derEncoded: card.snapshot.holderCertificate)).serialNumber
            let a = PortalClient(server: bench.servers[0].url, origin: bench.origin)
            let b = PortalClient(server: bench.servers[1].url, origin: bench.origin)
            try await TestBench.withCard(card, slot: Self.slot) { _, context, reader in
                let request = try await a.startRevocationRequest()
                let onB = try await b.resume(RevocationRequestFlow.self, flowID: request.flowID)
                let early = await #expect(throws: PortalClientError.self) { try await onB.agree() }
                #expect(early?.rule == "documentsNotOpened")
                #expect(try await request.openProcedure().paragraphs.isEmpty == false)
                _ = try await onB.openTerms()
                #expect(try await request.agree().step == .card)
                let read = try await onB.presentCard(with: Self.card(pin: Self.newPIN))
                #expect(read.card?.rows.contains { $0.value == bench.holder.companyName } == true)
                let written = try await request.fill(
                    .init(reason: .damage, requesterName: "入札 太郎", phone: "058-123-4567", mail: "taro@example.co.jp"))
                let requestID = try #require(written.toSign?.requestID)

                // The card signs the request through pcscd, as the card agent's document signature does.
                let connection = try await context.connect(to: reader)
                let icCard = try await ICCard.connect(transport: connection, profile: .procurementIdentitySimulator)
                let key = try await icCard.signingKey(
                    pin: try SecretPIN(Self.newPIN, policy: ICCardProfile.procurementIdentitySimulator.pinPolicy))
                #expect(try await onB.sign(with: key).step == .confirm)
                await connection.disconnect()

                let screen = try await request.confirmation()
                #expect(screen.value(of: "失効理由") == "破損")
                #expect(screen.value(of: "申込ID") == requestID)
                let unchecked = await #expect(throws: PortalClientError.self) { try await onB.submit(checked: false) }
                #expect(unchecked?.rule == "confirmationNotChecked")
                let record = try await onB.submit(checked: true)
                #expect(record.requestID == requestID)
                #expect(record.text.contains("受付番号: \(record.receiptNumber)"))
                #expect(try await request.details().receiptNumber == record.receiptNumber)
                let again = await #expect(throws: PortalClientError.self) { try await request.back() }
                #expect(again?.rule == "revocationAlreadySubmitted")
                #expect(try bench.isRevoked(serial: serial), "the simulator's CA revoked it")
            }
        }

        @Test(
            "a reissue through two portal-servers: the administrator's card through pcscd, the contract from `portal reissue contract`, the user's key made by the client",
            arguments: ClientStoreKind.allCases)
        func reissueAndEnrollment(_ kind: ClientStoreKind) async throws {
            let bench = try await ClientBench(servers: 0, store: kind)
            defer { bench.stop() }
            // The user whose computer was replaced: an agent with a file certificate of the portal's CA.
            let database = bench.database
            let store = try await ClientBench.openStore(database)
            let service = RegistrationService(
                store: store,
                portal: PortalProfile(name: "電子入札システム", mailFrom: try MailAddress("noreply@portal.example.jp")))
            let key = try CardRSAKey.generate()
            var agentHolder = bench.holder
            agentHolder.name = "代理 花子"
            let oldCertificate = try bench.authority.issueEBiddingCertificate(
                for: agentHolder, publicKey: key, validity: .valid(days: 395))
            let oldFile = try FileCredential(privateKeyPEM: key.pemRepresentation, certificate: oldCertificate)
            let added = try await service.commit(
                try await service.prepare(
                    .addAgent(
                        try UserInformation(
                            title: "営業部長", name: "代理 花子", postalCode: "5008570", address: "岐阜県岐阜市司町４０番地１",
                            phone: "058-123-4567", fax: nil, mail: "hanako@example.co.jp"),
                        oldCertificate, .fileCertificate, powerOfAttorney: nil),
                    to: bench.registered.id, by: .portal(operator: "e2e")))
            let agentID = try #require(added.registration.users.first { $0.role == .agent }?.id)
            let representativeID = try #require(bench.registered.representative?.id)
            await ClientBench.close(store)

            // The contract, recorded with the example tool; the servers import it at start.
            let accounts = bench.directory.appending(path: "reissue-accounts.json").path
            let ca = bench.directory.appending(path: "reissue-ca").path
            let recorded = try await Tools.run(
                "portal",
                [
                    "reissue", "contract", "--db", database, "--contract", "12345678901", "--administrator",
                    representativeID.rawValue, "--user", "hanako=\(agentID.rawValue)", "--accounts", accounts, "--ca",
                    ca, "--password-stdin",
                ], input: "admin-pass-1\nadmin-check-2\nuser-pass-1\nuser-check-2\n")
            #expect(recorded.status == 0, "\(recorded.error)")
            let root = bench.directory.appending(path: "root.pem").path
            let servers = [
                try await ServerProcess(
                    database: database, root: root, origin: bench.origin.description,
                    arguments: ["--reissue-ca", ca, "--reissue-contracts", accounts]),
                try await ServerProcess(
                    database: database, root: root, origin: bench.origin.description,
                    arguments: ["--reissue-ca", ca, "--reissue-contracts", accounts]),
            ]
            defer { servers.forEach { $0.stop() } }
            func secret(_ text: String) throws -> SecretPIN { try SecretPIN(text, policy: .password()) }

            let a = PortalClient(server: servers[0].url, origin: bench.origin)
            let b = a.sharingSession(with: servers[1].url)
            let receipt = try await TestBench.withCard(bench.current, slot: Self.slot) { _, _, _ in
                try await a.logIn(with: Self.card(pin: Self.currentPIN))
                let reissue = try await a.startReissue()
                let onB = try await b.resume(CertificateReissueFlow.self, flowID: reissue.flowID)
                let wrong = await #expect(throws: PortalClientError.self) {
                    try await onB.logOn(
                        contractID: "12345678901", password: try secret("not-the-password"),
                        confirmation: try secret("admin-check-2"))
                }
                #expect(wrong?.rule == "signInRejected")
                #expect(
                    try await onB.logOn(
                        contractID: "12345678901", password: try secret("admin-pass-1"),
                        confirmation: try secret("admin-check-2")
                    ).step == .chooseUser)
                let users = try await reissue.users()
                #expect(users.users.map(\.name) == ["代理 花子"])
                #expect(try await onB.choose(loginID: "hanako").step == .confirm)
                let screen = try await reissue.confirmation()
                #expect(screen.value(of: "処理内容") == "現在の電子証明書を失効し、再発行する")
                return try await onB.reissue()
            }
            #expect(receipt.revoked.count == 1)

            // The new computer: no session; sign in on one instance, obtain on the other.
            let user = PortalClient(server: servers[1].url, origin: bench.origin)
            let enrollment = try await user.startEnrollment()
            let pending = try await enrollment.signIn(
                contractID: "12345678901", loginID: "hanako", password: try secret("user-pass-1"),
                confirmation: try secret("user-check-2"), code: receipt.enrollmentCode)
            #expect(pending.confirmation?.userName == "代理 花子")
            let other = PortalClient(server: servers[0].url, origin: bench.origin)
            let obtained = try await other.resumeEnrollment(flowID: enrollment.flowID)
                .obtain(filePassword: try secret("p12-file-pass"))
            #expect(obtained.notice.contains("有効期限は1年"))

            // The PKCS#12 file holds the key made by the client; it logs in as the user. The old file does not.
            let file = try FileCredential(pkcs12: obtained.pkcs12, password: try secret("p12-file-pass"))
            let session = try await other.logIn(with: KeyEvidenceSigner(file))
            #expect(session.userID == agentID.rawValue)
            #expect(session.bindingID == obtained.bindingID)
            let refused = await #expect(throws: PortalClientError.self) {
                try await PortalClient(server: servers[1].url, origin: bench.origin).logIn(
                    with: KeyEvidenceSigner(oldFile))
            }
            #expect(refused?.rule == "certificateNotActive")
            let revoked = try String(contentsOfFile: ca + "/revoked.txt", encoding: .utf8)
            #expect(revoked.contains("\(oldCertificate.serialNumber)"), "the reissue's CA was told")
        }

        @Test(
            "expired power of attorney renewed on two instances: --poa-provider answers 取得依頼; refused without it",
            arguments: ClientStoreKind.allCases)
        func powerOfAttorneyRenewal(_ kind: ClientStoreKind) async throws {
            let bench = try await ExpiredAgentServers(providers: [true, true, false], store: kind)
            defer { bench.stop() }
            let portal = bench.portal
            let a = PortalClient(server: bench.servers[0].url, origin: bench.origin)
            let b = a.sharingSession(with: bench.servers[1].url)
            let unconfigured = a.sharingSession(with: bench.servers[2].url)
            let signingCard = CardEvidenceSigner { try ExpiredAgentPortal.signing(ExpiredAgentPortal.signingPIN) }

            try await TestBench.withCard(portal.agentCard, slot: Self.slot) { _, context, reader in
                let session = try await bench.logInAgent(a, context: context, reader: reader)
                #expect(session.role == "agent")
                #expect(session.userID == portal.agentID.rawValue)
                let before = try await b.registration()

                // 失効画面 on A, 電子委任状更新 chosen on B, the card's signing key (the card agent's choice for this
                // step) on A.
                let flow = try await a.startExpiredPowerOfAttorney()
                let onB = try await b.resume(ExpiredPowerOfAttorneyFlow.self, flowID: flow.flowID)
                #expect(try await onB.state().step == .expired)
                #expect(try await onB.chooseRenewal().step == .renewalCard)
                #expect(try await flow.presentRenewalCard(with: signingCard).step == .request)

                // The instance without --poa-provider refuses 取得依頼 and says why; the flow stays at the step.
                let onC = try await unconfigured.resume(ExpiredPowerOfAttorneyFlow.self, flowID: flow.flowID)
                let refused = await #expect(throws: PortalClientError.self) {
                    try await onC.request(applicationNumber: "APP-E2E-1")
                }
                #expect(refused?.status == 422)
                #expect(refused?.rule == "powerOfAttorneyRequestFailed", "\(String(describing: refused))")
                #expect(refused?.problem?.title == "電子委任状を取得できませんでした")
                #expect(refused?.problem?.detail.contains("no 電子委任状取扱事業者 is configured") == true)

                // The provider's answer as it is now: ended yesterday, so it does not fit.
                let stale = await #expect(throws: PortalClientError.self) {
                    try await onB.request(applicationNumber: "APP-E2E-1")
                }
                #expect(stale?.rule == "powerOfAttorneyMismatch", "\(String(describing: stale))")
                #expect(try await flow.state().step == .request)

                // The provider's new answer, read at the next 取得依頼 without a restart.
                let validUntil = Date().addingTimeInterval(365 * ExpiredAgentPortal.day)
                try bench.writeDocument(validUntil: validUntil, reference: "POA-E2E-1")
                #expect(try await flow.request(applicationNumber: "APP-E2E-1").step == FlowStep("confirm-renewal"))
                let confirmation = try await onB.confirmation()
                #expect(confirmation.title == "マイナンバーカード電子委任状確認")
                #expect(confirmation.sections.map(\.heading) == ["委任者情報", "受任者情報", "代理権情報"])
                let rows = confirmation.sections.flatMap(\.rows)
                #expect(rows.contains { $0.label == "受任者" && $0.value == ExpiredAgentPortal.agentName })
                #expect(try await a.registration() == before, "nothing stored before 電子委任状更新")

                let done = try await onB.renew()
                #expect(done.version == before.version + 1)
                let finished = try await flow.state()
                #expect(finished.step == FlowStep("renewed"))
                #expect(finished.changeID == done.changeID)

                // The registration: the change in its history, and the provider's power of attorney in force.
                let after = try await a.registration()
                #expect(after.version == done.version)
                #expect(
                    after.history.contains {
                        $0.id == done.changeID && $0.summary.contains("電子委任状更新")
                    }, "\(after.history.map(\.summary))")
                let stored = try await portal.stored()
                let attorney = try #require(stored.currentPowerOfAttorney(of: portal.agentID))
                #expect(attorney.reference == "POA-E2E-1")
                #expect(attorney.provider == ExpiredAgentServers.providerName, "the name the document gives")
                #expect(attorney.authority == ExpiredAgentPortal.authority)
                #expect(abs(attorney.validUntil.timeIntervalSince(validUntil)) < 1)
                #expect(attorney.isValid(at: Date()))

                // In force now: the 失効画面 no longer opens.
                let again = await #expect(throws: PortalClientError.self) { try await b.startExpiredPowerOfAttorney() }
                #expect(again?.rule == "powerOfAttorneyStillValid", "\(String(describing: again))")
            }
        }

        @Test(
            "expired agent deleted on two instances: the user-authentication key paired by --jpki-linkage, 削除",
            arguments: ClientStoreKind.allCases)
        func expiredAgentDeletion(_ kind: ClientStoreKind) async throws {
            let bench = try await ExpiredAgentServers(providers: [true, true], store: kind)
            defer { bench.stop() }
            let portal = bench.portal
            // JPKI's answer has no pair for the card yet.
            let pairs = try Data(contentsOf: URL(fileURLWithPath: bench.files.linkage))
            try Data("{}".utf8).write(to: URL(fileURLWithPath: bench.files.linkage))
            let a = PortalClient(server: bench.servers[0].url, origin: bench.origin)
            let b = a.sharingSession(with: bench.servers[1].url)
            let authenticationCard = CardEvidenceSigner {
                try ExpiredAgentPortal.authentication(ExpiredAgentPortal.authenticationPIN)
            }

            try await TestBench.withCard(portal.agentCard, slot: Self.slot) { _, context, reader in
                try await bench.logInAgent(a, context: context, reader: reader)
                let before = try await b.registration()

                // 失効画面 on A, 代理人情報削除 chosen on B.
                let flow = try await a.startExpiredPowerOfAttorney()
                let onB = try await b.resume(ExpiredPowerOfAttorneyFlow.self, flowID: flow.flowID)
                #expect(try await onB.chooseDeletion().step == FlowStep("deletion-card"))

                // Without JPKI's pair the card is not proved the agent's.
                let unpaired = await #expect(throws: PortalClientError.self) {
                    try await flow.presentDeletionCard(with: authenticationCard)
                }
                #expect(unpaired?.status == 422)
                #expect(unpaired?.rule == "agentCardMismatch", "\(String(describing: unpaired))")
                #expect(try await onB.state().step == FlowStep("deletion-card"))

                // JPKI's pair, read at the next question: the card's user-authentication key, on B.
                try pairs.write(to: URL(fileURLWithPath: bench.files.linkage))
                #expect(
                    try await onB.presentDeletionCard(with: authenticationCard).step == FlowStep("confirm-deletion"))
                let confirmation = try await flow.confirmation()
                #expect(confirmation.title.hasPrefix("利用者情報削除確認"), "\(confirmation.title)")
                #expect(
                    confirmation.sections.map(\.heading) == ["利用者基本情報", "電子証明書情報", "マイナンバーカード電子委任状情報"])
                #expect(!confirmation.notes.isEmpty)

                let unacknowledged = await #expect(throws: PortalClientError.self) {
                    try await onB.delete(acknowledgingIrreversible: false)
                }
                #expect(unacknowledged?.rule == "deletionNotAcknowledged", "\(String(describing: unacknowledged))")
                #expect(try await a.registration() == before, "nothing stored before 削除")

                let done = try await flow.delete(acknowledgingIrreversible: true)
                #expect(done.version == before.version + 1)
                let stored = try await portal.stored()
                #expect(stored.version == done.version)
                #expect(try stored.user(portal.agentID).status == .deleted)

                // The session was the deleted agent's: it ended, on both instances; the card no longer logs in.
                let ended = await #expect(throws: PortalClientError.self) { try await b.registration() }
                #expect(ended?.rule == "noSession", "\(String(describing: ended))")
                let refused = await #expect(throws: PortalClientError.self) {
                    try await bench.logInAgent(a, context: context, reader: reader)
                }
                #expect(refused?.status == 403, "\(String(describing: refused))")
            }
        }

        @Test("another company's card at new-card: the problem's rule reaches the caller, the registration unchanged")
        func wrongNewCard() async throws {
            let bench = try await ClientBench()
            defer { bench.stop() }
            var otherCompany = bench.holder
            otherCompany.companyName = "株式会社試験建設工業"
            let wrong = try PrivateCAICCard.issue(by: bench.authority, holder: otherCompany, pin: Self.newPIN)
            let client = PortalClient(server: bench.servers[0].url, origin: bench.origin)
            let currentCard = Self.card(pin: Self.currentPIN)

            try await TestBench.withCard(bench.current, slot: Self.slot) { server, context, reader in
                try await client.logIn(with: currentCard)
                let before = try await client.registration()
                var reviewed = false
                let error = await #expect(throws: PortalClientError.self) {
                    try await client.renewICCard(current: currentCard, new: Self.card(pin: Self.newPIN)) {
                        await server.remove()
                        try await TestBench.waitUntil(context: context, reader: reader, present: false)
                        try await server.insert(wrong)
                        try await TestBench.waitUntil(context: context, reader: reader, present: true)
                    } review: { _ in
                        reviewed = true
                    }
                }
                #expect(error?.code == .refused)
                #expect(error?.rule == "companyNameMismatch", "\(String(describing: error))")
                #expect(error?.status == 422)
                #expect(error?.problem?.type == "urn:procurement-identity:problem:companyNameMismatch")
                #expect(error?.problem?.detail.contains("株式会社試験建設工業") == true)
                #expect(!reviewed)
                #expect(wrong.triesLeft == 10, "the wrong card's evidence was made; its PIN counter is whole")
                // Still logged in with the current card; nothing changed.
                #expect(try await client.registration() == before)
            }
        }
    }
}

/// Where the servers of a ClientBench keep the registrations: a SQLite file, or the test bench's PostgreSQL server
/// in a schema of its own (`t_<seconds>_…`, which the bench's clean-up drops after an hour).
enum ClientStoreKind: String, CaseIterable, CustomTestStringConvertible, Sendable {
    case sqlite, postgres
    var testDescription: String { rawValue }

    static func postgresURL() -> String {
        let base =
            ProcessInfo.processInfo.environment["PI_TEST_POSTGRES_URL"]
            ?? "postgres://pi_test:pi_test@127.0.0.1:5432/pi_test"
        let schema = "t_\(Int(Date().timeIntervalSince1970))_" + UUID().uuidString.prefix(8).lowercased()
        return base + (base.contains("?") ? "&" : "?") + "schema=\(schema)"
    }
}

/// Two `portal-server` processes over one SQLite file (or PostgreSQL schema) holding a business registered with its representative's
/// current IC card (close to expiry), and the test CA.
final class ClientBench {
    let directory: URL
    let authority: TestCertificateAuthority
    let holder = EBiddingHolder.example
    let current: PrivateCAICCard
    let registered: BusinessRegistration
    let origin: PortalOrigin
    let servers: [ServerProcess]
    /// The servers' `--db`: the SQLite file, or a PostgreSQL URL with a schema of its own.
    let database: String

    /// A store object over the servers' database, for a test's own changes; close it after use.
    static func openStore(_ database: String) async throws -> any RegistrationStore {
        guard PostgresStoreConfiguration.isPostgresURL(database) else {
            return try SQLiteRegistrationStore(path: database)
        }
        var configuration = try PostgresStoreConfiguration(url: database, environment: [:])
        configuration.maximumConnections = 2
        return try await PostgresRegistrationStore(configuration)
    }

    static func close(_ store: any RegistrationStore) async {
        if let postgres = store as? PostgresRegistrationStore { await postgres.close() }
    }

    /// `servers` instances with the `origin` browsers see, each on `listen` (port 0: any free port), with
    /// `arguments` besides the store, the roots and the origin.
    init(
        servers count: Int = 2, store kind: ClientStoreKind = .sqlite, origin: String = "http://127.0.0.1:8080",
        listen: String = "127.0.0.1:0", arguments: [String] = []
    ) async throws {
        directory = FileManager.default.temporaryDirectory.appending(path: "e2e-client-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        authority = try TestCertificateAuthority(directory: directory.appending(path: "ca"))
        current = try PrivateCAICCard.issue(
            by: authority, holder: holder, pin: EndToEnd.PortalClientEndToEndTests.currentPIN,
            validity: .expiring(inDays: 25))
        switch kind {
        case .sqlite: database = directory.appending(path: "portal.sqlite").path
        case .postgres: database = ClientStoreKind.postgresURL()
        }
        let store = try await Self.openStore(database)
        let service = RegistrationService(
            store: store,
            portal: PortalProfile(name: "電子入札システム", mailFrom: try MailAddress("noreply@portal.example.jp")))
        registered = try await service.commit(
            try await service.prepareRegistration(
                of: try BusinessInformation(
                    name: holder.companyName, postalCode: "500-8570", address: "岐阜県岐阜市司町４０番地１",
                    representativeTitle: "代表取締役", representativeName: "入札 太郎", corporateNumber: nil,
                    phone: "058-123-4567"),
                representative: try UserInformation(
                    title: "代表取締役", name: "入札 太郎", postalCode: "5008570", address: "岐阜県岐阜市司町４０番地１",
                    phone: "058-123-4567", fax: nil, mail: "taro@example.co.jp"),
                certificate: try Certificate(derEncoded: current.snapshot.holderCertificate), kind: .icCard,
                by: .portal(operator: "e2e"))
        ).registration
        await Self.close(store)
        let root = directory.appending(path: "root.pem")
        // The e-bidding CA's root, and JPKI's signing root for the certificate update with a My Number card.
        try (try authority.rootCertificatePEM(.eBidding) + authority.rootCertificatePEM(.jpkiSigning))
            .write(to: root, atomically: true, encoding: .utf8)
        // The J-LIS stand-in, empty until a test writes successors into it (the server reads it at each question).
        let jpkiLinkage = directory.appending(path: "jpki-linkage.json")
        try Data("{}".utf8).write(to: jpkiLinkage)
        // The origin browsers would see; each instance is reached on its own port, as behind a load balancer.
        self.origin = try PortalOrigin(origin)
        var servers: [ServerProcess] = []
        for _ in 0..<count {
            servers.append(
                try await ServerProcess(
                    database: database, root: root.path, origin: origin, listen: listen,
                    arguments: ["--revocation-ca", authority.directory.path, "--jpki-linkage", jpkiLinkage.path]
                        + arguments))
        }
        self.servers = servers
    }

    /// The J-LIS stand-in the servers read (`portal-server --jpki-linkage`).
    var jpkiLinkage: URL { directory.appending(path: "jpki-linkage.json") }

    /// Whether the simulator's CA revoked the certificate with `serial` (upper-case hex, as CertificateSummary).
    func isRevoked(serial: String) throws -> Bool {
        try authority.issuedCertificates().contains {
            $0.revocation != nil && $0.serialNumber.uppercased().drop { $0 == "0" } == serial.drop { $0 == "0" }
        }
    }

    func stop() {
        for server in servers { server.stop() }
        try? FileManager.default.removeItem(at: directory)
    }
}

/// `portal-server` processes over the SQLite file of an ``ExpiredAgentPortal`` (an agent registered with a My Number
/// card whose power of attorney expired yesterday), trusting the three roots, with JPKI's pairing of the card's
/// certificates (`--jpki-linkage`) and, where asked, the provider's answer (`--poa-provider`). Both files are read
/// again at each question: a test rewrites them while the servers run.
final class ExpiredAgentServers {
    static let providerName = "テスト委任状サービス"
    let portal: ExpiredAgentPortal
    let files: PowerOfAttorneyToolFiles
    let origin: PortalOrigin
    let servers: [ServerProcess]

    /// One server for each element of `providers`, given `--poa-provider` where it is true.
    init(providers: [Bool], store kind: ClientStoreKind = .sqlite, origin: String = "http://127.0.0.1:8080")
        async throws
    {
        portal = try await ExpiredAgentPortal(store: kind)
        var servers: [ServerProcess] = []
        do {
            files = try portal.toolFiles()
            self.origin = try PortalOrigin(origin)
            // The provider's answer at the start (which names the provider): a power of attorney that ended yesterday.
            try Self.writeDocument(
                to: files.document, validUntil: Date().addingTimeInterval(-ExpiredAgentPortal.day),
                reference: "POA-E2E-0")
            for provider in providers {
                servers.append(
                    try await ServerProcess(
                        database: portal.database, root: files.trust, origin: origin,
                        arguments: ["--jpki-linkage", files.linkage]
                            + (provider ? ["--poa-provider", files.document] : [])))
            }
            self.servers = servers
        } catch {
            for server in servers { server.stop() }
            portal.remove()
            throw error
        }
    }

    /// The provider's answer: a power of attorney for the agent from an hour ago until `validUntil`.
    func writeDocument(validUntil: Date, reference: String) throws {
        try Self.writeDocument(to: files.document, validUntil: validUntil, reference: reference)
    }

    static func writeDocument(to path: String, validUntil: Date, reference: String) throws {
        let dates = ISO8601DateFormatter()
        let document: [String: Any] = [
            "principal": "\(ExpiredAgentPortal.company) 代表取締役 入札 太郎", "agent": ExpiredAgentPortal.agentName,
            "authority": ExpiredAgentPortal.authority,
            "validFrom": dates.string(from: Date().addingTimeInterval(-3600)),
            "validUntil": dates.string(from: validUntil), "provider": providerName, "reference": reference,
        ]
        try JSONSerialization.data(withJSONObject: document).write(to: URL(fileURLWithPath: path))
    }

    /// Logs the agent in: its registered certificate is the card's signing certificate, so the login challenge is
    /// signed with the signing key (signing PIN), through pcscd.
    @discardableResult
    func logInAgent(_ client: PortalClient, context: PCSCContext, reader: String) async throws -> PortalSession {
        let connection = try await context.connect(to: reader)
        do {
            let card = try await MyNumberCard.connect(transport: connection)
            let key = try await card.signingKey(
                .signing, pin: try ExpiredAgentPortal.signing(ExpiredAgentPortal.signingPIN),
                includeCACertificate: true)
            let session = try await client.logIn(with: KeyEvidenceSigner(key))
            await connection.disconnect()
            return session
        } catch {
            await connection.disconnect()
            throw error
        }
    }

    func stop() {
        for server in servers { server.stop() }
        portal.remove()
    }
}

/// A `portal-server` process listening on a free port of 127.0.0.1.
final class ServerProcess {
    let process: Process
    let url: URL

    init(database: String, root: String, origin: String, listen: String = "127.0.0.1:0", arguments: [String] = [])
        async throws
    {
        let binary = Tools.binDirectory.appending(path: "portal-server")
        try #require(
            FileManager.default.isExecutableFile(atPath: binary.path),
            "\(binary.path) is missing: build first (swift build --build-tests)")
        let process = Process()
        process.executableURL = binary
        process.arguments =
            [
                "--db", database, "--listen", listen, "--trust", root, "--origin", origin, "--log-level", "warning",
            ] + arguments
        let output = Pipe()
        process.standardOutput = output
        process.standardError = FileHandle.nullDevice
        try process.run()
        self.process = process
        // "portal-server: listening on http://127.0.0.1:PORT (store …)", read off the cooperative pool.
        let line = await withCheckedContinuation { continuation in
            DispatchQueue.global().async {
                var line = ""
                while !line.contains("\n") {
                    let chunk = output.fileHandleForReading.availableData
                    if chunk.isEmpty { break }
                    line += String(decoding: chunk, as: UTF8.self)
                }
                continuation.resume(returning: line)
            }
        }
        guard let address = line.split(separator: " ").first(where: { $0.hasPrefix("http://") }),
            let url = URL(string: String(address))
        else {
            process.terminate()
            Issue.record("portal-server did not say where it listens: \(line)")
            throw CancellationError()
        }
        self.url = url
    }

    func stop() {
        if process.isRunning {
            process.terminate()
            _ = process.waitForExit(killingAfter: .seconds(10))
        }
    }
}
