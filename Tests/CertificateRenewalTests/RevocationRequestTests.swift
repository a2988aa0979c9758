import CardCredentials
import CardSimulator
import CertificateRenewal
import Foundation
import ISO7816
import Registration
import Testing
import X509

/// The simulator CA's revocation desk (a reference `RevocationAuthority`): it reads the request from its CMS bytes
/// alone, verifies the signature and that the signer is the certificate to revoke, revokes it at the test CA,
/// publishes a new CRL, and keeps the requests by ID, so a request sent again gets the same receipt.
actor TestCARevocationDesk: RevocationAuthority {
    enum Failure: Error, CustomStringConvertible {
        case unreachable, answerLost
        var description: String { self == .unreachable ? "the CA could not be reached" : "the answer was lost" }
    }

    let authority: TestCertificateAuthority
    let now: @Sendable () -> Date
    private var kept: [String: (cms: [UInt8], receipt: RevocationReceipt)] = [:]
    /// How many times `submit` was called, and how many revocations the CA made.
    private(set) var calls = 0
    private(set) var revocations = 0
    /// The CRL published after the last revocation.
    private(set) var latestCRL: CertificateRevocationList?
    /// Calls to fail before the desk acts (the network is down), and answers to drop after it acted.
    var failuresBeforeActing = 0
    var answersToLose = 0

    init(authority: TestCertificateAuthority, now: @escaping @Sendable () -> Date) {
        self.authority = authority
        self.now = now
    }

    func failNext(beforeActing: Int = 0, losingAnswers: Int = 0) {
        failuresBeforeActing = beforeActing
        answersToLose = losingAnswers
    }

    func submit(_ request: SignedRevocationRequest) async throws -> RevocationReceipt {
        calls += 1
        if failuresBeforeActing > 0 {
            failuresBeforeActing -= 1
            throw Failure.unreachable
        }
        let receipt = try await act(on: request.cms)
        if answersToLose > 0 {
            answersToLose -= 1
            throw Failure.answerLost
        }
        return receipt
    }

    private func act(on cms: [UInt8]) async throws -> RevocationReceipt {
        let received = try SignedRevocationRequest(cms: cms)
        if let earlier = kept[received.requestID] {
            guard earlier.cms == cms else {
                throw LifecycleError.revocationRefused(
                    reason: "request \(received.requestID) came before with other content")
            }
            return earlier.receipt
        }
        let date = now()
        let certificate = try await received.verify(trusting: [authority.rootCertificate(.eBidding)], at: date)
        if latestCRL?.contains(certificate.serialNumber) == true {
            throw LifecycleError.revocationRefused(reason: "the certificate is revoked already")
        }
        let reason = RevocationReason(rawValue: received.content.reasonCode) ?? .unspecified
        do {
            try authority.revoke(certificate.serialNumber, reason: reason, at: date)
            latestCRL = try CertificateRevocationList(bytes: authority.publishCRL(for: .eBidding, thisUpdate: date))
        } catch {
            throw LifecycleError.revocationRefused(reason: "\(error)")
        }
        revocations += 1
        let receipt = RevocationReceipt(
            receiptNumber: "R" + String(100_000 + kept.count + 1), requestID: received.requestID,
            serialNumber: received.content.serialNumber, acceptedAt: date)
        kept[received.requestID] = (cms, receipt)
        return receipt
    }
}

/// A bench for revocation requests: the renewal bench's portal, with the representative's card valid for 395 days.
struct RevocationBench {
    let bench: RenewalBench
    let desk: TestCARevocationDesk
    static let form = RevocationRequestForm(
        reason: .loss, requesterName: "入札 太郎", phone: "03-1234-5678", mail: "taro@example.co.jp", department: "総務部",
        note: "2026年11月20日に紛失")

    init(validityDays: Double = 395, sqlite: Bool = false) async throws {
        let clock = TestClock()
        let start = clock.now
        bench = try await RenewalBench(
            currentValidity: CertificateValidity(
                notValidBefore: start.addingTimeInterval(-86_400),
                notValidAfter: start.addingTimeInterval(validityDays * 86_400)),
            sqlite: sqlite)
        let benchClock = bench.clock
        desk = TestCARevocationDesk(authority: bench.authority, now: { benchClock.now })
    }

    func remove() { bench.remove() }

    func request(slot: any CardSlot, crls: [CertificateRevocationList] = [], timeout: Duration = .seconds(5))
        -> RevocationRequest
    {
        RevocationRequest(slot: slot, environment: bench.environment(crls: crls, timeout: timeout), authority: desk)
    }

