public import CardCredentials
public import Foundation
public import Registration
import SwiftASN1
import X509

/// Where a server's IC card renewal stands, as a plain value: kept in the store between requests
/// (`StoredFlow`), so any instance of the server continues it, and two that continue it at once cannot both
/// write.
public struct ICCardRenewalState: Sendable, Hashable, Codable, SessionFlowState {
    /// The steps of the manuals (seeds 000 and 001), as a server sees them.
    public enum Step: String, Sendable, Hashable, Codable, LifecycleStepName {
        /// 古いICカードの確認: evidence from the current card.
        case currentCard = "current-card"
        /// 新しいICカードの確認: evidence from the new card, after the swap.
        case newCard = "new-card"
        /// 電子証明書更新確認: the confirmation screen; 更新 or 戻る.
        case confirm
        /// 電子証明書更新結果: committed.
        case completed
    }

    /// The flow's identifier.
    public let flowID: String
    /// The user whose card is renewed.
    public let userID: UserID
    /// The user's business.
    public let businessID: BusinessID
    /// The step the flow is at.
    public internal(set) var step: Step
    /// When the flow ends if it is not continued.
    public internal(set) var expiresAt: Date
    /// The change committed, once ``step`` is ``Step/completed``.
    public internal(set) var changeID: ChangeID?
    var current: StoredCertificate?
    var new: StoredCertificate?
    var registrationVersion: Int?

    var isCompleted: Bool { step == .completed }

    func restarted() -> Self {
        var state = self
        state.step = .currentCard
        state.current = nil
        state.new = nil
        state.registrationVersion = nil
        return state
    }
    static let cardSteps: [Step] = [.currentCard, .newCard]

    /// The evidence the step needs: `ic-card-renewal`/`current-card` or `ic-card-renewal`/`new-card`; nil at the
    /// other steps.
    public var evidencePurpose: EvidencePurpose? {
        switch step {
        case .currentCard, .newCard: try? EvidencePurpose(flow: RemoteICCardRenewal.flow, step: step.rawValue)
        case .confirm, .completed: nil
        }
    }
}

/// The IC card renewal (ICカード更新) driven by evidence: a portal's server runs it for a person whose cards
/// stay on their own computer, behind a card agent. The rules are ``ICCardRenewal``'s — the same code — and
/// each card step is satisfied by `CardEvidence` made for the step's challenge instead of by reading the card.
///
/// ```swift
/// let renewal = RemoteICCardRenewal(environment: environment, origin: try PortalOrigin("https://portal.example.jp"))
/// var state = try await renewal.start(for: session)
/// let first = try await renewal.challenge(for: state.flowID, session: session)   // the agent signs it
/// state = try await renewal.presentCurrentCard(currentEvidence, flow: state.flowID, session: session)
/// let second = try await renewal.challenge(for: state.flowID, session: session)  // after the swap
/// state = try await renewal.presentNewCard(newEvidence, flow: state.flowID, session: session)
/// let screen = try await renewal.confirmation(flow: state.flowID, session: session)   // 電子証明書更新確認
/// let done = try await renewal.update(flow: state.flowID, session: session)           // 更新
/// ```
///
/// Each call reads the state from the store and saves the next one at the next version: a flow is continued on
/// any instance of the server, and of two calls that continue it at once the second is refused with
/// ``LifecycleError/registration(_:)`` holding `flowChanged`. A challenge is issued to the flow and its step, and
/// used once. Nothing is stored in the registration before ``update(flow:session:)``.
public struct RemoteICCardRenewal: Sendable {
    /// The flow's name in evidence and in the store: `ic-card-renewal`.
    public static let flow = "ic-card-renewal"

    /// The registration desk, the certificate checks.
    public let environment: LifecycleEnvironment
    /// Issues and checks the challenges, for the portal's origin.
    public let desk: EvidenceDesk
    /// How long a flow waits between steps.
    public var lifetime: TimeInterval
    /// The confirmation screen's labels.
    public var wording: RenewalWording

    /// A renewal desk for the portal at `origin`.
    public init(
        environment: LifecycleEnvironment, origin: PortalOrigin, lifetime: TimeInterval = 900,
        wording: RenewalWording = .businessName
    ) {
        self.environment = environment
        desk = EvidenceDesk(
            store: environment.service.store, validator: environment.validator, origin: origin,
            now: environment.service.now)
        self.lifetime = lifetime
        self.wording = wording
    }

