public import CardCredentials
public import Foundation
public import Registration
import X509

/// Where a server's flow for an expired power of attorney stands, as a plain value kept in the store.
public struct PowerOfAttorneyState: Sendable, Hashable, Codable, SessionFlowState {
    /// The steps of the manual (seed 002), as a server sees them.
    public enum Step: String, Sendable, Hashable, Codable, LifecycleStepName {
        /// 電子委任状失効画面: renew (``RemotePowerOfAttorney/chooseRenewal(flow:session:)``) or delete.
        case expired
        /// マイナンバーカード読込: evidence from the agent's signing key.
        case renewalCard = "renewal-card"
        /// 取得依頼: the application number for the 電子委任状取扱事業者.
        case request
        /// マイナンバーカード電子委任状確認: 電子委任状更新 or 戻る.
        case confirmRenewal = "confirm-renewal"
        /// マイナンバーカード読込: evidence from the agent's user-authentication key.
        case deletionCard = "deletion-card"
        /// 利用者情報削除確認: 削除 or 戻る.
        case confirmDeletion = "confirm-deletion"
        /// 電子委任状更新完了.
        case renewed
        /// 利用者情報削除完了.
        case deleted
    }

    /// The flow's identifier.
    public let flowID: String
    /// The agent.
    public let userID: UserID
    /// The agent's business.
    public let businessID: BusinessID
    /// The step the flow is at.
    public internal(set) var step: Step
    /// When the flow ends if it is not continued.
    public internal(set) var expiresAt: Date
    /// The change committed, once renewed or deleted.
    public internal(set) var changeID: ChangeID?
    var card: StoredCertificate?
    var attorney: PowerOfAttorney?
    var registrationVersion: Int?

    var isCompleted: Bool { step == .renewed || step == .deleted }

    func restarted() -> Self {
        var state = self
        state.step = .expired
        state.card = nil
        state.attorney = nil
        state.registrationVersion = nil
        return state
    }
    static let cardSteps: [Step] = [.renewalCard, .deletionCard]

    /// The evidence the step needs: `power-of-attorney`/`renewal-card` (the signing key) or
    /// `power-of-attorney`/`deletion-card` (the user-authentication key); nil at the other steps.
    public var evidencePurpose: EvidencePurpose? {
        switch step {
        case .renewalCard, .deletionCard: try? EvidencePurpose(flow: RemotePowerOfAttorney.flow, step: step.rawValue)
        default: nil
        }
    }
}

/// The flow for an agent whose My Number card power of attorney expired (seed 002), driven by evidence: a portal's
/// server renews the power of attorney (マイナンバーカード電子委任状更新) or deletes the agent (利用者情報削除) while
/// the card stays with the agent. The rules are ``PowerOfAttorneyFlow``'s — the same code.
///
/// ```swift
/// let flow = RemotePowerOfAttorney(environment: environment, origin: origin, provider: provider, linkage: jpki)
/// var state = try await flow.start(for: session)                          // 失効画面 (notice(flow:session:))
/// state = try await flow.chooseRenewal(flow: state.flowID, session: session)
/// let challenge = try await flow.challenge(for: state.flowID, session: session)   // signed with the signing key
/// state = try await flow.presentRenewalCard(evidence, flow: state.flowID, session: session)
/// state = try await flow.request(applicationNumber: "POA-2026-0001", flow: state.flowID, session: session)
/// let screen = try await flow.renewalConfirmation(flow: state.flowID, session: session)
/// let done = try await flow.renew(flow: state.flowID, session: session)
/// ```
///
/// The deletion: ``chooseDeletion(flow:session:)``, evidence from the user-authentication key to
/// ``presentDeletionCard(_:flow:session:)`` (JPKI pairs it with the registered signing certificate), then
/// ``delete(acknowledgingIrreversible:flow:session:)``. Nothing is stored before the commit; the provider is asked
/// once, at 取得依頼, and the power of attorney it issued is kept in the flow's state.
public struct RemotePowerOfAttorney: Sendable {
    /// The flow's name in evidence and in the store: `power-of-attorney`.
    public static let flow = "power-of-attorney"

