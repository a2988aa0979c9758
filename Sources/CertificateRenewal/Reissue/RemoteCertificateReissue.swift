public import CardCredentials
public import Foundation
public import Registration

/// Where a server's reissue (利用者電子証明書の再発行) stands, as a plain value kept in the store between requests.
public struct CertificateReissueState: Sendable, Hashable, Codable, SessionFlowState {
    /// The steps of the manual (seed 004), as a server sees them.
    public enum Step: String, Sendable, Hashable, Codable, LifecycleStepName {
        /// 管理者ログオン: the contract's ID and the two contract passwords (the session is the administrator's
        /// certificate login).
        case logOn = "log-on"
        /// 利用者情報選択.
        case chooseUser = "choose-user"
        /// 利用者電子証明書再発行確認: 再発行 or 戻る.
        case confirm
        /// 再発行結果: the old certificates are revoked and the code was given once.
        case completed
    }

    /// The flow's identifier.
    public let flowID: String
    /// The administrator.
    public let userID: UserID
    /// The administrator's business.
    public let businessID: BusinessID
    /// The step the flow is at.
    public internal(set) var step: Step
    /// When the flow ends if it is not continued.
    public internal(set) var expiresAt: Date
    /// 契約者ID, once the administrator logged on.
    public internal(set) var contractID: ContractID?
    /// 利用者ID of the user chosen.
    public internal(set) var loginID: String?
    /// Until when the user may use the code, once reissued (the code itself is never kept).
    public internal(set) var codeExpiresAt: Date?
    /// The bindings revoked by the reissue.
    public internal(set) var revoked: [BindingID] = []

    var isCompleted: Bool { step == .completed }

    func restarted() -> Self {
        var state = self
        state.step = .logOn
        state.contractID = nil
        state.loginID = nil
        return state
    }
    /// None: the session is the administrator's certificate login.
    static let cardSteps: [Step] = []
    /// No step takes card evidence: the administrator's certificate logged the session on.
    public var evidencePurpose: EvidencePurpose? { nil }
}

/// The administrator's reissue on a portal's server (seed 004): the administrator, logged on with the
/// administrator's certificate (the session), enters the contract's passwords, chooses the user, confirms, and is
/// given the one-time code to hand to the user — once, in the answer to ``reissue(flow:session:)``. The rules are
/// ``CertificateReissue``'s: the same code (lock-out after wrong passwords, the contract's administrator only,
/// 「現在の電子証明書を失効し、再発行する」).
///
/// ```swift
/// let reissue = RemoteCertificateReissue(desk: desk)
/// var state = try await reissue.start(for: session)
/// state = try await reissue.logOn(contractID: "12345678901", password: p, confirmation: c, flow: state.flowID, session: session)
/// let users = try await reissue.candidates(flow: state.flowID, session: session)     // 利用者情報選択
/// state = try await reissue.choose(loginID: "tanaka", flow: state.flowID, session: session)
/// let screen = try await reissue.confirmation(flow: state.flowID, session: session)
/// let receipt = try await reissue.reissue(flow: state.flowID, session: session)    // receipt.enrollmentCode
/// ```
///
/// The code is not stored: if the answer with it is lost, the administrator reissues again (a new code replaces
/// the first; the certificates are revoked already).
public struct RemoteCertificateReissue: Sendable {
    /// The flow's name in the store: `certificate-reissue`.
    public static let flow = "certificate-reissue"

    /// The registration desk, the contracts and the certification authority.
    public let desk: ReissueDesk
    /// How long a flow waits between steps.
    public var lifetime: TimeInterval

    /// A reissue desk for a server.
    public init(desk: ReissueDesk, lifetime: TimeInterval = 900) {
        self.desk = desk
        self.lifetime = lifetime
    }

    private typealias Records = RemoteFlowRecords<CertificateReissueState>
    private var records: Records {
        let service = desk.environment.service
        return Records(kind: Self.flow, store: service.store, now: service.now, lifetime: lifetime)
    }
    private var rules: ReissueRules { ReissueRules(desk: desk) }

    /// 管理者ログオン for the user of `session`. Next: ``CertificateReissueState/Step/logOn``.
    ///
    /// - Throws: ``LifecycleError/notTheAdministrator`` unless the session is a representative's (代表者).
    public func start(for session: LoginSession) async throws(LifecycleError) -> CertificateReissueState {
        guard session.role == .representative else { throw .notTheAdministrator }
        let state = CertificateReissueState(
            flowID: Records.newFlowID(prefix: "X"), userID: session.userID, businessID: session.businessID,
            step: .logOn, expiresAt: desk.now.addingTimeInterval(lifetime))
        return try await records.save(state, owner: session.userID.rawValue, version: 1)
    }

    /// The flow's state.
    public func state(of flowID: String, session: LoginSession) async throws(LifecycleError)
        -> CertificateReissueState
    {
        try await records.load(flowID, session: session).state
    }

