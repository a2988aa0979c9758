public import CardCredentials
public import Foundation
public import Registration
import X509

/// Where a server's certificate update stands, as a plain value kept in the store between requests.
public struct CertificateUpdateState: Sendable, Hashable, Codable, RemoteFlowState {
    /// The steps of the manual (seed 002), as a server sees them.
    public enum Step: String, Sendable, Hashable, Codable, LifecycleStepName {
        /// 更新元電子証明書の読込: evidence from the registered certificate (an IC card, a file, or the My Number
        /// card's signing certificate).
        case currentCertificate = "current-certificate"
        /// 更新先電子証明書の読込: evidence from the new private certificate (never for the My Number card, whose
        /// new certificate comes from JPKI).
        case newCertificate = "new-certificate"
        /// 電子証明書の更新確認: the confirmation screen; 更新実行 or 戻る.
        case confirm
        /// 電子証明書の更新完了: committed.
        case completed
    }

    /// The flow's identifier. There is no session in this flow (the person cannot log in: that is what it is
    /// for), so the identifier, 128 random bits, is what lets a client continue it: keep it as a secret.
    public let flowID: String
    /// The certificate type chosen at the start (更新する電子証明書の種別).
    public let type: CertificateUpdateType
    /// The step the flow is at.
    public internal(set) var step: Step
    /// When the flow ends if it is not continued.
    public internal(set) var expiresAt: Date
    /// The business whose certificate is updated, once the registered certificate was presented.
    public internal(set) var businessID: BusinessID?
    /// The change committed, once ``step`` is ``Step/completed``.
    public internal(set) var changeID: ChangeID?
    var current: Credential?
    var new: Credential?
    var registrationVersion: Int?

    var isCompleted: Bool { step == .completed }
    var owner: String { RemoteCertificateUpdate.flow }

    func restarted() -> Self {
        var state = self
        state.step = .currentCertificate
        state.current = nil
        state.new = nil
        state.businessID = nil
        state.registrationVersion = nil
        return state
    }
    static let cardSteps: [Step] = [.currentCertificate, .newCertificate]

    /// The evidence the step needs: `certificate-update`/`current-certificate` or
    /// `certificate-update`/`new-certificate`; nil at the other steps.
    public var evidencePurpose: EvidencePurpose? {
        switch step {
        case .currentCertificate, .newCertificate:
            try? EvidencePurpose(flow: RemoteCertificateUpdate.flow, step: step.rawValue)
        case .confirm, .completed: nil
        }
    }

    /// A certificate the flow accepted, with the kind of credential it is on.
    struct Credential: Sendable, Hashable, Codable {
        var kind: CredentialKind
        var certificate: StoredCertificate

        init(_ credential: UpdateCredential) throws(LifecycleError) {
            kind = credential.kind
            certificate = try StoredCertificate(
                certificate: credential.certificate, chain: credential.chain, fingerprint: credential.fingerprint)
        }

        func decoded() throws(LifecycleError) -> UpdateCredential {
            let (certificate, chain) = try certificate.decoded()
            return try UpdateCredential(kind: kind, certificate: certificate, chain: chain)
        }
    }
}

/// The certificate update without login (電子証明書更新, seed 002) driven by evidence: a portal's server runs it
/// for a person whose cards and files stay on their own computer. The rules are ``CertificateUpdate``'s — the
/// same code — and each read of a certificate is satisfied by `CardEvidence` made for the step's challenge
/// (possession of the key, which is what the PIN or password and the in-process challenge prove there).
///
/// ```swift
/// let update = RemoteCertificateUpdate(environment: environment, origin: origin, linkage: jpki)
/// var state = try await update.start(.privateCertificate)
/// let first = try await update.challenge(for: state.flowID)          // signed with the registered certificate's key
/// state = try await update.presentCurrentCertificate(evidence, kind: .icCard, flow: state.flowID)
/// let second = try await update.challenge(for: state.flowID)         // signed with the new certificate's key
/// state = try await update.presentNewCertificate(newEvidence, kind: .icCard, flow: state.flowID)
/// let screen = try await update.confirmation(flow: state.flowID)     // 電子証明書の更新確認
/// let done = try await update.update(flow: state.flowID)             // 更新実行
/// ```
///
/// For the My Number card the registered signing certificate's evidence is enough: with the person's consent
/// JPKI names the new certificate, and the flow goes from ``CertificateUpdateState/Step/currentCertificate``
/// straight to ``CertificateUpdateState/Step/confirm``.
///
/// No one is logged in: the flow's identifier is the capability to continue it, and a challenge is issued to the
/// flow and used once. As in ``CertificateUpdate``, the change is committed as `RegistrationActor.portal(operator:)`
/// after the flow proved possession of the registered certificate's key. Nothing is stored in the registration
/// before ``update(flow:)``; two requests continuing one flow at once: the second is refused with `flowChanged`.
public struct RemoteCertificateUpdate: Sendable {
    /// The flow's name in evidence and in the store: `certificate-update`.
    public static let flow = "certificate-update"

