public import CardCredentials
public import Foundation
public import Registration
import X509

/// Where a server's revocation request stands, as a plain value kept in the store between requests.
public struct RevocationRequestState: Sendable, Hashable, Codable, RemoteFlowState {
    /// The steps of the manual (seed 003), as a server sees them.
    public enum Step: String, Sendable, Hashable, Codable, LifecycleStepName {
        /// 手続きの流れ and 利用規約 opened, then 同意して次へ.
        case agreement
        /// The card in hand: evidence from the card's key (the card agent verified its PIN).
        case card
        /// ⑩ the card's contents shown, ⑪ 失効申込情報入力.
        case form
        /// The request to sign: the card signs its canonical JSON (a detached CMS made by the card agent).
        case signature
        /// ⑫ 失効申込内容確認: 上記内容を確認しました, then 失効申込をする(確定).
        case confirm
        /// ⑭ accepted by the certification authority (受付番号).
        case completed
    }

    /// The flow's identifier. There is no session in this flow (the person may not be able to log in with the
    /// card, or not have a registration at all), so the identifier, 128 random bits, is what lets a client
    /// continue it: keep it as a secret.
    public let flowID: String
    /// The step the flow is at.
    public internal(set) var step: Step
    /// Whether 手続きの流れを確認 was opened.
    public internal(set) var procedureOpened = false
    /// Whether 利用規約を確認 was opened.
    public internal(set) var termsOpened = false
    /// When the flow ends if it is not continued.
    public internal(set) var expiresAt: Date
    /// Whether the request was sent to the certification authority: from then on it can be neither changed nor
    /// withdrawn, and ``RemoteRevocationRequest/submit(checked:flow:)`` sends the very same request again.
    public internal(set) var submitted = false
    /// The CA's receipt, once ``step`` is ``Step/completed``.
    public internal(set) var receipt: RevocationReceipt?
    var card: StoredCertificate?
    var content: RevocationRequestContent?
    var signedRequest: Data?

    init(flowID: String, expiresAt: Date) {
        self.flowID = flowID
        self.step = .agreement
        self.expiresAt = expiresAt
    }

    var isCompleted: Bool { step == .completed }
    var owner: String { RemoteRevocationRequest.flow }

    func restarted() -> Self { RevocationRequestState(flowID: flowID, expiresAt: expiresAt) }
    static let cardSteps: [Step] = [.card]

    /// The evidence the step needs: `revocation-request`/`card`; nil at the other steps.
    public var evidencePurpose: EvidencePurpose? {
        step == .card ? try? EvidencePurpose(flow: RemoteRevocationRequest.flow, step: step.rawValue) : nil
    }

    /// The card's contents (⑩), once the card's evidence was accepted.
    public var cardContents: RevocationCardContents? {
        guard let card, let decoded = try? card.decoded() else { return nil }
        return RevocationCardContents(
            certificate: CertificateSummary(decoded.certificate), fingerprint: card.fingerprint)
    }

    /// The request's identifier (申込ID), once the form was filled.
    public var requestID: String? { content?.requestID }

    /// The bytes the card signs at ``Step/signature``: the request's canonical JSON.
    public var documentToSign: [UInt8]? {
        try? content?.canonicalJSON()
    }
}

/// The revocation request (インターネット失効申込, seed 003) driven by evidence: a server runs it for a person whose
/// IC card stays on their own computer. The rules are ``RevocationRequest``'s — the same code — and the card's
/// work is done by the card agent: the card's evidence for the flow's challenge proves the card is in hand (its
/// PIN verified), and the card signs the request itself (a detached CMS over its canonical JSON, after the agent
/// showed the person its digest).
///
/// ```swift
/// let revocation = RemoteRevocationRequest(environment: environment, origin: origin, authority: desk)
/// var state = try await revocation.start()
/// _ = try await revocation.openProcedure(flow: state.flowID)        // 手続きの流れを確認
/// _ = try await revocation.openTerms(flow: state.flowID)            // 利用規約を確認
/// state = try await revocation.agree(flow: state.flowID)            // 同意して次へ
/// let challenge = try await revocation.challenge(for: state.flowID)
/// state = try await revocation.presentCard(evidence, flow: state.flowID)    // ⑩ state.cardContents
/// state = try await revocation.fill(form, flow: state.flowID)               // ⑪ state.documentToSign
/// state = try await revocation.presentSignature(cms, flow: state.flowID)    // the card signed the request
/// let screen = try await revocation.confirmation(flow: state.flowID)        // ⑫ 失効申込内容確認
/// let record = try await revocation.submit(checked: true, flow: state.flowID)   // ⑬ 失効申込をする(確定)
/// ```
///
/// As in ``RevocationRequest``: online only with the card in hand and more than 30 days before the end of its
/// validity; 同意して次へ only after both documents were opened; 失効申込をする(確定) only with 上記内容を確認しました
/// ticked; the request is sent once, under its request ID (a lost answer: ``submit(checked:flow:)`` again sends
/// the very same bytes); from the first send on nothing can be changed or withdrawn. After the receipt the
/// portal's binding of the certificate, if there is one, is recorded as revoked.
public struct RemoteRevocationRequest: Sendable {
    /// The flow's name in evidence and in the store: `revocation-request`.
    public static let flow = "revocation-request"