    /// Agrees, reads the card and verifies its PIN: the flow shows the card's contents.
    func driveToReview(_ request: RevocationRequest, slot: SimulatedSlot) async throws {
        _ = try await request.openProcedure()
        _ = try await request.openTerms()
        try await request.agree()
        slot.insert(bench.currentCard)
        try await request.readCard()
        try await request.verifyPIN(try RenewalBench.pin(RenewalBench.currentPIN))
    }

    /// Drives the flow to the confirmation screen, ticked.
    func driveToConfirmation(_ request: RevocationRequest, slot: SimulatedSlot) async throws -> RevocationConfirmation {
        try await driveToReview(request, slot: slot)
        try await request.continueToForm()
        try await request.fill(Self.form)
        try await request.setChecked(true)
        guard case .confirm(let confirmation, true) = await request.step else {
            throw BenchFailure(what: "not at the ticked confirmation: \(await request.step)")
        }
        return confirmation
    }

    /// Runs `openssl` with `arguments`; returns its status and standard error.
    static func openssl(_ arguments: [String]) throws -> (status: Int32, error: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/openssl")
        process.arguments = arguments
        let errors = Pipe()
        process.standardError = errors
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        let data = errors.fileHandleForReading.readDataToEndOfFile()
        return (process.waitForExit(), String(decoding: data, as: UTF8.self))
    }
}

extension RevocationRequest {
    func submitOutcome() async -> Result<RevocationRecord, LifecycleError> {
        do { return .success(try await submit()) } catch { return .failure(error) }
    }
}

@Suite("Revocation request (インターネット失効申込), in process")
struct RevocationRequestTests {
    // MARK: The whole flow