    /// The registration desk and the certificate checks.
    public let environment: LifecycleEnvironment
    /// Issues and checks the challenges, for the portal's origin.
    public let desk: EvidenceDesk
    /// The link to JPKI for My Number cards (nil: the My Number card cannot be updated here).
    public let linkage: (any JPKILinkageService)?
    /// The operator name the commit is recorded under.
    public let operatorName: String
    /// How long a flow waits between steps.
    public var lifetime: TimeInterval

    /// An update desk for the portal at `origin`.
    public init(
        environment: LifecycleEnvironment, origin: PortalOrigin, linkage: (any JPKILinkageService)? = nil,
        operatorName: String = "電子証明書更新", lifetime: TimeInterval = 900
    ) {
        self.environment = environment
        desk = EvidenceDesk(
            store: environment.service.store, validator: environment.validator, origin: origin,
            now: environment.service.now)
        self.linkage = linkage
        self.operatorName = operatorName
        self.lifetime = lifetime
    }

    private typealias Records = RemoteFlowRecords<CertificateUpdateState>
    /// Flows without a session all have this owner in the store; the identifier is the capability.
    private static let owner = "certificate-update"
    private var records: Records {
        Records(kind: Self.flow, store: environment.service.store, now: environment.service.now, lifetime: lifetime)
    }
    private var rules: CertificateUpdateRules {
        CertificateUpdateRules(environment: environment, linkage: linkage, operatorName: operatorName)
    }
    private var now: Date { environment.service.now() }

    // MARK: Steps

    /// 更新する電子証明書の種別選択: starts an update of a certificate of `type`, at
    /// ``CertificateUpdateState/Step/currentCertificate``.
    ///
    /// - Throws: ``LifecycleError/jpkiLinkageUnavailable(reason:)`` for the My Number card when no link to JPKI
    ///   is configured; a store's failure.
    public func start(_ type: CertificateUpdateType) async throws(LifecycleError) -> CertificateUpdateState {
        if type == .myNumberCard, linkage == nil {
            throw .jpkiLinkageUnavailable(reason: "this portal has no link to JPKI configured")
        }
        let state = CertificateUpdateState(
            flowID: Records.newFlowID(prefix: "U"), type: type, step: .currentCertificate,
            expiresAt: now.addingTimeInterval(lifetime))
        return try await records.save(state, owner: Self.owner, version: 1)
    }

    /// The flow's state.
    public func state(of flowID: String) async throws(LifecycleError) -> CertificateUpdateState {
        try await records.load(flowID, owner: Self.owner).state
    }

    /// A challenge for the flow's step, issued to this flow: the client signs it with the key of the certificate
    /// the step reads.
    ///
    /// - Throws: ``LifecycleError/notAtStep(expected:current:)-(String,String)`` when the flow is not at a step that reads a
    ///   certificate.
    public func challenge(for flowID: String) async throws(LifecycleError) -> EvidenceChallenge {
        try await records.challenge(for: try await records.load(flowID, owner: Self.owner).state, desk: desk)
    }