    private typealias Records = RemoteFlowRecords<ICCardRenewalState>
    private var records: Records {
        Records(kind: Self.flow, store: environment.service.store, now: environment.service.now, lifetime: lifetime)
    }
    private var now: Date { environment.service.now() }

    private func rules(_ state: ICCardRenewalState) -> ICCardRenewalRules {
        ICCardRenewalRules(
            userID: state.userID, businessID: state.businessID, environment: environment, wording: wording)
    }

    // MARK: Steps

    /// Starts a renewal for the user of `session`, at ``ICCardRenewalState/Step/currentCard``.
    public func start(for session: LoginSession) async throws(LifecycleError) -> ICCardRenewalState {
        let id = Records.newFlowID(prefix: "R")
        let state = ICCardRenewalState(
            flowID: id, userID: session.userID, businessID: session.businessID, step: .currentCard,
            expiresAt: now.addingTimeInterval(lifetime))
        _ = try await rules(state).registration()
        try await save(state, version: 1)
        return state
    }

    /// The flow's state.
    public func state(of flowID: String, session: LoginSession) async throws(LifecycleError) -> ICCardRenewalState {
        try await load(flowID, session).state
    }

    /// A challenge for the flow's card step, issued to this flow; the card agent signs it with the card.
    ///
    /// - Throws: ``LifecycleError/notAtStep(expected:current:)-(String,String)`` when the flow is not at a card step.
    public func challenge(for flowID: String, session: LoginSession) async throws(LifecycleError)
        -> EvidenceChallenge
    {
        try await records.challenge(for: try await load(flowID, session).state, desk: desk)
    }

    /// 古いICカードの確認: the current card's evidence. Its certificate must be the user's active registered
    /// certificate, neither expired nor revoked. Next: ``ICCardRenewalState/Step/newCard``.
    public func presentCurrentCard(_ evidence: CardEvidence, flow flowID: String, session: LoginSession)
        async throws(LifecycleError) -> ICCardRenewalState
    {
        var (state, version) = try await load(flowID, session)
        try require(.currentCard, state)
        let card = try await verify(evidence, state, as: .current)
        _ = try await rules(state).checkCurrent(card, at: now)
        state.current = try Self.stored(card)
        state.registrationVersion = nil
        state.step = .newCard
        try await save(state, version: version + 1)
        return state
    }

    /// 新しいICカードの確認: the new card's evidence, after the swap. The new card is checked (see
    /// ``ICCardRenewal``'s rules) and the change prepared, nothing stored. Next:
    /// ``ICCardRenewalState/Step/confirm``.
    public func presentNewCard(_ evidence: CardEvidence, flow flowID: String, session: LoginSession)
        async throws(LifecycleError) -> ICCardRenewalState
    {
        var (state, version) = try await load(flowID, session)
        try require(.newCard, state)
        let card = try await verify(evidence, state, as: .new)
        let old = try Self.card(state.current)
        let rules = rules(state)
        try await rules.checkNew(card, replacing: old, at: now)
        let binding = try await currentBinding(state, old)
        let (prepared, _) = try await rules.prepare(new: card, replacing: old, binding: binding)
        state.new = try Self.stored(card)
        state.registrationVersion = prepared.expectedVersion
        state.step = .confirm
        try await save(state, version: version + 1)
        return state
    }

    /// 電子証明書更新確認: the confirmation screen, prepared again from the stored state. When the registration
    /// changed since the new card was presented, the flow starts over and this throws
    /// ``LifecycleError/registrationChanged``.
    public func confirmation(flow flowID: String, session: LoginSession) async throws(LifecycleError)
        -> RenewalConfirmation
    {
        let (state, version) = try await load(flowID, session)
        try require(.confirm, state)
        return try await prepared(state, version).1
    }

