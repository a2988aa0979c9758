public import CardCredentials
public import Foundation
public import Registration
import X509

/// Where the administrator's reissue (利用者電子証明書の再発行) stands.
public enum CertificateReissueStep: Sendable, Hashable, CustomStringConvertible {
    /// 管理者ログオン: sign a challenge from ``CertificateReissue/challenge()`` with the administrator's
    /// certificate, then ``CertificateReissue/logOn(contractID:evidence:password:confirmation:)``.
    case logOn
    /// 利用者情報選択: choose the user with ``CertificateReissue/choose(loginID:)``.
    case chooseUser([ReissueCandidate])
    /// 再発行確認: ``CertificateReissue/reissue()`` (再発行) or ``CertificateReissue/back()`` (戻る).
    case confirm(ReissueConfirmation)
    /// 再発行結果: the old certificate is revoked; give the code to the user.
    case completed(ReissueReceipt)

    /// The names of the steps, as errors and logs name them.
    public enum Name: String, LifecycleStepName {
        /// The name of `CertificateReissueStep.logOn`.
        case logOn
        /// The name of `CertificateReissueStep.chooseUser`.
        case chooseUser
        /// The name of `CertificateReissueStep.confirm`.
        case confirm
        /// The name of `CertificateReissueStep.completed`.
        case completed
    }

    /// The step's name, as errors name it.
    public var name: Name {
        switch self {
        case .logOn: .logOn
        case .chooseUser: .chooseUser
        case .confirm: .confirm
        case .completed: .completed
        }
    }

    /// The step's name.
    public var description: String { name.rawValue }
}

/// A user the administrator may reissue for.
public struct ReissueCandidate: Sendable, Hashable {
    /// 利用者ID.
    public var loginID: String
    /// The user in the registration.
    public var userID: UserID
    /// 氏名.
    public var name: String
    /// The user's active file certificates (what a reissue revokes).
    public var certificates: [CertificateBinding]
    /// Whether the user is locked (ロック).
    public var isLocked: Bool
}

/// The confirmation screen of a reissue: labeled rows, and the sentence of what happens.
public struct ReissueConfirmation: Sendable, Hashable {
    /// The screen's title.
    public static let title = "利用者電子証明書再発行確認"
    /// What 再発行 does, in the manuals' words.
    public static let action = "現在の電子証明書を失効し、再発行する"
    /// The user chosen.
    public var candidate: ReissueCandidate
    /// The rows in order.
    public var rows: [ScreenRow]
}

/// The result of a reissue: the one-time code the user enters on the new computer.
public struct ReissueReceipt: Sendable, Hashable {
    /// 契約者ID.
    public var contractID: ContractID
    /// 利用者ID.
    public var loginID: String
    /// The one-time enrollment code (single use): hand it to the user, never store it.
    public var enrollmentCode: String
    /// The code is refused after this moment.
    public var expiresAt: Date
    /// The bindings revoked (失効).
    public var revoked: [BindingID]
}