    @Test(
        "the whole request: signed with the card, accepted once, in the CA's next CRL, and the card can no longer log in"
    )
    func happyPath() async throws {
        let setup = try await RevocationBench()
        defer { setup.remove() }
        let bench = setup.bench
        let slot = SimulatedSlot(name: "Reader 0")
        let request = setup.request(slot: slot)
        #expect(await request.step == .agreement(procedureOpened: false, termsOpened: false))
        #expect(RevocationRequest.notice.contains { $0.contains("30日前まで") })
        #expect(RevocationRequest.notice.contains { $0.contains("行政機関等に失効のタイミングについてご相談") })

        let procedure = try await request.openProcedure()
        #expect(procedure.title == "手続きの流れ")
        let terms = try await request.openTerms()
        #expect(terms.text.contains("書面により失効申込"))
        #expect(await request.step == .agreement(procedureOpened: true, termsOpened: true))
        try await request.agree()
        #expect(await request.step == .insertCard)

        slot.insert(bench.currentCard)
        try await request.readCard()
        #expect(await request.step == .enterPIN(triesLeft: 10))
        try await request.verifyPIN(try RenewalBench.pin(RenewalBench.currentPIN))
        guard case .reviewCard(let contents) = await request.step else {
            Issue.record("not at the card's contents: \(await request.step)")
            return
        }
        let certificate = try RenewalBench.certificate(of: bench.currentCard)
        let summary = CertificateSummary(certificate)
        #expect(contents.value(of: "ICカード業者名称") == RenewalBench.companyName)
        #expect(contents.value(of: "ICカード取得者氏名") == "入札\u{3000}太郎")
        #expect(contents.value(of: "ICカード取得者所在地") == "東京都千代田区霞が関1-1-1")
        #expect(contents.value(of: "証明書シリアル番号") == summary.serialNumber)
        #expect(contents.value(of: "有効期間の満了日") == CertificateSummary.japanDate(certificate.notValidAfter))
        #expect(contents.fingerprint == bench.binding.fingerprint)

        try await request.continueToForm()
        #expect(await request.step == .fillForm(contents))
        try await request.fill(RevocationBench.form)
        guard case .confirm(let confirmation, false) = await request.step else {
            Issue.record("not at the unticked confirmation: \(await request.step)")
            return
        }
        #expect(confirmation.rows.contains(ScreenRow(label: "失効理由", value: "紛失")))
        #expect(confirmation.rows.contains(ScreenRow(label: "申込ID", value: confirmation.request.requestID)))
        #expect(await setup.desk.calls == 0, "nothing is sent before 確定")

        // The request is the canonical JSON, signed by the card's key, with its certificate inside.
        let content = confirmation.request.content
        #expect(content.serialNumber == summary.serialNumber)
        #expect(content.fingerprint == bench.binding.fingerprint)
        #expect(content.reason == "loss")
        #expect(content.reasonCode == RevocationReason.keyCompromise.rawValue)
        #expect(content.requesterName == "入札 太郎")
        let signed = try CMSSignedData(derEncoded: confirmation.request.cms)
        #expect(signed.content == (try content.canonicalJSON()))
        let json = String(decoding: try content.canonicalJSON(), as: UTF8.self)
        #expect(json.hasPrefix("{\"department\":\"総務部\",\"fingerprint\":"), "keys sorted, UTF-8, no whitespace")
        #expect(!json.contains(" : ") && !json.contains("\n"))
        let verified = try await signed.verify(
            validator: CertificateValidator(trustAnchors: [bench.authority.rootCertificate(.eBidding)]),
            at: bench.clock.now)
        #expect(verified.signers.map(\.certificate) == [certificate])

        // openssl verifies the CMS file too, and finds the same JSON inside.
        let p7m = bench.directory.appending(path: "request.p7m")
        let root = bench.directory.appending(path: "root.pem")
        let out = bench.directory.appending(path: "content.json")
        try Data(confirmation.request.cms).write(to: p7m)
        try bench.authority.rootCertificatePEM(.eBidding).write(to: root, atomically: true, encoding: .utf8)
        let openssl = try RevocationBench.openssl([
            "cms", "-verify", "-inform", "DER", "-in", p7m.path, "-CAfile", root.path, "-purpose", "any", "-out",
            out.path,
        ])
        #expect(openssl.status == 0, "openssl cms -verify: \(openssl.error)")
        #expect(try Array(Data(contentsOf: out)) == (try content.canonicalJSON()))

        // 上記内容を確認しました is needed before 確定.
        await #expect(throws: LifecycleError.confirmationNotChecked) { try await request.submit() }
        #expect(await setup.desk.calls == 0)
        try await request.setChecked(true)
        let record = try await request.submit()
        #expect(await request.step == .completed(record))
        #expect(await setup.desk.calls == 1)
        #expect(await setup.desk.revocations == 1)
        #expect(record.receipt.requestID == confirmation.request.requestID)
        #expect(record.receipt.serialNumber == summary.serialNumber)
        #expect(record.cmsFile == confirmation.request.cms)

        // The printable record: 受付番号, date, the card's fields, the reason.
        let text = record.text
        #expect(text.contains("受付番号: \(record.receipt.receiptNumber)"))
        #expect(text.contains("受付日時: \(CertificateSummary.japanDate(bench.clock.now))"))
        #expect(text.contains("(JST)"))
        #expect(text.contains("証明書シリアル番号: \(summary.serialNumber)"))
        #expect(text.contains("ICカード取得者氏名: 入札\u{3000}太郎"))
        #expect(text.contains("失効理由: 紛失"))
        #expect(text.contains("メールアドレス: taro@example.co.jp"))
        #expect(!text.contains(RenewalBench.currentPIN))

        // The CA's next CRL lists the certificate with the reason.
        let crl = try #require(await setup.desk.latestCRL)
        #expect(crl.entry(for: certificate.serialNumber)?.reason == .keyCompromise)

        // The portal recorded the binding as revoked, as the portal itself (not the user).
        guard case .markedRevoked(let bindingID, _) = record.portal else {
            Issue.record("the portal did not mark the binding: \(record.portal)")
            return
        }
        #expect(bindingID == bench.binding.id)
        let stored = try await bench.stored()
        #expect(try stored.binding(bench.binding.id).recordedStatus == .revoked)
        #expect(stored.version == bench.registration.version + 1)

        // The card can no longer log in: the registration refuses it, and so does a portal that only reads the CRL.
        await #expect(throws: RegistrationError.certificateNotActive(.revoked)) {
            try await bench.login(with: bench.currentCard, pin: RenewalBench.currentPIN)
        }
        let validator = CertificateValidator(
            trustAnchors: [bench.authority.rootCertificate(.eBidding)], crls: [crl], revocation: .required)
        let result = await validator.validate(certificate, for: .signing, at: bench.clock.now)
        guard case .revoked(let reason, _, _) = result else {
            Issue.record("the CRL does not refuse the card: \(result)")
            return
        }
        #expect(reason == .keyCompromise)