    /// The registration desk and the certificate checks.
    public let environment: LifecycleEnvironment
    /// Issues and checks the challenges, for the portal's origin.
    public let desk: EvidenceDesk
    /// The certification authority's desk that takes the request (nil: this portal sends no revocation requests,
    /// and ``start()`` refuses).
    public let authority: (any RevocationAuthority)?
    /// How long a flow waits between steps.
    public var lifetime: TimeInterval

    /// A revocation desk for the portal at `origin`, sending to `authority`.
    public init(
        environment: LifecycleEnvironment, origin: PortalOrigin, authority: (any RevocationAuthority)?,
        lifetime: TimeInterval = 900
    ) {
        self.environment = environment
        desk = EvidenceDesk(
            store: environment.service.store, validator: environment.validator, origin: origin,
            now: environment.service.now)
        self.authority = authority
        self.lifetime = lifetime
    }

    private typealias Records = RemoteFlowRecords<RevocationRequestState>
    /// Flows without a session all have this owner in the store; the identifier is the capability.
    private static let owner = "revocation-request"
    private var records: Records {
        Records(kind: Self.flow, store: environment.service.store, now: environment.service.now, lifetime: lifetime)
    }
    private var rules: RevocationRequestRules { RevocationRequestRules(environment: environment) }
    private var now: Date { environment.service.now() }

    // MARK: 1. Procedure, terms and agreement

    /// Starts a request, at ``RevocationRequestState/Step/agreement``.
    ///
    /// - Throws: ``LifecycleError/revocationNotAnswered(reason:)`` when no certification authority is configured;
    ///   a store's failure.
    public func start() async throws(LifecycleError) -> RevocationRequestState {
        guard authority != nil else {
            throw .revocationNotAnswered(reason: "this portal sends no revocation requests (no CA desk configured)")
        }
        let state = RevocationRequestState(
            flowID: Records.newFlowID(prefix: "V"), expiresAt: now.addingTimeInterval(lifetime))
        return try await records.save(state, owner: Self.owner, version: 1)
    }

    /// The flow's state.
    public func state(of flowID: String) async throws(LifecycleError) -> RevocationRequestState {
        try await records.load(flowID, owner: Self.owner).state
    }

    /// 手続きの流れを確認: returns the procedure and notes it was opened.
    public func openProcedure(flow flowID: String) async throws(LifecycleError) -> RevocationDocument {
        try await open(flowID) { $0.procedureOpened = true }
        return .procedure
    }

    /// 利用規約を確認: returns the terms and notes they were opened (print them).
    public func openTerms(flow flowID: String) async throws(LifecycleError) -> RevocationDocument {
        try await open(flowID) { $0.termsOpened = true }
        return .terms
    }

    private func open(_ flowID: String, _ note: (inout RevocationRequestState) -> Void) async throws(LifecycleError) {
        var (state, version) = try await records.load(flowID, owner: Self.owner)
        try records.require(.agreement, state)
        note(&state)
        try await records.save(state, owner: Self.owner, version: version + 1)
    }