    /// The registration desk and the certificate checks (with the JPKI trust anchors).
    public let environment: LifecycleEnvironment
    /// Issues and checks the challenges, for the portal's origin.
    public let desk: EvidenceDesk
    /// The 電子委任状取扱事業者.
    public let provider: any ElectronicPOAProvider
    /// The link to JPKI for the deletion (nil: deletion is not available).
    public let linkage: (any JPKILinkageService)?
    /// How long a flow waits between steps.
    public var lifetime: TimeInterval

    /// A desk for the portal at `origin`.
    public init(
        environment: LifecycleEnvironment, origin: PortalOrigin, provider: any ElectronicPOAProvider,
        linkage: (any JPKILinkageService)?, lifetime: TimeInterval = 900
    ) {
        self.environment = environment
        desk = EvidenceDesk(
            store: environment.service.store, validator: environment.validator, origin: origin,
            now: environment.service.now)
        self.provider = provider
        self.linkage = linkage
        self.lifetime = lifetime
    }

    private typealias Records = RemoteFlowRecords<PowerOfAttorneyState>
    private var records: Records {
        Records(kind: Self.flow, store: environment.service.store, now: environment.service.now, lifetime: lifetime)
    }
    private func rules(_ state: PowerOfAttorneyState) -> PowerOfAttorneyRules {
        PowerOfAttorneyRules(
            userID: state.userID, businessID: state.businessID, environment: environment, provider: provider,
            linkage: linkage)
    }

    // MARK: Steps

    /// Opens the 失効画面 for the agent of `session`: refused unless the agent's My Number power of attorney
    /// expired (see ``PowerOfAttorneyFlow/open()``). Next: ``PowerOfAttorneyState/Step/expired``.
    public func start(for session: LoginSession) async throws(LifecycleError) -> PowerOfAttorneyState {
        let state = PowerOfAttorneyState(
            flowID: Records.newFlowID(prefix: "P"), userID: session.userID, businessID: session.businessID,
            step: .expired, expiresAt: environment.service.now().addingTimeInterval(lifetime))
        _ = try await rules(state).expiredNotice()
        return try await records.save(state, owner: session.userID.rawValue, version: 1)
    }

    /// The flow's state.
    public func state(of flowID: String, session: LoginSession) async throws(LifecycleError) -> PowerOfAttorneyState {
        try await load(flowID, session).state
    }

    /// The 失効画面's notice (the expired power of attorney), read again from the registration.
    public func notice(flow flowID: String, session: LoginSession) async throws(LifecycleError)
        -> PowerOfAttorneyExpiredNotice
    {
        let (state, _) = try await load(flowID, session)
        return try await rules(state).expiredNotice().0
    }

    /// 電子委任状更新 on the 失効画面. Next: ``PowerOfAttorneyState/Step/renewalCard``.
    public func chooseRenewal(flow flowID: String, session: LoginSession) async throws(LifecycleError)
        -> PowerOfAttorneyState
    {
        try await choose(.renewalCard, flowID, session)
    }

    /// 代理人情報削除 on the 失効画面. Next: ``PowerOfAttorneyState/Step/deletionCard``.
    public func chooseDeletion(flow flowID: String, session: LoginSession) async throws(LifecycleError)
        -> PowerOfAttorneyState
    {
        guard linkage != nil else {
            throw .jpkiLinkageUnavailable(reason: "this portal has no link to JPKI configured")
        }
        return try await choose(.deletionCard, flowID, session)
    }

    /// A challenge for the card step, issued to this flow.
    public func challenge(for flowID: String, session: LoginSession) async throws(LifecycleError)
        -> EvidenceChallenge
    {
        try await records.challenge(for: try await load(flowID, session).state, desk: desk)
    }

    /// マイナンバーカード読込 for a renewal: evidence signed with the agent's signing key. The certificate must be
    /// the agent's registered one, valid now. Next: ``PowerOfAttorneyState/Step/request``.
    public func presentRenewalCard(_ evidence: CardEvidence, flow flowID: String, session: LoginSession)
        async throws(LifecycleError) -> PowerOfAttorneyState
    {
        try await presentCard(evidence, at: .renewalCard, flowID, session)
    }