/// The administrator's side of a certificate reissue on a new computer (seed 004): 管理者ログオン with the
/// administrator's certificate, which must be valid, and the two contract passwords; choose the user; 再発行
/// revokes the user's current file certificate (「現在の電子証明書を失効し、再発行する」: the certification
/// authority is told, the binding is marked revoked) and returns a one-time enrollment code for
/// ``CertificateEnrollment``.
///
/// Refusals: the contract's passwords wrong (the service locks after ``ReissueAccount/lockThreshold`` tries, and
/// the administrator's lock locks the contract's users too), the certificate login refused (expired, revoked,
/// superseded: ``LifecycleError/administratorCertificateRefused(_:)``), the certificate not the
/// administrator's.
public actor CertificateReissue {
    /// The desk.
    public nonisolated let desk: ReissueDesk
    /// Where the flow stands.
    public private(set) var step: CertificateReissueStep = .logOn

    private var session: LoginSession?
    private var account: ReissueAccount?
    private var gate = FlowGate()

    /// A reissue at its first step (管理者ログオン).
    public init(desk: ReissueDesk) { self.desk = desk }

    private var login: CertificateLogin {
        let service = desk.environment.service
        return CertificateLogin(store: service.store, validator: desk.environment.validator, now: service.now)
    }

    /// A login challenge for the administrator's certificate to sign (管理者の電子証明書を選択).
    public func challenge() async throws(LifecycleError) -> EvidenceChallenge {
        try require(.logOn)
        do { return try await login.issueChallenge() } catch { throw .registration(error) }
    }

    /// 管理者ログオン: the certificate login and the two contract passwords (ご契約先暗証番号,
    /// ご契約先確認暗証番号).
    ///
    /// The certificate is checked first, so a stolen password alone never counts against the contract; a wrong
    /// password counts toward the lock-out.
    public func logOn(contractID: String, evidence: CardEvidence, password: SecretPIN, confirmation: SecretPIN)
        async throws(LifecycleError)
    {
        try require(.logOn)
        let token = try gate.begin()
        defer { gate.end(token) }
        let contract = try ContractID(contractID)
        let account = try await desk.account(contract)
        guard !account.administratorLocked else { throw .serviceLocked(contractWide: true) }
        let session: LoginSession
        do { session = try await login.login(evidence) } catch { throw .administratorCertificateRefused(error) }
        try rules.checkAdministrator(session, of: account)
        let checked = try await desk.checkAdministrator(contract, password: password, confirmation: confirmation)
        let candidates = try await rules.candidates(of: checked)
        try gate.check(token)
        self.session = session
        self.account = checked
        step = .chooseUser(candidates)
    }

    /// 利用者情報選択: the user whose certificate is reissued.
    public func choose(loginID: String) async throws(LifecycleError) {
        guard case .chooseUser(let candidates) = step else { throw notAt(.chooseUser) }
        guard let candidate = candidates.first(where: { $0.loginID == loginID }), let account else {
            throw .reissueUserNotFound
        }
        step = .confirm(rules.confirmation(of: candidate, account: account))
    }

    /// 再発行: revokes the user's current file certificates at the certification authority and in the
    /// registration (`.markCertificateRevoked`, made by the administrator's session), then issues the code.
    ///
    /// Revocation cannot be taken back: ``back()`` is refused while this runs, and once the code is recorded the
    /// receipt (with the code) is always returned.
    public func reissue() async throws(LifecycleError) -> ReissueReceipt {
        guard case .confirm(let confirmation) = step else { throw notAt(.confirm) }
        guard let session, let account else { throw notAt(.logOn) }
        let token = try gate.begin()
        gate.isCommitting = true
        defer {
            gate.isCommitting = false
            gate.end(token)
        }
        let receipt = try await rules.reissue(confirmation.candidate, account: account, by: session.actor)
        step = .completed(receipt)
        return receipt
    }

    /// 戻る: from the confirmation back to the user list; from the list back to 管理者ログオン (the session ends).
    ///
    /// - Throws: ``LifecycleError/stepInProgress`` while ``reissue()`` runs (revocation cannot be taken back).
    public func back() async throws(LifecycleError) {
        try gate.refuseWhileCommitting()
        gate.restart()
        switch step {
        case .confirm:
            guard let account else { throw notAt(.logOn) }
            step = .chooseUser(try await rules.candidates(of: account))
        case .chooseUser, .completed:
            session = nil
            account = nil
            step = .logOn
        case .logOn:
            break
        }
    }

    private var rules: ReissueRules { ReissueRules(desk: desk) }

    private func require(_ name: CertificateReissueStep.Name) throws(LifecycleError) {
        guard step.name == name else { throw notAt(name) }
    }

    private func notAt(_ expected: CertificateReissueStep.Name) -> LifecycleError {
        .notAtStep(expected: expected, current: step.name)
    }

}
