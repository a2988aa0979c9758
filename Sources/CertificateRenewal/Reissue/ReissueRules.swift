import CardCredentials
import Foundation
import Registration
import SwiftASN1
import X509

/// The rules of the administrator's reissue (seed 004), one copy for ``CertificateReissue`` (in one process) and
/// ``RemoteCertificateReissue`` (a server): who may reissue, whom for, the confirmation screen's rows, and the
/// reissue itself (the CA revokes, the registration records it, a one-time code is granted).
struct ReissueRules: Sendable {
    let desk: ReissueDesk

    /// Refuses a login that is not the contract's administrator (代表者 of the contract's business).
    func checkAdministrator(_ session: LoginSession, of account: ReissueAccount) throws(LifecycleError) {
        guard session.role == .representative, session.userID == account.administrator,
            session.businessID == account.businessID
        else { throw .notTheAdministrator }
    }

    /// The contract's users that are active in the registration, with their active file certificates.
    func candidates(of account: ReissueAccount) async throws(LifecycleError) -> [ReissueCandidate] {
        let registration: BusinessRegistration?
        do { registration = try await desk.environment.service.store.registration(account.businessID) } catch {
            throw .registration(error)
        }
        guard let registration else { throw .registration(.businessNotFound(account.businessID)) }
        let date = desk.now
        return account.users.compactMap { user in
            guard let record = try? registration.user(user.userID), record.status == .active else { return nil }
            let certificates = registration.activeBindings(of: user.userID, at: date).filter {
                $0.kind == .fileCertificate
            }
            return ReissueCandidate(
                loginID: user.loginID, userID: user.userID, name: record.information.name,
                certificates: certificates, isLocked: user.isLocked || account.administratorLocked)
        }
    }

    /// 利用者情報選択: the candidate with `loginID`, read again from the registration.
    func candidate(_ loginID: String, of account: ReissueAccount) async throws(LifecycleError) -> ReissueCandidate {
        guard let candidate = try await candidates(of: account).first(where: { $0.loginID == loginID }) else {
            throw .reissueUserNotFound
        }
        return candidate
    }

    /// 利用者電子証明書再発行確認: the rows of the screen.
    func confirmation(of candidate: ReissueCandidate, account: ReissueAccount) -> ReissueConfirmation {
        let expires = desk.now.addingTimeInterval(desk.codeLifetime)
        var rows = [
            ScreenRow(label: "契約者ID", value: account.contractID.digits),
            ScreenRow(label: "利用者ID", value: candidate.loginID), ScreenRow(label: "氏名", value: candidate.name),
        ]
        for binding in candidate.certificates {
            let until = CertificateSummary.japanDate(binding.notValidAfter)
            rows.append(ScreenRow(label: "失効する電子証明書", value: "\(binding.serialNumber)（有効期限 \(until)）"))
        }
        if candidate.certificates.isEmpty { rows.append(ScreenRow(label: "失効する電子証明書", value: "なし")) }
        rows.append(ScreenRow(label: "処理内容", value: ReissueConfirmation.action))
        rows.append(ScreenRow(label: "取得期限", value: CertificateSummary.japanDate(expires)))
        return ReissueConfirmation(candidate: candidate, rows: rows)
    }

    /// 再発行: revokes the candidate's current file certificates at the certification authority and in the
    /// registration (made by `actor`, the administrator), then grants a one-time code and returns it.
    ///
    /// Every step can be run again after a failure: the CA takes a second revocation, a revoked binding is no
    /// longer a candidate's, and a new grant replaces the user's earlier one.
    func reissue(_ candidate: ReissueCandidate, account: ReissueAccount, by actor: RegistrationActor)
        async throws(LifecycleError) -> ReissueReceipt
    {
        let date = desk.now
        for binding in candidate.certificates {
            let certificate: Certificate
            do { certificate = try binding.certificate() } catch { throw .registration(error) }
            do { try await desk.authority.revoke(certificate, at: date) } catch let error as LifecycleError {
                throw error
            } catch { throw .certificateAuthorityUnavailable(reason: "\(error)") }
            do {
                let prepared = try await desk.environment.service.prepare(
                    .markCertificateRevoked(binding.id), to: account.businessID, by: actor)
                _ = try await desk.environment.service.commit(prepared)
            } catch .staleChange {
                throw .registrationChanged
            } catch { throw .registration(error) }
        }
        let code = ReissueDesk.makeCode()
        let grant = EnrollmentGrant(
            codeDigest: EnrollmentGrant.digest(ofCode: code), contractID: account.contractID,
            loginID: candidate.loginID, userID: candidate.userID, issuedAt: date,
            expiresAt: date.addingTimeInterval(desk.codeLifetime))
        try await desk.accounts.insert(grant)
        return ReissueReceipt(
            contractID: account.contractID, loginID: candidate.loginID, enrollmentCode: code,
            expiresAt: grant.expiresAt, revoked: candidate.certificates.map(\.id))
    }
}