    /// マイナンバーカード読込 for a deletion: evidence signed with the agent's user-authentication key. Its
    /// certificate must be valid and paired by JPKI with the registered signing certificate; the deletion is
    /// prepared. Next: ``PowerOfAttorneyState/Step/confirmDeletion``.
    public func presentDeletionCard(_ evidence: CardEvidence, flow flowID: String, session: LoginSession)
        async throws(LifecycleError) -> PowerOfAttorneyState
    {
        try await presentCard(evidence, at: .deletionCard, flowID, session)
    }

    private func presentCard(
        _ evidence: CardEvidence, at step: PowerOfAttorneyState.Step, _ flowID: String, _ session: LoginSession
    ) async throws(LifecycleError) -> PowerOfAttorneyState {
        var (state, version) = try await load(flowID, session)
        try require(step, state)
        let possession = try await records.possession(evidence, for: state, desk: desk)
        let credential = try UpdateCredential(
            kind: .myNumberCard, certificate: possession.certificate, chain: possession.chain)
        let rules = rules(state)
        let (_, binding) = try await rules.expiredNotice()
        if state.step == .renewalCard {
            try await rules.checkRenewalCard(credential, binding: binding)
            state.card = try StoredCertificate(
                certificate: credential.certificate, chain: credential.chain, fingerprint: credential.fingerprint)
            state.step = .request
        } else {
            let (prepared, _) = try await rules.prepareDeletion(card: credential, binding: binding)
            state.card = try StoredCertificate(
                certificate: credential.certificate, chain: credential.chain, fingerprint: credential.fingerprint)
            state.registrationVersion = prepared.expectedVersion
            state.step = .confirmDeletion
        }
        return try await records.save(state, owner: session.userID.rawValue, version: version + 1)
    }

    /// 取得依頼: asks the provider for a fresh power of attorney with the application number, checks it and
    /// prepares the change (nothing stored). Next: ``PowerOfAttorneyState/Step/confirmRenewal``.
    public func request(applicationNumber: String, flow flowID: String, session: LoginSession)
        async throws(LifecycleError) -> PowerOfAttorneyState
    {
        var (state, version) = try await load(flowID, session)
        try require(.request, state)
        let rules = rules(state)
        let (notice, binding) = try await rules.expiredNotice()
        let card = try Self.credential(state.card)
        try await rules.checkRenewalCard(card, binding: binding)
        let (prepared, confirmation) = try await rules.requestPowerOfAttorney(
            applicationNumber: applicationNumber, card: card, binding: binding, notice: notice)
        state.attorney = confirmation.powerOfAttorney
        state.registrationVersion = prepared.expectedVersion
        state.step = .confirmRenewal
        return try await records.save(state, owner: session.userID.rawValue, version: version + 1)
    }

    /// マイナンバーカード電子委任状確認: the screen, prepared again from the stored state (the registration changed
    /// meanwhile: the flow starts over, ``LifecycleError/registrationChanged``).
    public func renewalConfirmation(flow flowID: String, session: LoginSession) async throws(LifecycleError)
        -> PowerOfAttorneyConfirmation
    {
        let (state, version) = try await load(flowID, session)
        try require(.confirmRenewal, state)
        return try await preparedRenewal(state, version).1
    }

    /// 利用者情報削除確認: the screen, prepared again from the stored state.
    public func deletionConfirmation(flow flowID: String, session: LoginSession) async throws(LifecycleError)
        -> AgentDeletionConfirmation
    {
        let (state, version) = try await load(flowID, session)
        try require(.confirmDeletion, state)
        return try await preparedDeletion(state, version).1
    }

    /// 電子委任状更新: commits the fresh power of attorney. Next: ``PowerOfAttorneyState/Step/renewed``.
    public func renew(flow flowID: String, session: LoginSession) async throws(LifecycleError)
        -> PowerOfAttorneyCompletion
    {
        var (state, version) = try await load(flowID, session)
        try require(.confirmRenewal, state)
        let (prepared, _) = try await preparedRenewal(state, version)
        let completion = try await commit(prepared, state, version)
        state.step = .renewed
        state.changeID = completion.changeID
        try await records.save(state, owner: session.userID.rawValue, version: version + 1)
        return completion
    }