    /// 更新: commits the renewal in one transaction (the current binding superseded, the new one active, the GEPS
    /// hand-over and the mail). Next: ``ICCardRenewalState/Step/completed``.
    ///
    /// - Throws: ``LifecycleError/registrationChanged`` (the flow starts over), ``LifecycleError/registration(_:)``.
    public func update(flow flowID: String, session: LoginSession) async throws(LifecycleError)
        -> RenewalCompletion
    {
        var (state, version) = try await load(flowID, session)
        try require(.confirm, state)
        let (prepared, confirmation, binding) = try await prepared(state, version)
        let completion = try await records.restarting(state, version: version) { () throws(LifecycleError) in
            try await rules(state).commit(prepared, confirmation, binding: binding)
        }
        state.step = .completed
        state.changeID = completion.changeID
        try await save(state, version: version + 1)
        return completion
    }

    /// 戻る: back to ``ICCardRenewalState/Step/currentCard``; nothing was stored in the registration.
    public func back(flow flowID: String, session: LoginSession) async throws(LifecycleError) -> ICCardRenewalState {
        let (state, version) = try await load(flowID, session)
        guard state.step != .completed else {
            throw .notAtStep(anyOf: [.currentCard, .newCard, .confirm], current: state.step)
        }
        return try await records.restart(state, version: version)
    }

    // MARK: State

    private func require(_ step: ICCardRenewalState.Step, _ state: ICCardRenewalState) throws(LifecycleError) {
        try records.require(step, state)
    }

    /// Checks the evidence for the flow's step; a certificate the desk does not accept is said in the
    /// renewal's words (expired, revoked) where they apply.
    private func verify(_ evidence: CardEvidence, _ state: ICCardRenewalState, as role: RenewalCardRole)
        async throws(LifecycleError) -> RenewalCard
    {
        let purpose = try records.purpose(of: state)
        do {
            let verified = try await desk.verify(evidence, for: purpose, owner: state.flowID)
            return RenewalCard(
                certificate: verified.certificate, chain: verified.chain, fingerprint: verified.fingerprint)
        } catch .evidenceRefused(let refusal) where refusal.code == .certificateUntrusted {
            let card = RenewalCard(
                certificate: evidence.certificate, chain: evidence.chain,
                fingerprint: (try? CertificateBinding.fingerprint(of: evidence.certificate)) ?? "")
            try await rules(state).validate(card, as: role, at: now)
            throw .registration(.evidenceRefused(refusal))
        } catch {
            throw .registration(error)
        }
    }

    /// The prepared change and the confirmation for the stored state, refusing (and restarting) when the
    /// registration changed since the new card was presented.
    private func prepared(_ state: ICCardRenewalState, _ version: Int) async throws(LifecycleError)
        -> (PreparedChange, RenewalConfirmation, CertificateBinding)
    {
        let old = try Self.card(state.current)
        let new = try Self.card(state.new)
        return try await records.restarting(state, version: version) { () throws(LifecycleError) in
            let binding = try await currentBinding(state, old)
            let (prepared, confirmation) = try await rules(state).prepare(new: new, replacing: old, binding: binding)
            guard prepared.expectedVersion == state.registrationVersion else { throw .registrationChanged }
            return (prepared, confirmation, binding)
        }
    }

    private func currentBinding(_ state: ICCardRenewalState, _ old: RenewalCard) async throws(LifecycleError)
        -> CertificateBinding
    {
        let registration = try await rules(state).registration()
        guard let binding = registration.binding(fingerprint: old.fingerprint), binding.userID == state.userID else {
            throw .currentCardNotRegistered
        }
        return binding
    }

    private func load(_ flowID: String, _ session: LoginSession) async throws(LifecycleError)
        -> (state: ICCardRenewalState, version: Int)
    {
        try await records.load(flowID, session: session)
    }

    private func save(_ state: ICCardRenewalState, version: Int) async throws(LifecycleError) {
        try await records.save(state, owner: state.userID.rawValue, version: version)
    }

    private static func stored(_ card: RenewalCard) throws(LifecycleError) -> StoredCertificate {
        try StoredCertificate(certificate: card.certificate, chain: card.chain, fingerprint: card.fingerprint)
    }

    private static func card(_ stored: StoredCertificate?) throws(LifecycleError) -> RenewalCard {
        guard let stored else { throw Records.incomplete("a card") }
        let (certificate, chain) = try stored.decoded()
        return RenewalCard(certificate: certificate, chain: chain, fingerprint: stored.fingerprint)
    }
}