/// The rules of the user's 電子証明書取得 on the new computer (seed 004), one copy for ``CertificateEnrollment`` (the
/// key made in the same process) and ``RemoteCertificateEnrollment`` (the key made on the user's computer, only
/// its certificate request sent): the sign-in, the subject the certificate is issued for, the single use of the
/// code, the checks of what the certification authority returns, and the binding.
struct EnrollmentRules: Sendable {
    let desk: ReissueDesk

    /// ID、暗証番号を入力: checks the passwords and the code (a wrong try counts toward the lock-out) without using
    /// the code; returns what the user is about to obtain.
    func signIn(
        contractID: String, loginID: String, password: SecretPIN, confirmation: SecretPIN, code: String
    ) async throws(LifecycleError) -> EnrollmentConfirmation {
        let contract = try ContractID(contractID)
        let (account, user, _) = try await desk.checkUser(
            contract, loginID: loginID, password: password, confirmation: confirmation, code: code)
        let registration: BusinessRegistration?
        do { registration = try await desk.environment.service.store.registration(account.businessID) } catch {
            throw .registration(error)
        }
        guard let registration, let record = try? registration.user(user.userID), record.status == .active else {
            throw .reissueUserNotFound
        }
        let start = desk.now
        // Five minutes back, so a certificate is valid at once even when the clocks differ a little.
        return EnrollmentConfirmation(
            contractID: contract, loginID: loginID, userID: user.userID, userName: record.information.name,
            businessName: registration.business.name, notValidBefore: start.addingTimeInterval(-300),
            notValidAfter: Self.oneYear(after: start))
    }

    /// The subject the certificate is issued for: 商号又は名称 (O) and 氏名 (CN).
    static func subject(of confirmation: EnrollmentConfirmation) throws(LifecycleError) -> DistinguishedName {
        do {
            return try DistinguishedName {
                OrganizationName(confirmation.businessName)
                CommonName(confirmation.userName)
            }
        } catch { throw .credentialNotCreated(reason: "the certificate's subject could not be made: \(error)") }
    }

    /// Takes the code (single use) for the user of `confirmation`; give it back with ``giveBack(_:)`` when what
    /// it was taken for fails.
    ///
    /// - Throws: ``LifecycleError/enrollmentCodeInvalid`` when the code was taken meanwhile (or is another
    ///   user's), ``LifecycleError/enrollmentCodeExpired(expiredAt:)`` (the code stays).
    func takeCode(digest: String, for confirmation: EnrollmentConfirmation) async throws(LifecycleError)
        -> EnrollmentGrant
    {
        guard let grant = try await desk.accounts.takeGrant(codeDigest: digest) else { throw .enrollmentCodeInvalid }
        guard grant.userID == confirmation.userID else {
            await giveBack(grant)
            throw .enrollmentCodeInvalid
        }
        guard desk.now <= grant.expiresAt else {
            await giveBack(grant)
            throw .enrollmentCodeExpired(expiredAt: grant.expiresAt)
        }
        return grant
    }

    /// Makes a taken code usable again (what it was taken for failed before anything was bound).
    func giveBack(_ grant: EnrollmentGrant) async { try? await desk.accounts.insert(grant) }