    /// 同意して次へ: possible only once the procedure and the terms were both opened. Next:
    /// ``RevocationRequestState/Step/card``.
    ///
    /// - Throws: ``LifecycleError/documentsNotOpened(missing:)``.
    public func agree(flow flowID: String) async throws(LifecycleError) -> RevocationRequestState {
        var (state, version) = try await records.load(flowID, owner: Self.owner)
        try records.require(.agreement, state)
        var missing: [String] = []
        if !state.procedureOpened { missing.append("手続きの流れを確認") }
        if !state.termsOpened { missing.append("利用規約を確認") }
        guard missing.isEmpty else { throw .documentsNotOpened(missing: missing) }
        state.step = .card
        return try await records.save(state, owner: Self.owner, version: version + 1)
    }

    // MARK: 2. The card

    /// A challenge for the card step, issued to this flow: the card agent signs it with the card's key after
    /// the person entered the card's PIN.
    public func challenge(for flowID: String) async throws(LifecycleError) -> EvidenceChallenge {
        try await records.challenge(for: try await records.load(flowID, owner: Self.owner).state, desk: desk)
    }

    /// The card in hand: evidence from the card's key for this flow's challenge. The certificate must meet the
    /// conditions of the online request (trusted, not revoked already, not expired, more than 30 days left).
    /// Next: ``RevocationRequestState/Step/form``, with ``RevocationRequestState/cardContents`` to show (⑩).
    ///
    /// - Throws: ``LifecycleError/paperProcedureRequired(_:)``, ``LifecycleError/alreadyRevoked(date:)``,
    ///   ``LifecycleError/certificateUntrusted(_:reason:)``; ``LifecycleError/registration(_:)`` with
    ///   `evidenceRefused` for evidence that is replayed, foreign, expired, for another step or flow, or badly
    ///   signed.
    public func presentCard(_ evidence: CardEvidence, flow flowID: String) async throws(LifecycleError)
        -> RevocationRequestState
    {
        var (state, version) = try await records.load(flowID, owner: Self.owner)
        try records.require(.card, state)
        let possession = try await records.possession(evidence, for: state, desk: desk)
        try await rules.checkConditions(possession.certificate, chain: possession.chain)
        state.card = try StoredCertificate(
            certificate: possession.certificate, chain: possession.chain, fingerprint: possession.fingerprint)
        state.step = .form
        return try await records.save(state, owner: Self.owner, version: version + 1)
    }

    // MARK: 3. The request

    /// 失効申込内容確認へ: checks the form and writes the request under a new request ID. Nothing is sent. Next:
    /// ``RevocationRequestState/Step/signature``: the card signs ``RevocationRequestState/documentToSign``.
    ///
    /// - Throws: ``LifecycleError/requestFormInvalid(field:problem:)`` (the step stays).
    public func fill(_ form: RevocationRequestForm, flow flowID: String) async throws(LifecycleError)
        -> RevocationRequestState
    {
        var (state, version) = try await records.load(flowID, owner: Self.owner)
        try records.require(.form, state)
        let validated = try form.validated()
        let (certificate, _) = try Self.card(state)
        state.content = rules.content(
            certificate: certificate, fingerprint: state.card?.fingerprint ?? "", form: validated)
        state.step = .signature
        return try await records.save(state, owner: Self.owner, version: version + 1)
    }

    /// The card's signature over the request: a CMS SignedData (DER) over ``RevocationRequestState/documentToSign``,
    /// detached (as the card agent makes it) or with that content inside, signed by the card of the card step.
    /// The request is kept with the content inside (what the CA receives). Next:
    /// ``RevocationRequestState/Step/confirm``.
    ///
    /// - Throws: ``LifecycleError/revocationRefused(reason:)`` when it is not such a signature (the step stays:
    ///   sign again).
    public func presentSignature(_ cms: [UInt8], flow flowID: String) async throws(LifecycleError)
        -> RevocationRequestState
    {
        var (state, version) = try await records.load(flowID, owner: Self.owner)
        try records.require(.signature, state)
        guard let content = state.content, let card = state.card else {
            throw .notAtStep(expected: .form, current: state.step)
        }
        let json = try content.canonicalJSON()
        let attached: CMSSignedData
        do {
            let signed = try CMSSignedData(derEncoded: cms)
            if let inside = signed.content, inside != json {
                throw LifecycleError.revocationRefused(reason: "the signed content is not this flow's request")
            }
            let signers = try await signed.verifySignaturesOnly(content: signed.isDetached ? json : nil).signers
            guard signers.count == 1, let signer = signers.first,
                try CertificateBinding.fingerprint(of: signer.certificate) == card.fingerprint
            else {
                throw LifecycleError.revocationRefused(
                    reason: "the request must be signed by the card of this request, and by it alone")
            }
            attached = signed.isDetached ? try signed.attaching(json) : signed
        } catch let error as LifecycleError {
            throw error
        } catch {
            throw .revocationRefused(reason: "the request's signature was not accepted: \(error)")
        }
        state.signedRequest = Data(attached.derEncoded)
        state.step = .confirm
        return try await records.save(state, owner: Self.owner, version: version + 1)
    }