        // After submission nothing can change.
        await #expect(throws: LifecycleError.revocationAlreadySubmitted) { try await request.back() }
        await #expect(throws: LifecycleError.self) { try await request.fill(RevocationBench.form) }
        #expect(await request.step == .completed(record))
    }

    @Test("every reason maps to an RFC 5280 code the CRL carries; the form's example is a valid form")
    func reasons() async throws {
        #expect(RevocationRequestReason.allCases.count == 8)
        #expect(RevocationRequestReason.detailsChanged.crlReason == .affiliationChanged)
        #expect(RevocationRequestReason.leftCompany.crlReason == .affiliationChanged)
        #expect(RevocationRequestReason.theft.crlReason == .keyCompromise)
        #expect(RevocationRequestReason.damage.crlReason == .cessationOfOperation)
        #expect(RevocationRequestReason.leftCompany.japaneseLabel == "退職・異動")

        let setup = try await RevocationBench()
        defer { setup.remove() }
        let slot = SimulatedSlot()
        let request = setup.request(slot: slot)
        try await setup.driveToReview(request, slot: slot)
        try await request.continueToForm()
        var form = RevocationRequestForm.example
        form.reason = .detailsChanged
        try await request.fill(form)
        try await request.setChecked(true)
        let record = try await request.submit()
        let crl = try #require(await setup.desk.latestCRL)
        let serial = try RenewalBench.certificate(of: setup.bench.currentCard).serialNumber
        #expect(crl.entry(for: serial)?.reason == .affiliationChanged)
        #expect(record.text.contains("失効理由: 記載事項の変更"))
    }

    // MARK: Agreement

    @Test("同意して次へ only after both the procedure and the terms were opened")
    func agreementNeedsBothDocuments() async throws {
        let setup = try await RevocationBench()
        defer { setup.remove() }
        let slot = SimulatedSlot()
        let request = setup.request(slot: slot)
        slot.insert(setup.bench.currentCard)
        await #expect(throws: LifecycleError.notAtStep(expected: "insertCard", current: "agreement")) {
            try await request.readCard()
        }
        let neither = await #expect(throws: LifecycleError.documentsNotOpened(missing: ["手続きの流れを確認", "利用規約を確認"])) {
            try await request.agree()
        }
        #expect(neither?.description.contains("同意して次へ") == true)
        _ = try await request.openTerms()
        await #expect(throws: LifecycleError.documentsNotOpened(missing: ["手続きの流れを確認"])) {
            try await request.agree()
        }
        #expect(await request.step == .agreement(procedureOpened: false, termsOpened: true))
        _ = try await request.openProcedure()
        try await request.agree()
        #expect(await request.step == .insertCard)
        await #expect(throws: LifecycleError.notAtStep(expected: "agreement", current: "insertCard")) {
            _ = try await request.openTerms()
        }
    }

    // MARK: The paper procedure

    @Test(
        "30 days or less before the end of validity, an expired card, or a blocked PIN: the paper procedure",
        // 29.99, not 30.0: at the boundary itself the certificate's whole-second times and the two test clocks'
        // start (a few milliseconds apart) decided the outcome, and a loaded machine saw it both ways.
        arguments: [29.99, 29.5, 1.0])
    func tooCloseToExpiry(days: Double) async throws {
        let setup = try await RevocationBench(validityDays: days)
        defer { setup.remove() }
        let slot = SimulatedSlot()
        let request = setup.request(slot: slot)
        _ = try await request.openProcedure()
        _ = try await request.openTerms()
        try await request.agree()
        slot.insert(setup.bench.currentCard)
        let error = await #expect(throws: LifecycleError.self) { try await request.readCard() }
        guard error?.code == .paperProcedureRequired,
            case .validityEndsWithin30Days(let notAfter)? = error?.paperProcedureReason
        else {
            Issue.record("got \(String(describing: error))")
            return
        }
        #expect(notAfter == (try RenewalBench.certificate(of: setup.bench.currentCard)).notValidAfter)
        #expect(error?.description.contains("書面による失効申込") == true)
        #expect(await request.step == .insertCard)
        #expect(setup.bench.currentCard.triesLeft == 10, "no PIN try was spent")
    }

    @Test("31 days before the end of validity the online request is open")
    func thirtyOneDays() async throws {
        let setup = try await RevocationBench(validityDays: 31)
        defer { setup.remove() }
        let slot = SimulatedSlot()
        let request = setup.request(slot: slot)
        try await setup.driveToReview(request, slot: slot)
        guard case .reviewCard = await request.step else {
            Issue.record("not at the card's contents: \(await request.step)")
            return
        }
    }

    @Test("an expired card is refused with the paper procedure")
    func expiredCard() async throws {
        let setup = try await RevocationBench(validityDays: -2)
        defer { setup.remove() }
        let slot = SimulatedSlot()
        let request = setup.request(slot: slot)
        _ = try await request.openProcedure()
        _ = try await request.openTerms()
        try await request.agree()
        slot.insert(setup.bench.currentCard)
        let error = await #expect(throws: LifecycleError.self) { try await request.readCard() }
        guard error?.code == .paperProcedureRequired, case .expired? = error?.paperProcedureReason else {
            Issue.record("got \(String(describing: error))")
            return
        }
        #expect(error?.description.contains("有効期限切れ") == true)
    }

    @Test("a wrong PIN says the tries left; the PIN blocked (閉塞) by the flow sends the person to the paper procedure")
    func wrongAndBlockedPIN() async throws {
        let setup = try await RevocationBench()
        defer { setup.remove() }
        let slot = SimulatedSlot()
        let request = setup.request(slot: slot)
        _ = try await request.openProcedure()
        _ = try await request.openTerms()
        try await request.agree()
        slot.insert(setup.bench.currentCard)
        try await request.readCard()
        for tries in stride(from: 9, through: 1, by: -1) {
            let error = await #expect(throws: LifecycleError.wrongPIN(.current, triesLeft: tries)) {
                try await request.verifyPIN(try RenewalBench.pin(RenewalBench.wrongPIN))
            }
            let leaks = error?.description.contains(RenewalBench.wrongPIN) ?? true
            #expect(!leaks, "the description never carries the PIN")
            #expect(await request.step == .enterPIN(triesLeft: tries))
        }
        await #expect(throws: LifecycleError.lastTryRefused(.current)) {
            try await request.verifyPIN(try RenewalBench.pin(RenewalBench.wrongPIN))
        }
        await #expect(throws: LifecycleError.paperProcedureRequired(.pinBlocked)) {
            try await request.verifyPIN(try RenewalBench.pin(RenewalBench.wrongPIN), allowLastTry: true)
        }
        #expect(await request.step == .insertCard)
        // Inserted again, the blocked card is refused before any PIN.
        await #expect(throws: LifecycleError.paperProcedureRequired(.pinBlocked)) { try await request.readCard() }
        #expect(await setup.desk.calls == 0)
        #expect(try await setup.bench.stored() == setup.bench.registration)
    }

    @Test("a card the CA revoked already (its CRL in the environment) is refused; a card of an unknown CA is untrusted")
    func revokedOrUntrustedCard() async throws {
        let setup = try await RevocationBench()
        defer { setup.remove() }
        let crl = try setup.bench.revoke(setup.bench.currentCard)
        let slot = SimulatedSlot()
        let request = setup.request(slot: slot, crls: [crl])
        _ = try await request.openProcedure()
        _ = try await request.openTerms()
        try await request.agree()
        slot.insert(setup.bench.currentCard)
        let error = await #expect(throws: LifecycleError.self) { try await request.readCard() }
        guard error?.code == .alreadyRevoked else {
            Issue.record("got \(String(describing: error))")
            return
        }

        let otherDirectory = setup.bench.directory.appending(path: "other-ca")
        let other = try TestCertificateAuthority(directory: otherDirectory)
        slot.insert(try setup.bench.newCard(authority: other))
        let untrusted = await #expect(throws: LifecycleError.self) { try await request.readCard() }
        guard untrusted?.code == .certificateUntrusted else {
            Issue.record("got \(String(describing: untrusted))")
            return
        }
        #expect(await request.step == .insertCard)
    }

    @Test("a forged card with the certificate but another key is refused after its PIN")
    func forgedCard() async throws {
        let setup = try await RevocationBench()
        defer { setup.remove() }
        let own = try setup.bench.newCard()
        var contents = setup.bench.currentCard.snapshot
        contents.signingKeyPEM = own.snapshot.signingKeyPEM
        contents.pin = own.snapshot.pin
        let forged = try PrivateCAICCard(snapshot: contents)
        let slot = SimulatedSlot()
        let request = setup.request(slot: slot)
        _ = try await request.openProcedure()
        _ = try await request.openTerms()
        try await request.agree()
        slot.insert(forged)
        try await request.readCard()
        await #expect(throws: LifecycleError.cardKeyMismatch(.current)) {
            try await request.verifyPIN(try RenewalBench.pin(RenewalBench.newPIN))
        }
        #expect(await request.step == .enterPIN(triesLeft: 10))
    }

    // MARK: The form and the confirmation

    @Test(
        "the form refuses each field that is missing or malformed and stays at the form",
        arguments: [
            (RevocationRequestForm(reason: .theft, requesterName: " ", phone: "03-1234-5678", mail: "a@b.jp"), "申込者氏名"),
            (RevocationRequestForm(reason: .theft, requesterName: "入札 太郎", phone: "03-1234", mail: "a@b.jp"), "電話番号"),
            (
                RevocationRequestForm(reason: .theft, requesterName: "入札 太郎", phone: "０３１２３４５６７８", mail: "a@b.jp"),
                "電話番号"
            ),
            (
                RevocationRequestForm(reason: .theft, requesterName: "入札 太郎", phone: "--0312345678", mail: "a@b.jp"),
                "電話番号"
            ),
            (
                RevocationRequestForm(reason: .theft, requesterName: "入札 太郎", phone: "0312345678", mail: "taro"),
                "メールアドレス"
            ),
            (
                RevocationRequestForm(reason: .theft, requesterName: "入札 太郎", phone: "0312345678", mail: "a@b"),
                "メールアドレス"
            ),
            (
                RevocationRequestForm(
                    reason: .theft, requesterName: "入札 太郎", phone: "0312345678", mail: "a@b.jp",
                    note: String(repeating: "あ", count: 201)), "備考"
            ),
        ])
    func invalidForm(form: RevocationRequestForm, field: String) async throws {
        let setup = try await RevocationBench()
        defer { setup.remove() }
        let slot = SimulatedSlot()
        let request = setup.request(slot: slot)
        try await setup.driveToReview(request, slot: slot)
        try await request.continueToForm()
        let error = await #expect(throws: LifecycleError.self) { try await request.fill(form) }
        guard error?.code == .requestFormInvalid, let refused = error?.field else {
            Issue.record("got \(String(describing: error))")
            return
        }
        #expect(refused == field)
        guard case .fillForm = await request.step else {
            Issue.record("left the form: \(await request.step)")
            return
        }
    }

    @Test("上記内容を確認しました unticked again blocks 確定 again")
    func checkBox() async throws {
        let setup = try await RevocationBench()
        defer { setup.remove() }
        let slot = SimulatedSlot()
        let request = setup.request(slot: slot)
        _ = try await setup.driveToConfirmation(request, slot: slot)
        try await request.setChecked(false)
        await #expect(throws: LifecycleError.confirmationNotChecked) { try await request.submit() }
        #expect(await setup.desk.calls == 0)
        try await request.setChecked(true)
        try await request.submit()
        #expect(await setup.desk.calls == 1)
    }

    // MARK: Exactly once

    @Test("an answer lost after the CA acted: the same request is sent again and the same receipt comes back")
    func lostAnswer() async throws {
        let setup = try await RevocationBench()
        defer { setup.remove() }
        let slot = SimulatedSlot()
        let request = setup.request(slot: slot)
        let confirmation = try await setup.driveToConfirmation(request, slot: slot)
        await setup.desk.failNext(losingAnswers: 1)
        let error = await #expect(throws: LifecycleError.self) { try await request.submit() }
        guard error?.code == .revocationNotAnswered else {
            Issue.record("got \(String(describing: error))")
            return
        }
        #expect(error?.description.contains("not recorded twice") == true)
        #expect(await request.step == .awaitingReceipt(confirmation))
        #expect(await setup.desk.revocations == 1, "the CA acted on the first send")
        // Nothing can change now.
        await #expect(throws: LifecycleError.revocationAlreadySubmitted) { try await request.back() }
        await #expect(throws: LifecycleError.revocationAlreadySubmitted) { try await request.setChecked(false) }
        #expect(await request.step == .awaitingReceipt(confirmation))

        let record = try await request.submit()
        #expect(await setup.desk.calls == 2)
        #expect(await setup.desk.revocations == 1, "the second send is not a second request")
        #expect(record.request == confirmation.request, "the very same bytes were sent")
        #expect(record.receipt.receiptNumber == "R100001")
        #expect(try await setup.bench.stored().version == setup.bench.registration.version + 1)
    }

    @Test("the CA unreachable: nothing happened there; sending again revokes once")
    func unreachable() async throws {
        let setup = try await RevocationBench()
        defer { setup.remove() }
        let slot = SimulatedSlot()
        let request = setup.request(slot: slot)
        _ = try await setup.driveToConfirmation(request, slot: slot)
        await setup.desk.failNext(beforeActing: 2)
        for _ in 0..<2 {
            await #expect(throws: LifecycleError.self) { try await request.submit() }
        }
        #expect(await setup.desk.revocations == 0)
        // The card may have left the reader: sending needs only the signed request.
        slot.remove()
        let record = try await request.submit()
        #expect(await setup.desk.calls == 3)
        #expect(await setup.desk.revocations == 1)
        #expect(record.receipt.receiptNumber == "R100001")
    }

    @Test("two sends of the same request at once: one runs, the other is told to wait or that it was sent")
    func concurrentSubmits() async throws {
        let setup = try await RevocationBench()
        defer { setup.remove() }
        let slot = SimulatedSlot()
        let request = setup.request(slot: slot)
        _ = try await setup.driveToConfirmation(request, slot: slot)
        async let first = request.submitOutcome()
        async let second = request.submitOutcome()
        let outcomes = await [first, second]
        let successes = outcomes.compactMap { try? $0.get() }
        #expect(successes.count >= 1)
        for outcome in outcomes {
            // Either it came while the first ran, or after the request was sent: never a second request.
            if case .failure(let error) = outcome {
                #expect(error == .stepInProgress || error == .revocationAlreadySubmitted)
            }
        }
        #expect(await setup.desk.revocations == 1)
    }

    @Test("the CA refuses a request of a certificate it did not issue; the flow starts over with nothing recorded")
    func refusedByTheCA() async throws {
        let setup = try await RevocationBench()
        defer { setup.remove() }
        let other = try TestCertificateAuthority(directory: setup.bench.directory.appending(path: "other-ca"))
        let desk = TestCARevocationDesk(authority: other, now: { Date() })
        let slot = SimulatedSlot()
        let request = RevocationRequest(slot: slot, environment: setup.bench.environment(), authority: desk)
        _ = try await setup.driveToConfirmation(request, slot: slot)
        let error = await #expect(throws: LifecycleError.self) { try await request.submit() }
        guard error?.code == .revocationRefused else {
            Issue.record("got \(String(describing: error))")
            return
        }
        #expect(await request.step == .agreement(procedureOpened: false, termsOpened: false))
        #expect(try await setup.bench.stored() == setup.bench.registration)
    }

    @Test("a desk refuses tampered bytes, a request signed by another certificate, and the same ID with other content")
    func deskChecks() async throws {
        let setup = try await RevocationBench()
        defer { setup.remove() }
        let slot = SimulatedSlot()
        let request = setup.request(slot: slot)
        let confirmation = try await setup.driveToConfirmation(request, slot: slot)
        let root = setup.bench.authority.rootCertificate(.eBidding)
        let now = setup.bench.clock.now

        // Tampered: one byte of the JSON inside changed.
        var tampered = confirmation.request.cms
        let json = try confirmation.request.content.canonicalJSON()
        let at = try #require(Self.range(of: json, in: tampered)).lowerBound + 2
        tampered[at] ^= 0x01
        await #expect(throws: LifecycleError.self) {
            _ = try await SignedRevocationRequest(cms: tampered).verify(trusting: [root], at: now)
        }
        // Truncated and empty bytes.
        #expect(throws: LifecycleError.self) { try SignedRevocationRequest(cms: Array(tampered.prefix(40))) }
        #expect(throws: LifecycleError.self) { try SignedRevocationRequest(cms: []) }

        // Signed by the card, but naming another certificate to revoke.
        var content = confirmation.request.content
        content.serialNumber = "0123456789ABCDEF"
        let key = try await ICCard.connect(
            transport: try await slot.connect(), profile: .procurementIdentitySimulator
        ).signingKey(pin: try RenewalBench.pin(RenewalBench.currentPIN))
        let signed = try await CMSSignedData.sign(try content.canonicalJSON(), with: key, detached: false)
        let other = SignedRevocationRequest(content: content, cms: signed.derEncoded)
        let error = await #expect(throws: LifecycleError.self) { _ = try await other.verify(trusting: [root], at: now) }
        #expect(error?.description.contains("not by the certificate to revoke") == true)

        // Non-canonical JSON inside is refused.
        let spaced = Array("{ \"format\": 1 }".utf8)
        #expect(throws: LifecycleError.self) { try RevocationRequestContent(canonicalJSON: spaced) }

        // The desk: the same request ID with other content is refused.
        try await request.submit()
        var again = confirmation.request.content
        again.note = "別の内容"
        let resigned = try await CMSSignedData.sign(try again.canonicalJSON(), with: key, detached: false)
        await #expect(throws: LifecycleError.self) {
            try await setup.desk.submit(SignedRevocationRequest(content: again, cms: resigned.derEncoded))
        }
        #expect(await setup.desk.revocations == 1)
    }

    static func range(of needle: [UInt8], in haystack: [UInt8]) -> Range<Int>? {
        guard needle.count <= haystack.count else { return nil }
        for start in 0...(haystack.count - needle.count)
        where haystack[start..<start + needle.count].elementsEqual(needle) {
            return start..<start + needle.count
        }
        return nil
    }

    // MARK: 戻る and cards pulled

    @Test("戻る at each step before 確定 returns to the start, sends nothing and leaves the registration unchanged")
    func backAtEachStep() async throws {
        let setup = try await RevocationBench()
        defer { setup.remove() }
        let slot = SimulatedSlot()
        let request = setup.request(slot: slot)
        let start = RevocationRequestStep.agreement(procedureOpened: false, termsOpened: false)

        _ = try await request.openProcedure()
        try await request.back()
        #expect(await request.step == start)

        _ = try await request.openProcedure()
        _ = try await request.openTerms()
        try await request.agree()
        try await request.back()
        #expect(await request.step == start)

        _ = try await request.openProcedure()
        _ = try await request.openTerms()
        try await request.agree()
        slot.insert(setup.bench.currentCard)
        try await request.readCard()
        try await request.back()
        #expect(await request.step == start)

        try await setup.driveToReview(request, slot: slot)
        try await request.back()
        #expect(await request.step == start)

        try await setup.driveToReview(request, slot: slot)
        try await request.continueToForm()
        try await request.back()
        #expect(await request.step == start)

        _ = try await setup.driveToConfirmation(request, slot: slot)
        try await request.back()
        #expect(await request.step == start)

        #expect(await setup.desk.calls == 0)
        #expect(try await setup.bench.stored() == setup.bench.registration)
        let crl = try CertificateRevocationList(bytes: setup.bench.authority.publishCRL(for: .eBidding))
        #expect(crl.count == 0)
    }

    @Test("a card pulled at each step: a clear error, nothing sent, and the flow resumes when it is back")
    func cardPulledAtEachStep() async throws {
        let setup = try await RevocationBench()
        defer { setup.remove() }
        let card = setup.bench.currentCard
        let faults = FaultInjector()
        let slot = SimulatedSlot(name: "Reader 0", faults: faults)
        let request = setup.request(slot: slot, timeout: .milliseconds(200))
        _ = try await request.openProcedure()
        _ = try await request.openTerms()
        try await request.agree()

        // No card, then pulled while it is read.
        await #expect(throws: LifecycleError.noCardInserted(reader: "Reader 0")) { try await request.readCard() }
        slot.insert(card)
        faults.arm(.pullCard, matching: { $0.ins == 0xB0 })
        await #expect(throws: LifecycleError.cardRemoved(.current)) { try await request.readCard() }
        #expect(await request.step == .insertCard)
        slot.insert(card)
        try await request.readCard()

        // Pulled before the PIN, then during VERIFY; another card in its place is refused.
        slot.remove()
        await #expect(throws: LifecycleError.cardRemoved(.current)) {
            try await request.verifyPIN(try RenewalBench.pin(RenewalBench.currentPIN))
        }
        #expect(await request.step == .enterPIN(triesLeft: 10))
        slot.insert(try setup.bench.newCard())
        await #expect(throws: LifecycleError.differentCardInserted(.current)) {
            try await request.verifyPIN(try RenewalBench.pin(RenewalBench.currentPIN))
        }
        slot.insert(card)
        faults.arm(.pullCard, matching: { $0.ins == 0x20 && $0.data.count > 0 })
        await #expect(throws: LifecycleError.cardRemoved(.current)) {
            try await request.verifyPIN(try RenewalBench.pin(RenewalBench.currentPIN))
        }
        #expect(await request.step == .enterPIN(triesLeft: 10))
        slot.insert(card)
        try await request.verifyPIN(try RenewalBench.pin(RenewalBench.currentPIN))
        try await request.continueToForm()

        // Pulled before the form is signed: the PIN is needed again.
        slot.remove()
        await #expect(throws: LifecycleError.cardRemoved(.current)) { try await request.fill(RevocationBench.form) }
        #expect(await request.step == .enterPIN(triesLeft: nil))
        slot.insert(card)
        try await request.verifyPIN(try RenewalBench.pin(RenewalBench.currentPIN))
        try await request.continueToForm()

        // Pulled during the signature itself.
        faults.arm(.pullCard, matching: { $0.ins == 0x2A })
        await #expect(throws: LifecycleError.cardRemoved(.current)) { try await request.fill(RevocationBench.form) }
        #expect(await request.step == .enterPIN(triesLeft: nil))
        slot.insert(card)
        try await request.verifyPIN(try RenewalBench.pin(RenewalBench.currentPIN))
        try await request.continueToForm()
        try await request.fill(RevocationBench.form)

        #expect(await setup.desk.calls == 0)
        #expect(try await setup.bench.stored() == setup.bench.registration)
        try await request.setChecked(true)
        try await request.submit()
        #expect(await setup.desk.revocations == 1)
    }

    // MARK: The portal

    @Test("a certificate the portal does not know is revoked at the CA all the same")
    func notRegisteredAtThePortal() async throws {
        let setup = try await RevocationBench()
        defer { setup.remove() }
        let stranger = try setup.bench.newCard()
        let slot = SimulatedSlot()
        let request = setup.request(slot: slot)
        _ = try await request.openProcedure()
        _ = try await request.openTerms()
        try await request.agree()
        slot.insert(stranger)
        try await request.readCard()
        try await request.verifyPIN(try RenewalBench.pin(RenewalBench.newPIN))
        try await request.continueToForm()
        try await request.fill(RevocationBench.form)
        try await request.setChecked(true)
        let record = try await request.submit()
        #expect(record.portal == .notRegistered)
        #expect(try await setup.bench.stored() == setup.bench.registration)
        let crl = try #require(await setup.desk.latestCRL)
        #expect(crl.contains(try RenewalBench.certificate(of: stranger).serialNumber))
    }
}