    /// Checks a certificate request made elsewhere: signed by its own key, for the subject of
    /// ``subject(of:)``.
    ///
    /// - Throws: ``LifecycleError/certificateRequestRefused(reason:)``.
    static func check(_ request: CertificateSigningRequest, for confirmation: EnrollmentConfirmation)
        throws(LifecycleError)
    {
        guard request.publicKey.isValidSignature(request.signature, for: request) else {
            throw .certificateRequestRefused(reason: "the request's signature does not verify with its key")
        }
        let subject = try subject(of: confirmation)
        guard request.subject == subject else {
            throw .certificateRequestRefused(
                reason: "the request is for \(request.subject), not for \(subject) (商号又は名称 and 氏名)")
        }
    }

    /// Sends the request to the certification authority and checks what comes back (the request's key, valid now
    /// for one year, a chain the validator trusts); a certificate that fails a check is revoked.
    func issue(_ request: CertificateSigningRequest, for confirmation: EnrollmentConfirmation, at date: Date)
        async throws(LifecycleError) -> ReissuedCertificate
    {
        let issued: ReissuedCertificate
        do {
            issued = try await desk.authority.issue(
                request, notValidBefore: confirmation.notValidBefore, notValidAfter: confirmation.notValidAfter)
        } catch let error as LifecycleError {
            throw error
        } catch { throw .certificateAuthorityUnavailable(reason: "\(error)") }

        let certificate = issued.certificate
        do throws(LifecycleError) {
            try Self.check(certificate, for: request, confirmation: confirmation, at: date)
            var validator = desk.environment.validator
            validator.intermediates += issued.chain
            let result = await validator.validate(certificate, for: .any, at: date)
            guard result.isValid else { throw LifecycleError.issuedCertificateMismatch(reason: result.description) }
        } catch {
            try? await desk.authority.revoke(certificate, at: date)
            throw error
        }
        return issued
    }

    /// Binds the certificate to the user as a file certificate, made by the flow itself
    /// (`RegistrationActor.portal(operator:)`); when that fails the certificate is revoked.
    func bind(_ certificate: Certificate, for confirmation: EnrollmentConfirmation, at date: Date)
        async throws(LifecycleError) -> BindingID
    {
        let service = desk.environment.service
        let committed: CommittedChange
        do {
            let prepared = try await service.prepare(
                .addCertificate(confirmation.userID, certificate, .fileCertificate),
                to: try await businessID(of: confirmation.userID), by: .portal(operator: desk.operatorName))
            committed = try await service.commit(prepared)
        } catch {
            try? await desk.authority.revoke(certificate, at: date)
            if case .staleChange = error { throw .registrationChanged }
            throw .registration(error)
        }
        let fingerprint = try? CertificateBinding.fingerprint(of: certificate)
        guard let binding = committed.registration.bindings.first(where: { $0.fingerprint == fingerprint }) else {
            throw .issuedCertificateMismatch(reason: "the registration does not show the new certificate")
        }
        return binding.id
    }

    private func businessID(of user: UserID) async throws(RegistrationError) -> BusinessID {
        guard let registration = try await desk.environment.service.store.registration(ofUser: user) else {
            throw .userNotFound(user)
        }
        return registration.id
    }

    private static func check(
        _ certificate: Certificate, for request: CertificateSigningRequest, confirmation: EnrollmentConfirmation,
        at date: Date
    ) throws(LifecycleError) {
        guard certificate.publicKey == request.publicKey else {
            throw .issuedCertificateMismatch(reason: "it certifies another key than the one requested")
        }
        guard certificate.notValidBefore <= date.addingTimeInterval(300), certificate.notValidAfter > date else {
            throw .issuedCertificateMismatch(reason: "it is not valid now")
        }
        let tolerance: TimeInterval = 24 * 3600
        guard certificate.notValidAfter <= confirmation.notValidAfter.addingTimeInterval(tolerance),
            certificate.notValidAfter >= confirmation.notValidAfter.addingTimeInterval(-tolerance)
        else {
            throw .issuedCertificateMismatch(
                reason: "it is valid until \(CertificateSummary.japanDate(certificate.notValidAfter)), not one year")
        }
    }

    /// One calendar year after `date` (Japan's calendar day).
    static func oneYear(after date: Date) -> Date {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "Asia/Tokyo") ?? .gmt
        return calendar.date(byAdding: .year, value: 1, to: date) ?? date.addingTimeInterval(365 * 24 * 3600)
    }
}
