import CardCredentials
public import Foundation
import Registration

/// What the two reissue flows share: the portal's registration desk and validator, the contracts' store, the
/// certification authority, and the rules (code lifetime, certificate lifetime).
///
/// ```swift
/// let desk = ReissueDesk(environment: environment, accounts: accountStore, authority: authority)
/// let request = CertificateReissue(desk: desk)            // 管理者: 利用者電子証明書の再発行
/// let enrollment = CertificateEnrollment(desk: desk)      // 利用者: 電子証明書取得 on the new computer
/// ```
public struct ReissueDesk: Sendable {
    /// The registration desk (its clock is the flows' clock) and the certificate validator.
    public var environment: LifecycleEnvironment
    /// Contracts, passwords, lock state and enrollment codes.
    public var accounts: any ReissueAccountStore
    /// The certification authority that revokes and issues.
    public var authority: any ReissueCertificateAuthority
    /// How long an enrollment code is accepted after the administrator reissued (24 hours by default).
    public var codeLifetime: TimeInterval
    /// The portal operator named for changes the flow makes on the user's behalf (the new certificate's binding).
    public var operatorName: String

    /// A desk.
    public init(
        environment: LifecycleEnvironment, accounts: any ReissueAccountStore,
        authority: any ReissueCertificateAuthority, codeLifetime: TimeInterval = 24 * 3600,
        operatorName: String = "certificate reissue"
    ) {
        self.environment = environment
        self.accounts = accounts
        self.authority = authority
        self.codeLifetime = codeLifetime
        self.operatorName = operatorName
    }

    /// The flows' clock.
    var now: Date { environment.service.now() }

    /// The contract, or ``LifecycleError/signInRejected(attemptsLeft:)`` with nothing counted.
    func account(_ contractID: ContractID) async throws(LifecycleError) -> ReissueAccount {
        guard let account = try await accounts.account(contractID) else { throw .signInRejected(attemptsLeft: nil) }
        return account
    }

    /// Checks the administrator's passwords, counting a wrong pair and locking at the threshold.
    func checkAdministrator(_ contractID: ContractID, password: SecretPIN, confirmation: SecretPIN)
        async throws(LifecycleError) -> ReissueAccount
    {
        let account = try await account(contractID)
        guard !account.administratorLocked else { throw .serviceLocked(contractWide: true) }
        if account.administratorPasswords.matches(password: password, confirmation: confirmation) {
            return try await accounts.update(contractID) { $0.administratorFailedAttempts = 0 } ?? account
        }
        let updated = try await accounts.update(contractID) { $0.administratorFailed() } ?? account
        if updated.administratorLocked { throw .serviceLocked(contractWide: true) }
        throw .signInRejected(attemptsLeft: updated.lockThreshold - updated.administratorFailedAttempts)
    }

    /// Checks a user's passwords (and enrollment code, when `code` is given), counting a wrong try and locking at
    /// the threshold. Returns the account, the user and the code's grant.
    func checkUser(
        _ contractID: ContractID, loginID: String, password: SecretPIN, confirmation: SecretPIN, code: String
    ) async throws(LifecycleError) -> (ReissueAccount, ReissueUserAccount, EnrollmentGrant) {
        let account = try await account(contractID)
        guard !account.administratorLocked else { throw .serviceLocked(contractWide: true) }
        guard let user = account.user(loginID: loginID) else { throw .signInRejected(attemptsLeft: nil) }
        guard !user.isLocked else { throw .serviceLocked(contractWide: false) }
        guard user.passwords.matches(password: password, confirmation: confirmation) else {
            let updated = try await accounts.update(contractID) { $0.userFailed(loginID) } ?? account
            let failed = updated.user(loginID: loginID)
            if failed?.isLocked == true { throw .serviceLocked(contractWide: false) }
            throw .signInRejected(attemptsLeft: updated.lockThreshold - (failed?.failedAttempts ?? 0))
        }
        let grant = try await accounts.grant(codeDigest: EnrollmentGrant.digest(ofCode: code))
        guard let grant, grant.contractID == contractID, grant.loginID == loginID, grant.userID == user.userID
        else {
            let updated = try await accounts.update(contractID) { $0.userFailed(loginID) } ?? account
            if updated.user(loginID: loginID)?.isLocked == true { throw .serviceLocked(contractWide: false) }
            throw .enrollmentCodeInvalid
        }
        guard now <= grant.expiresAt else { throw .enrollmentCodeExpired(expiredAt: grant.expiresAt) }
        let reset = try await accounts.update(contractID) { account in
            if let index = account.users.firstIndex(where: { $0.loginID == loginID }) {
                account.users[index].failedAttempts = 0
            }
        }
        return (reset ?? account, user, grant)
    }

    /// A new enrollment code: 16 characters of Crockford's Base32 in groups of four (80 random bits).
    static func makeCode() -> String {
        let alphabet = Array("0123456789ABCDEFGHJKMNPQRSTVWXYZ")
        var generator = SystemRandomNumberGenerator()
        let characters = (0..<16).map { _ in alphabet[Int(generator.next(upperBound: UInt32(alphabet.count)))] }
        return stride(from: 0, to: 16, by: 4).map { String(characters[$0..<$0 + 4]) }.joined(separator: "-")
    }
}