    /// ⑫ 失効申込内容確認: the card, the form and the request's identifier.
    public func confirmation(flow flowID: String) async throws(LifecycleError) -> RevocationConfirmation {
        let (state, _) = try await records.load(flowID, owner: Self.owner)
        try records.require(.confirm, state)
        return try Self.confirmation(state)
    }

    /// ⑬ 失効申込をする(確定): sends the signed request to the certification authority, once; from this call on
    /// the request can be neither changed nor withdrawn. When the answer is lost, call it again: the same request
    /// (same ID, same bytes) is sent and the CA answers with the same receipt. After the receipt the portal's
    /// binding of the certificate, if there is one, is recorded as revoked. Next:
    /// ``RevocationRequestState/Step/completed``.
    ///
    /// - Parameters:
    ///   - checked: Whether 上記内容を確認しました is ticked.
    ///   - flowID: The flow.
    /// - Returns: The printable record (⑭ 失効申込内容印刷).
    /// - Throws: ``LifecycleError/confirmationNotChecked``, ``LifecycleError/revocationNotAnswered(reason:)`` (send
    ///   again), ``LifecycleError/revocationRefused(reason:)`` (the flow starts over: the CA recorded nothing).
    public func submit(checked: Bool, flow flowID: String) async throws(LifecycleError) -> RevocationRecord {
        var (state, version) = try await records.load(flowID, owner: Self.owner)
        try records.require(.confirm, state)
        guard checked else { throw .confirmationNotChecked }
        guard let authority else { throw .revocationNotAnswered(reason: "no CA desk is configured") }
        let confirmation = try Self.confirmation(state)
        if !state.submitted {
            // Saved before the send: of two requests at once only one sends, and back() is refused from here on.
            state.submitted = true
            try await records.save(state, owner: Self.owner, version: version + 1)
            version += 1
        }
        let request = confirmation.request
        let receipt: RevocationReceipt
        do {
            receipt = try await rules.send(request, to: authority)
        } catch  where error.code == .revocationRefused {
            try await records.restart(state, version: version)
            throw error
        }
        let portal = await rules.recordInRegistration(fingerprint: confirmation.card.fingerprint)
        state.receipt = receipt
        state.step = .completed
        try await records.save(state, owner: Self.owner, version: version + 1)
        return RevocationRecord(
            receipt: receipt, card: confirmation.card, form: confirmation.form, request: request, portal: portal)
    }

    /// 戻る: back to the start (``RevocationRequestState/Step/agreement``); nothing was sent.
    ///
    /// - Throws: ``LifecycleError/revocationAlreadySubmitted`` once the request was sent (it cannot be withdrawn).
    public func back(flow flowID: String) async throws(LifecycleError) -> RevocationRequestState {
        let (state, version) = try await records.load(flowID, owner: Self.owner)
        guard !state.submitted else { throw .revocationAlreadySubmitted }
        return try await records.restart(state, version: version)
    }

    // MARK: State

    private static func card(_ state: RevocationRequestState) throws(LifecycleError)
        -> (certificate: Certificate, chain: [Certificate])
    {
        guard let card = state.card else { throw .notAtStep(expected: .card, current: state.step) }
        return try card.decoded()
    }

    private static func confirmation(_ state: RevocationRequestState) throws(LifecycleError)
        -> RevocationConfirmation
    {
        guard let contents = state.cardContents, let content = state.content, let signed = state.signedRequest else {
            throw .notAtStep(expected: .signature, current: state.step)
        }
        guard let reason = content.requestReason else {
            throw .revocationRefused(reason: "the request's reason \(content.reason) is not known")
        }
        let form = RevocationRequestForm(
            reason: reason, requesterName: content.requesterName, phone: content.phone, mail: content.mail,
            department: content.department, note: content.note)
        return RevocationConfirmation(
            card: contents, form: form, request: SignedRevocationRequest(content: content, cms: [UInt8](signed)))
    }
}