    /// 更新元電子証明書の読込: evidence from the registered certificate. It must be registered to an active user
    /// and its binding not ended; an expired certificate is accepted (that is what the flow is for), a private
    /// certificate its CA revoked is not. For the My Number card (`consent` given), JPKI is asked for the
    /// certificate that replaced it and the change is prepared. Next: ``CertificateUpdateState/Step/newCertificate``,
    /// or ``CertificateUpdateState/Step/confirm`` for the My Number card.
    ///
    /// - Parameters:
    ///   - evidence: The evidence, signed with the registered certificate's key for this flow's challenge.
    ///   - kind: What the certificate is on, for a private certificate: `.icCard` or `.fileCertificate` (the
    ///     client knows; the key's possession is proved either way). Ignored for the My Number card.
    ///   - consent: The person's consent to ask JPKI about their certificate (My Number card only).
    ///   - flowID: The flow.
    /// - Throws: The refusals of ``CertificateUpdate/readCurrentICCard(pin:allowLastTry:)`` and
    ///   ``CertificateUpdate/readMyNumberCard(signingPIN:consent:allowLastTry:)``; ``LifecycleError/registration(_:)``
    ///   with `evidenceRefused` for evidence that is replayed, foreign, expired, for another step or flow, or
    ///   badly signed.
    public func presentCurrentCertificate(
        _ evidence: CardEvidence, kind: CredentialKind = .icCard, consent: Bool = false, flow flowID: String
    ) async throws(LifecycleError) -> CertificateUpdateState {
        var (state, version) = try await records.load(flowID, owner: Self.owner)
        try require(.currentCertificate, state)
        if state.type == .myNumberCard, !consent { throw .jpkiConsentRequired }
        let possession = try await possession(evidence, state)
        let current = try UpdateCredential(
            kind: state.type == .myNumberCard ? .myNumberCard : Self.privateKind(kind),
            certificate: possession.certificate,
            chain: possession.chain)
        let binding = try await rules.registeredBinding(of: current, type: state.type)
        state.current = try CertificateUpdateState.Credential(current)
        state.businessID = try await businessID(boundTo: current)
        if state.type == .myNumberCard {
            let new = try await rules.successor(of: current)
            let (prepared, _) = try await rules.prepare(new, replacing: current, binding: binding)
            state.new = try CertificateUpdateState.Credential(new)
            state.registrationVersion = prepared.expectedVersion
            state.step = .confirm
        } else {
            state.step = .newCertificate
        }
        return try await records.save(state, owner: Self.owner, version: version + 1)
    }

    /// 更新先電子証明書の読込: evidence from the new private certificate. It is checked as
    /// ``CertificateUpdate/readNewICCard(pin:allowLastTry:)`` checks it (trusted, valid, not revoked, not
    /// registered, the same company and holder) and the change prepared, nothing stored. Next:
    /// ``CertificateUpdateState/Step/confirm``.
    ///
    /// - Parameters:
    ///   - evidence: The evidence, signed with the new certificate's key for this flow's challenge.
    ///   - kind: `.icCard` or `.fileCertificate`.
    ///   - flowID: The flow.
    public func presentNewCertificate(
        _ evidence: CardEvidence, kind: CredentialKind = .icCard, flow flowID: String
    ) async throws(LifecycleError) -> CertificateUpdateState {
        var (state, version) = try await records.load(flowID, owner: Self.owner)
        try require(.newCertificate, state)
        let possession = try await possession(evidence, state)
        let new = try UpdateCredential(
            kind: Self.privateKind(kind), certificate: possession.certificate, chain: possession.chain)
        let current = try Self.credential(state.current)
        try await rules.check(new, replacing: current)
        let binding = try await registeredBinding(state, current)
        let (prepared, _) = try await rules.prepare(new, replacing: current, binding: binding)
        state.new = try CertificateUpdateState.Credential(new)
        state.registrationVersion = prepared.expectedVersion
        state.step = .confirm
        return try await records.save(state, owner: Self.owner, version: version + 1)
    }

    /// 電子証明書の更新確認: the confirmation screen, prepared again from the stored state. When the registration
    /// changed since the change was prepared, the flow starts over and this throws
    /// ``LifecycleError/registrationChanged``.
    public func confirmation(flow flowID: String) async throws(LifecycleError) -> CertificateUpdateConfirmation {
        let (state, version) = try await records.load(flowID, owner: Self.owner)
        try require(.confirm, state)
        return try await prepared(state, version).confirmation
    }

