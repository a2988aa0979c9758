public import CardCredentials
import Foundation
public import ISO7816
import Registration

/// The revocation request (インターネット失効申込, seed 003): the holder asks the certification authority to revoke
/// an IC card, online, with the card in hand.
///
/// A front end drives it step by step; ``step`` says what to show and ask next:
///
/// ```swift
/// let request = RevocationRequest(slot: slot, environment: environment, authority: desk)
/// show(RevocationRequest.notice)                       // the conditions and the advice
/// show(try await request.openProcedure())              // 手続きの流れを確認
/// show(try await request.openTerms())                  // 利用規約を確認 (print it)
/// try await request.agree()                            // 同意して次へ
/// try await request.readCard()                         // the card in the reader
/// try await request.verifyPIN(try SecretPIN(typed, policy: policy))
/// try await request.continueToForm()                   // ⑩ the card's contents → 失効申込情報入力へ
/// try await request.fill(form)                         // ⑪ → 失効申込内容確認へ (the card signs the request)
/// try await request.setChecked(true)                   // ⑫ 上記内容を確認しました
/// let record = try await request.submit()              // ⑬ 失効申込をする(確定)
/// print(record.text)                                   // ⑭ 失効申込内容印刷 (受付番号)
/// ```
///
/// The rules of the manual:
/// - Online only with the card in hand (read, its PIN verified and its key proven by a signature) and more than
///   30 days before the end of its validity; otherwise ``LifecycleError/paperProcedureRequired(_:)`` (書面による
///   失効申込). An expired card, a blocked PIN (閉塞) and a card within 30 days of its end are refused that way;
///   a card the environment's CRLs list as revoked already is refused with ``LifecycleError/alreadyRevoked(date:)``.
/// - 同意して次へ is possible only after both the procedure (手続きの流れ) and the terms (利用規約) were opened.
/// - The request is a canonical JSON object (``RevocationRequestContent``) signed by the card as CMS SignedData
///   with the content inside; 失効申込をする(確定) needs 上記内容を確認しました ticked first.
/// - The request is submitted exactly once, under its request ID: when the answer is lost the flow waits at
///   ``RevocationRequestStep/awaitingReceipt(_:)`` and ``submit()`` sends the very same bytes again (the
///   ``RevocationAuthority`` answers with the same receipt). From the first send on, nothing can be changed or
///   withdrawn: ``back()`` throws ``LifecycleError/revocationAlreadySubmitted``.
/// - After the receipt, when the certificate is registered with the portal of the environment, its binding is
///   recorded as revoked (`RegistrationChange.markCertificateRevoked`) so the card can no longer log in. The
///   flow acts as the portal itself (`RegistrationActor.portal(operator:)`, ``portalOperator``): it proved possession of the
///   card and the CA accepted the revocation; the holder's own rights (an agent's expired power of attorney) do
///   not stop the record of a revocation.
///
/// Before the first send nothing leaves the computer: ``back()`` (戻る) returns to the start at any step. A
/// failed step leaves the flow where it was; a card pulled after its PIN was verified needs its PIN again (the
/// flow returns to ``RevocationRequestStep/enterPIN(triesLeft:)``).
public actor RevocationRequest {
    /// The conditions and the advice the flow shows first (ご注意).
    public static let notice = [
        "インターネットで失効申込をするには、以下の利用条件があります。条件を満たさない場合は、「書面による失効申込手続き」によってお申込みください。",
        "・失効したいICカードが手元にある",
        "・ICカードの有効期間が満了する30日前までである",
        "認証局は、失効申込を受け付けた場合、速やかにICカードを失効します。電子入札など、ICカードを利用した取引が長期にわたる場合、"
            + "行政機関等によってはすぐにICカードを失効させてはならないケースもあります。失効申込を提出する前に、"
            + "お取引のある行政機関等に失効のタイミングについてご相談されることをお奨めします。",
    ]
    /// How many days before the end of validity the online request closes.
    public static let closingDays = 30
    /// The operator name the flow records its registration change under.
    public static let portalOperator = "インターネット失効申込"

    /// The reader the card goes into.
    public nonisolated let slot: any CardSlot
    /// The portal's registration, the certificate checks (trust anchors, CRLs), the card profiles and the clock.
    public nonisolated let environment: LifecycleEnvironment
    /// The certification authority's desk.
    public nonisolated let authority: any RevocationAuthority

    /// What the front end shows and asks now.
    public private(set) var step: RevocationRequestStep = .agreement(procedureOpened: false, termsOpened: false)

    private var card: SlotCard?
    private var contents: RevocationCardContents?
    /// True from the first send of the request on: it can no longer change.
    private var sent = false
    private var gate = FlowGate()

    /// A revocation request for the card that will be in `slot`.
    ///
    /// - Parameters:
    ///   - slot: The reader (a `PCSCReaderSlot`, or a simulator's slot).
    ///   - environment: The portal's registration, certificate checks and card profiles.
    ///   - authority: The certification authority's desk that takes the request.
    public init(slot: any CardSlot, environment: LifecycleEnvironment, authority: any RevocationAuthority) {
        self.slot = slot
        self.environment = environment
        self.authority = authority
    }

    // MARK: 1. Procedure, terms and agreement

    /// 手続きの流れを確認: returns the procedure and notes it was opened.
    public func openProcedure() throws(LifecycleError) -> RevocationDocument {
        guard case .agreement(_, let terms) = step, !gate.isBusy else { throw notAt(.agreement) }
        step = .agreement(procedureOpened: true, termsOpened: terms)
        return .procedure
    }

    /// 利用規約を確認: returns the terms and notes they were opened (print them: 画面を印刷します).
    public func openTerms() throws(LifecycleError) -> RevocationDocument {
        guard case .agreement(let procedure, _) = step, !gate.isBusy else { throw notAt(.agreement) }
        step = .agreement(procedureOpened: procedure, termsOpened: true)
        return .terms
    }

    /// 同意して次へ: possible only once the procedure and the terms were both opened.
    ///
    /// Next step: ``RevocationRequestStep/insertCard``.
    ///
    /// - Throws: ``LifecycleError/documentsNotOpened(missing:)``.
    public func agree() throws(LifecycleError) {
        guard case .agreement(let procedure, let terms) = step, !gate.isBusy else { throw notAt(.agreement) }
        var missing: [String] = []
        if !procedure { missing.append("手続きの流れを確認") }
        if !terms { missing.append("利用規約を確認") }
        guard missing.isEmpty else { throw .documentsNotOpened(missing: missing) }
        step = .insertCard
    }

    // MARK: 2. The card

    /// OK with the card in the reader: reads its certificate and checks the conditions of the online request
    /// (trusted, not revoked already, not expired, more than 30 days of validity left, PIN not blocked).
    ///
    /// Next step: ``RevocationRequestStep/enterPIN(triesLeft:)``. On error the step stays
    /// ``RevocationRequestStep/insertCard``.
    ///
    /// - Throws: ``LifecycleError/noCardInserted(reader:)``, ``LifecycleError/paperProcedureRequired(_:)``,
    ///   ``LifecycleError/alreadyRevoked(date:)``, ``LifecycleError/certificateUntrusted(_:reason:)``, or a card
    ///   error.
    public func readCard() async throws(LifecycleError) {
        let token = try begin(.insertCard) { if case .insertCard = $0 { true } else { false } }
        defer { gate.end(token) }
        let present: Bool
        do { present = try await slot.waitForCard(timeout: environment.cardWaitTimeout) } catch {
            throw LifecycleError.card(error, .current)
        }
        guard present else { throw .noCardInserted(reader: slot.name) }
        let read = try await SlotCard.read(from: slot, profiles: environment.cardProfiles, as: .current)
        do throws(LifecycleError) {
            try await rules.checkConditions(read.certificate, chain: read.chain)
            let tries = try await triesLeft(read)
            try gate.check(token)
            card = read
            contents = RevocationCardContents(certificate: read.summary, fingerprint: read.fingerprint)
            step = .enterPIN(triesLeft: tries)
        } catch {
            await read.connection.disconnect()
            throw error
        }
    }

    /// PIN(暗証番号) → OK: verifies the PIN (form and tries left first) and has the card prove it holds its
    /// certificate's key: the card is in the holder's hands.
    ///
    /// Next step: ``RevocationRequestStep/reviewCard(_:)``. A wrong PIN keeps the step with the tries left; a PIN
    /// that becomes blocked returns to ``RevocationRequestStep/insertCard`` with
    /// ``LifecycleError/paperProcedureRequired(_:)``.
    ///
    /// - Parameters:
    ///   - pin: The card's PIN.
    ///   - allowLastTry: Whether the PIN may be sent when only one try is left.
    public func verifyPIN(_ pin: SecretPIN, allowLastTry: Bool = false) async throws(LifecycleError) {
        let token = try begin(.enterPIN) { if case .enterPIN = $0 { true } else { false } }
        defer { gate.end(token) }
        guard let expected = card, let contents else {
            throw .notAtStep(expected: .insertCard, current: step.name)
        }
        let connected = try await reconnect(expected)
        try gate.check(token)
        card = connected
        do throws(LifecycleError) {
            // A blocked PIN becomes the paper procedure in the catch below.
            try await connected.verifyPINAndProveKey(pin, allowLastTry: allowLastTry, as: .current)
            try gate.check(token)
            step = .reviewCard(contents)
        } catch {
            try gate.check(token)
            let error = Self.cardError(error)
            switch error.code {
            case .wrongPIN: step = .enterPIN(triesLeft: error.triesLeft)
            case .paperProcedureRequired:
                await connected.connection.disconnect()
                card = nil
                self.contents = nil
                step = .insertCard
            default: if error.losesConnection { card?.isConnected = false }
            }
            throw error
        }
    }

    /// 失効申込情報入力へ: the person checked the card's contents.
    ///
    /// Next step: ``RevocationRequestStep/fillForm(_:)``.
    public func continueToForm() throws(LifecycleError) {
        guard case .reviewCard(let contents) = step, !gate.isBusy else { throw notAt(.reviewCard) }
        step = .fillForm(contents)
    }

    // MARK: 3. The request

    /// 失効申込内容確認へ: checks the form, writes the request under a new request ID, and has the card sign it
    /// (CMS SignedData, the canonical JSON inside). Nothing is sent.
    ///
    /// Next step: ``RevocationRequestStep/confirm(_:checked:)``, unticked. A card pulled since its PIN was
    /// verified returns the flow to ``RevocationRequestStep/enterPIN(triesLeft:)``: insert it, enter the PIN
    /// again and continue.
    ///
    /// - Throws: ``LifecycleError/requestFormInvalid(field:problem:)`` (the step stays), or a card error.
    public func fill(_ form: RevocationRequestForm) async throws(LifecycleError) {
        let token = try begin(.fillForm) { if case .fillForm = $0 { true } else { false } }
        defer { gate.end(token) }
        guard let current = card, let contents else {
            throw .notAtStep(expected: .insertCard, current: step.name)
        }
        let validated = try form.validated()
        let content = rules.content(
            certificate: current.certificate, fingerprint: current.fingerprint, form: validated)
        let json = try content.canonicalJSON()
        let signed: CMSSignedData
        do {
            guard current.isConnected else { throw LifecycleError.cardRemoved(.current) }
            let key = try CardKey(
                certificate: current.certificate, chain: current.chain,
                operation: ICCardSigningOperation(card: current.card, pin: nil))
            signed = try await CMSSignedData.sign(
                json, with: key, algorithm: .rsaPKCS1SHA256, detached: false, signingTime: environment.service.now())
        } catch {
            try gate.check(token)
            let mapped = Self.cardError(error)
            if mapped.losesConnection || Self.needsPIN(error) {
                card?.isConnected = false
                step = .enterPIN(triesLeft: nil)
                throw mapped.losesConnection ? mapped : .cardRemoved(.current)
            }
            throw mapped
        }
        try gate.check(token)
        let request = SignedRevocationRequest(content: content, cms: signed.derEncoded)
        step = .confirm(RevocationConfirmation(card: contents, form: validated, request: request), checked: false)
    }

    /// 上記内容を確認しました: ticks (or unticks) the check box of the confirmation screen.
    public func setChecked(_ checked: Bool) throws(LifecycleError) {
        guard case .confirm(let confirmation, _) = step, !gate.isBusy else { throw notAt(.confirm) }
        step = .confirm(confirmation, checked: checked)
    }

    /// 失効申込をする(確定): sends the signed request to the certification authority, once; from this call on the
    /// request can be neither changed nor withdrawn. When the answer is lost, call it again: the same request
    /// (same ID, same bytes) is sent and the CA answers with the same receipt.
    ///
    /// After the receipt the portal's binding of the certificate, if there is one, is recorded as revoked.
    ///
    /// Next step: ``RevocationRequestStep/completed(_:)``; when the answer is lost,
    /// ``RevocationRequestStep/awaitingReceipt(_:)``; when the CA refuses, back to the start (nothing was
    /// recorded by the CA).
    ///
    /// - Throws: ``LifecycleError/confirmationNotChecked``, ``LifecycleError/revocationNotAnswered(reason:)``,
    ///   ``LifecycleError/revocationRefused(reason:)``.
    @discardableResult
    public func submit() async throws(LifecycleError) -> RevocationRecord {
        let token = try begin(.confirm) {
            switch $0 {
            case .confirm, .awaitingReceipt: true
            default: false
            }
        }
        defer { gate.end(token) }
        let confirmation: RevocationConfirmation
        switch step {
        case .confirm(let shown, let checked):
            guard checked else { throw .confirmationNotChecked }
            confirmation = shown
        case .awaitingReceipt(let shown):
            confirmation = shown
        default:
            throw .notAtStep(expected: .confirm, current: step.name)
        }
        sent = true
        step = .awaitingReceipt(confirmation)
        let request = confirmation.request
        let receipt: RevocationReceipt
        do {
            receipt = try await rules.send(request, to: authority)
        } catch  where error.code == .revocationRefused {
            await restart()
            throw error
        }
        let portal = await rules.recordInRegistration(fingerprint: confirmation.card.fingerprint)
        let record = RevocationRecord(
            receipt: receipt, card: confirmation.card, form: confirmation.form, request: request, portal: portal)
        if let card, card.isConnected { await card.connection.disconnect() }
        card = nil
        step = .completed(record)
        return record
    }

    /// 戻る: returns to the start (``RevocationRequestStep/agreement(procedureOpened:termsOpened:)``); nothing was
    /// sent. A call still waiting for the card ends with ``LifecycleError/flowRestarted``.
    ///
    /// - Throws: ``LifecycleError/revocationAlreadySubmitted`` once the request was sent (it cannot be withdrawn).
    public func back() async throws(LifecycleError) {
        guard !sent else { throw .revocationAlreadySubmitted }
        await restart()
    }

    // MARK: - Steps

    private func begin(_ name: RevocationRequestStep.Name, _ matches: (RevocationRequestStep) -> Bool)
        throws(LifecycleError) -> Int
    {
        // The refusal is made before the gate is entered: notAt(_:) reads the gate.
        let refusal = notAt(name)
        return try gate.begin(atStep: matches(step), else: refusal)
    }

    private func notAt(_ expected: RevocationRequestStep.Name) -> LifecycleError {
        if gate.isBusy { return .stepInProgress }
        if sent { return .revocationAlreadySubmitted }
        return .notAtStep(expected: expected, current: step.name)
    }

    private func restart() async {
        let held = card
        gate.restart()
        card = nil
        contents = nil
        sent = false
        step = .agreement(procedureOpened: false, termsOpened: false)
        if let held, held.isConnected { await held.connection.disconnect() }
    }

    // MARK: - The card

    private var rules: RevocationRequestRules { RevocationRequestRules(environment: environment) }

    private func triesLeft(_ read: SlotCard) async throws(LifecycleError) -> Int? {
        let status: PINStatus
        do { status = try await read.card.pinStatus() } catch { throw Self.cardError(error) }
        switch status {
        case .blocked: throw .paperProcedureRequired(.pinBlocked)
        case .triesLeft(let tries): return tries
        case .verified: return nil
        }
    }

    /// The card of the PIN step, connected: the one read before, or — after it was pulled and inserted again —
    /// the card in the slot, read again and checked to be the same.
    private func reconnect(_ expected: SlotCard) async throws(LifecycleError) -> SlotCard {
        if expected.isConnected { return expected }
        let present: Bool
        do { present = try await slot.isCardPresent() } catch { throw LifecycleError.card(error, .current) }
        guard present else { throw .cardRemoved(.current) }
        let again = try await SlotCard.read(from: slot, profiles: environment.cardProfiles, as: .current)
        guard again.fingerprint == expected.fingerprint else {
            await again.connection.disconnect()
            throw .differentCardInserted(.current)
        }
        return again
    }

    /// A card error in this flow's terms: a blocked PIN means the paper procedure.
    private static func cardError(_ error: any Error) -> LifecycleError {
        let mapped = LifecycleError.card(error, .current)
        if mapped.code == .pinBlocked { return .paperProcedureRequired(.pinBlocked) }
        return mapped
    }

    /// Whether the card refused to sign because its PIN is no longer verified (it was reset or re-inserted).
    private static func needsPIN(_ error: any Error) -> Bool {
        if case .pinNotVerified? = error as? CardCredentialsError { return true }
        return false
    }
}