    /// 削除: deletes the agent — irreversible. Next: ``PowerOfAttorneyState/Step/deleted``.
    ///
    /// - Throws: ``LifecycleError/deletionNotAcknowledged`` (the step stays), ``LifecycleError/registrationChanged``.
    public func delete(acknowledgingIrreversible: Bool, flow flowID: String, session: LoginSession)
        async throws(LifecycleError) -> PowerOfAttorneyCompletion
    {
        var (state, version) = try await load(flowID, session)
        try require(.confirmDeletion, state)
        guard acknowledgingIrreversible else { throw .deletionNotAcknowledged }
        let (prepared, _) = try await preparedDeletion(state, version)
        let completion = try await commit(prepared, state, version)
        state.step = .deleted
        state.changeID = completion.changeID
        try await records.save(state, owner: session.userID.rawValue, version: version + 1)
        return completion
    }

    /// 戻る: back to the 失効画面; nothing was stored.
    public func back(flow flowID: String, session: LoginSession) async throws(LifecycleError) -> PowerOfAttorneyState {
        let (state, version) = try await load(flowID, session)
        guard !state.isCompleted else {
            throw .notAtStep(
                anyOf: [.expired, .renewalCard, .request, .confirmRenewal, .deletionCard, .confirmDeletion],
                current: state.step)
        }
        return try await records.restart(state, version: version)
    }

    // MARK: State

    private func choose(_ next: PowerOfAttorneyState.Step, _ flowID: String, _ session: LoginSession)
        async throws(LifecycleError) -> PowerOfAttorneyState
    {
        var (state, version) = try await load(flowID, session)
        try require(.expired, state)
        state.step = next
        return try await records.save(state, owner: session.userID.rawValue, version: version + 1)
    }

    private func require(_ step: PowerOfAttorneyState.Step, _ state: PowerOfAttorneyState) throws(LifecycleError) {
        try records.require(step, state)
    }

    private func preparedRenewal(_ state: PowerOfAttorneyState, _ version: Int) async throws(LifecycleError)
        -> (PreparedChange, PowerOfAttorneyConfirmation)
    {
        try await records.restarting(state, version: version) { () throws(LifecycleError) in
            guard let attorney = state.attorney else { throw Records.incomplete("the power of attorney") }
            let rules = rules(state)
            let (_, binding) = try await rules.expiredNotice()
            try await rules.checkRenewalCard(try Self.credential(state.card), binding: binding)
            let result = try await rules.prepareRenewal(attorney, binding: binding)
            guard result.0.expectedVersion == state.registrationVersion else { throw .registrationChanged }
            return result
        }
    }

    private func preparedDeletion(_ state: PowerOfAttorneyState, _ version: Int) async throws(LifecycleError)
        -> (PreparedChange, AgentDeletionConfirmation)
    {
        try await records.restarting(state, version: version) { () throws(LifecycleError) in
            let rules = rules(state)
            let (_, binding) = try await rules.expiredNotice()
            let result = try await rules.prepareDeletion(card: try Self.credential(state.card), binding: binding)
            guard result.0.expectedVersion == state.registrationVersion else { throw .registrationChanged }
            return result
        }
    }

    private func commit(_ prepared: PreparedChange, _ state: PowerOfAttorneyState, _ version: Int)
        async throws(LifecycleError) -> PowerOfAttorneyCompletion
    {
        try await records.restarting(state, version: version) { () throws(LifecycleError) in
            try await rules(state).commit(prepared)
        }
    }

    private func load(_ flowID: String, _ session: LoginSession) async throws(LifecycleError)
        -> (state: PowerOfAttorneyState, version: Int)
    {
        try await records.load(flowID, session: session)
    }

    private static func credential(_ stored: StoredCertificate?) throws(LifecycleError) -> UpdateCredential {
        guard let stored else { throw Records.incomplete("the card") }
        let (certificate, chain) = try stored.decoded()
        return try UpdateCredential(kind: .myNumberCard, certificate: certificate, chain: chain)
    }
}