    /// 更新実行: commits the update (the old binding superseded, the new one active, the GEPS hand-over and the
    /// completion mail) in one transaction. Next: ``CertificateUpdateState/Step/completed``.
    ///
    /// - Throws: ``LifecycleError/registrationChanged`` (the flow starts over), ``LifecycleError/registration(_:)``
    ///   (a store's failure: nothing stored, the flow stays at the confirmation).
    public func update(flow flowID: String) async throws(LifecycleError) -> CertificateUpdateCompletion {
        var (state, version) = try await records.load(flowID, owner: Self.owner)
        try require(.confirm, state)
        let (prepared, confirmation, binding) = try await prepared(state, version)
        let completion = try await records.restarting(state, version: version) { () throws(LifecycleError) in
            try await rules.commit(prepared, confirmation, binding: binding)
        }
        state.step = .completed
        state.changeID = completion.changeID
        try await records.save(state, owner: Self.owner, version: version + 1)
        return completion
    }

    /// 戻る: back to ``CertificateUpdateState/Step/currentCertificate`` (the type stays; start a new flow for
    /// another); nothing was stored in the registration.
    public func back(flow flowID: String) async throws(LifecycleError) -> CertificateUpdateState {
        let (state, version) = try await records.load(flowID, owner: Self.owner)
        guard state.step != .completed else {
            throw .notAtStep(anyOf: [.currentCertificate, .newCertificate, .confirm], current: state.step)
        }
        return try await records.restart(state, version: version)
    }

    // MARK: State

    private func require(_ step: CertificateUpdateState.Step, _ state: CertificateUpdateState)
        throws(LifecycleError)
    {
        try records.require(step, state)
    }

    /// The evidence's signature checked for the flow's step (the certificate is the rules' to judge).
    private func possession(_ evidence: CardEvidence, _ state: CertificateUpdateState) async throws(LifecycleError)
        -> EvidencePossession
    {
        try await records.possession(evidence, for: state, desk: desk)
    }

    private static func privateKind(_ kind: CredentialKind) throws(LifecycleError) -> CredentialKind {
        guard kind != .myNumberCard else { throw .certificateTypeMismatch(registered: .myNumberCard) }
        return kind
    }

    private func businessID(boundTo credential: UpdateCredential) async throws(LifecycleError) -> BusinessID {
        let found: BusinessRegistration?
        do { found = try await environment.service.store.registration(boundTo: credential.fingerprint) } catch {
            throw .registration(error)
        }
        guard let found else { throw .certificateNotRegistered }
        return found.id
    }

    /// The registered certificate's binding, as it is now (refused as the rules refuse it).
    private func registeredBinding(_ state: CertificateUpdateState, _ current: UpdateCredential)
        async throws(LifecycleError) -> CertificateBinding
    {
        let binding = try await rules.registeredBinding(of: current, type: state.type)
        guard try await businessID(boundTo: current) == state.businessID else { throw .registrationChanged }
        return binding
    }

    /// The prepared change, its confirmation and the binding for the stored state, refusing (and restarting)
    /// when the registration changed since the change was prepared.
    private func prepared(_ state: CertificateUpdateState, _ version: Int) async throws(LifecycleError)
        -> (prepared: PreparedChange, confirmation: CertificateUpdateConfirmation, binding: CertificateBinding)
    {
        let current = try Self.credential(state.current)
        let new = try Self.credential(state.new)
        return try await records.restarting(state, version: version) { () throws(LifecycleError) in
            let binding = try await registeredBinding(state, current)
            let (prepared, confirmation) = try await rules.prepare(new, replacing: current, binding: binding)
            guard prepared.expectedVersion == state.registrationVersion else { throw .registrationChanged }
            return (prepared, confirmation, binding)
        }
    }

    private static func credential(_ stored: CertificateUpdateState.Credential?) throws(LifecycleError)
        -> UpdateCredential
    {
        guard let stored else { throw Records.incomplete("the registered certificate") }
        return try stored.decoded()
    }
}