    /// 管理者ログオン: the contract's two passwords (ご契約先暗証番号, ご契約先確認暗証番号); a wrong pair counts toward
    /// the lock-out. The session must be the contract's administrator. Next:
    /// ``CertificateReissueState/Step/chooseUser``.
    public func logOn(
        contractID: String, password: SecretPIN, confirmation: SecretPIN, flow flowID: String, session: LoginSession
    ) async throws(LifecycleError) -> CertificateReissueState {
        var (state, version) = try await records.load(flowID, session: session)
        try records.require(.logOn, state)
        let contract = try ContractID(contractID)
        let account = try await desk.account(contract)
        // Another business's contract answers as an unknown one: a session does not learn which contracts exist.
        guard account.businessID == session.businessID else { throw .signInRejected(attemptsLeft: nil) }
        guard !account.administratorLocked else { throw .serviceLocked(contractWide: true) }
        try rules.checkAdministrator(session, of: account)
        _ = try await desk.checkAdministrator(contract, password: password, confirmation: confirmation)
        state.contractID = contract
        state.step = .chooseUser
        return try await records.save(state, owner: session.userID.rawValue, version: version + 1)
    }

    /// 利用者情報選択: the contract's users, read again from the registration.
    public func candidates(flow flowID: String, session: LoginSession) async throws(LifecycleError)
        -> [ReissueCandidate]
    {
        let (state, _) = try await records.load(flowID, session: session)
        try records.require(.chooseUser, state)
        return try await rules.candidates(of: try await account(of: state, session))
    }

    /// Chooses the user whose certificate is reissued. Next: ``CertificateReissueState/Step/confirm``.
    public func choose(loginID: String, flow flowID: String, session: LoginSession) async throws(LifecycleError)
        -> CertificateReissueState
    {
        var (state, version) = try await records.load(flowID, session: session)
        try records.require(.chooseUser, state)
        _ = try await rules.candidate(loginID, of: try await account(of: state, session))
        state.loginID = loginID
        state.step = .confirm
        return try await records.save(state, owner: session.userID.rawValue, version: version + 1)
    }

    /// 利用者電子証明書再発行確認: the screen, made again from the registration as it is now.
    public func confirmation(flow flowID: String, session: LoginSession) async throws(LifecycleError)
        -> ReissueConfirmation
    {
        let (state, _) = try await records.load(flowID, session: session)
        try records.require(.confirm, state)
        let account = try await account(of: state, session)
        return rules.confirmation(of: try await rules.candidate(state.loginID ?? "", of: account), account: account)
    }

    /// 再発行: revokes the user's current file certificates (at the certification authority and in the
    /// registration, made by the administrator) and grants the one-time code, returned here only. Next:
    /// ``CertificateReissueState/Step/completed``.
    ///
    /// - Throws: `flowChanged` (``LifecycleError/registration(_:)``) when another request runs the same 再発行.
    public func reissue(flow flowID: String, session: LoginSession) async throws(LifecycleError) -> ReissueReceipt {
        var (state, version) = try await records.load(flowID, session: session)
        try records.require(.confirm, state)
        let account = try await account(of: state, session)
        let candidate = try await rules.candidate(state.loginID ?? "", of: account)
        // Claimed before anything is revoked: of two 再発行 of one flow at once, the second finds this version taken
        // (`flowChanged`). After a crash in between, 再発行 runs again from the registration as it is.
        state = try await records.save(state, owner: state.owner, version: version + 1)
        let receipt = try await rules.reissue(candidate, account: account, by: session.actor)
        state.step = .completed
        state.codeExpiresAt = receipt.expiresAt
        state.revoked = receipt.revoked
        try await records.save(state, owner: state.owner, version: version + 2)
        return receipt
    }

    /// 戻る: from the confirmation to the user list; from the list to 管理者ログオン.
    public func back(flow flowID: String, session: LoginSession) async throws(LifecycleError)
        -> CertificateReissueState
    {
        var (state, version) = try await records.load(flowID, session: session)
        switch state.step {
        case .confirm:
            state.loginID = nil
            state.step = .chooseUser
        case .chooseUser:
            state.contractID = nil
            state.step = .logOn
        case .logOn, .completed:
            throw .notAtStep(anyOf: [.chooseUser, .confirm], current: state.step)
        }
        return try await records.save(state, owner: session.userID.rawValue, version: version + 1)
    }

    /// The contract of the flow, checked again: still the session's, not locked.
    private func account(of state: CertificateReissueState, _ session: LoginSession) async throws(LifecycleError)
        -> ReissueAccount
    {
        guard let contract = state.contractID else {
            throw .notAtStep(expected: .logOn, current: state.step)
        }
        let account = try await desk.account(contract)
        guard !account.administratorLocked else { throw .serviceLocked(contractWide: true) }
        try rules.checkAdministrator(session, of: account)
        return account
    }
}
