public import CardCredentials
import Crypto
public import Foundation
public import Registration
import SwiftASN1
public import X509

/// Where the user's 電子証明書取得 on the new computer stands.
public enum CertificateEnrollmentStep: Sendable, Hashable, CustomStringConvertible {
    /// ID、暗証番号を入力: ``CertificateEnrollment/signIn(contractID:loginID:password:confirmation:code:)``.
    case signIn
    /// The certificate about to be obtained: ``CertificateEnrollment/obtain(filePassword:)`` (電子証明書取得) or
    /// ``CertificateEnrollment/back()`` (戻る).
    case confirm(EnrollmentConfirmation)
    /// 電子証明書のインストールが完了しました.
    case completed(EnrolledCertificate)

    /// The names of the steps, as errors and logs name them.
    public enum Name: String, LifecycleStepName {
        /// The name of `CertificateEnrollmentStep.signIn`.
        case signIn
        /// The name of `CertificateEnrollmentStep.confirm`.
        case confirm
        /// The name of `CertificateEnrollmentStep.completed`.
        case completed
    }

    /// The step's name, as errors name it.
    public var name: Name {
        switch self {
        case .signIn: .signIn
        case .confirm: .confirm
        case .completed: .completed
        }
    }

    /// The step's name.
    public var description: String { name.rawValue }
}

/// What the user is about to obtain.
public struct EnrollmentConfirmation: Sendable, Hashable, Codable {
    /// 契約者ID.
    public var contractID: ContractID
    /// 利用者ID.
    public var loginID: String
    /// The user in the registration.
    public var userID: UserID
    /// 氏名.
    public var userName: String
    /// 商号又は名称.
    public var businessName: String
    /// The requested validity: one year from now.
    public var notValidBefore: Date
    /// The requested end of validity.
    public var notValidAfter: Date
}

/// The new certificate, kept as a password-protected PKCS#12 file; its key was made on this computer and is only
/// in that file.
public struct EnrolledCertificate: Sendable, Hashable {
    /// The certificate.
    public var certificate: Certificate
    /// The binding that makes it the user's login certificate.
    public var bindingID: BindingID
    /// The PKCS#12 file (AES-256), to write to disk; only the file password opens it.
    public var pkcs12: [UInt8]

    /// 電子証明書の有効期限は1年です。
    public static let notice =
        "電子証明書のインストールが完了しました。この電子証明書がインストールされたパソコン以外では利用者のログオンはできません。"
        + "電子証明書の有効期限は1年です。"
}

/// The user's side of a certificate reissue on a new computer (seed 004, 利用者電子証明書の取得): the contract ID
/// (11 digits), the user ID, the two user passwords and the administrator's one-time code; then the key is made
/// here (P-256, never sent), a CSR signed with it goes to the certification authority, the one-year certificate
/// that comes back is checked (same key, one year, a chain the validator trusts), bound to the user and kept as a
/// PKCS#12 file.
///
/// The binding is made by `RegistrationActor.portal(operator:)` (Registration): the user has no active certificate to act
/// with (the administrator revoked it), so the flow itself is the proof — passwords and a single-use code the
/// logged-on administrator issued.
public actor CertificateEnrollment {
    /// The desk.
    public nonisolated let desk: ReissueDesk
    /// Where the flow stands.
    public private(set) var step: CertificateEnrollmentStep = .signIn

    private var code: String?
    private var gate = FlowGate()

    /// An enrollment at its first step.
    public init(desk: ReissueDesk) { self.desk = desk }

    /// ID、暗証番号を入力: checks the passwords and the code (a wrong try counts toward the lock-out) without using
    /// the code yet.
    public func signIn(
        contractID: String, loginID: String, password: SecretPIN, confirmation: SecretPIN, code: String
    ) async throws(LifecycleError) {
        guard step.name == .signIn else { throw notAt(.signIn) }
        let token = try gate.begin()
        defer { gate.end(token) }
        let confirmed = try await rules.signIn(
            contractID: contractID, loginID: loginID, password: password, confirmation: confirmation, code: code)
        try gate.check(token)
        self.code = code
        step = .confirm(confirmed)
    }

    /// 電子証明書取得: uses the code, makes the key, sends the CSR, checks and binds the certificate, and returns
    /// it with its PKCS#12 file protected by `filePassword`.
    ///
    /// When the certification authority refuses or fails, the code stays usable and nothing is bound. Once the
    /// code is taken the call cannot be taken back: ``back()`` is refused until it ends, and a certificate that
    /// was bound is always returned.
    public func obtain(filePassword: SecretPIN) async throws(LifecycleError) -> EnrolledCertificate {
        guard case .confirm(let confirmation) = step, let code else { throw notAt(.confirm) }
        let token = try gate.begin()
        gate.isCommitting = true
        defer {
            gate.isCommitting = false
            gate.end(token)
        }
        let rules = rules
        let grant = try await rules.takeCode(digest: EnrollmentGrant.digest(ofCode: code), for: confirmation)
        let enrolled: EnrolledCertificate
        do { enrolled = try await enroll(confirmation, filePassword: filePassword, at: desk.now) } catch {
            await rules.giveBack(grant)
            throw error
        }
        self.code = nil
        step = .completed(enrolled)
        return enrolled
    }

    /// 戻る: back to the sign-in; the code is not used.
    ///
    /// - Throws: ``LifecycleError/stepInProgress`` while ``obtain(filePassword:)`` runs (the code is being used;
    ///   it cannot be taken back).
    public func back() throws(LifecycleError) {
        try gate.refuseWhileCommitting()
        gate.restart()
        code = nil
        if case .completed = step { return }
        step = .signIn
    }

    private func enroll(_ confirmation: EnrollmentConfirmation, filePassword: SecretPIN, at date: Date)
        async throws(LifecycleError) -> EnrolledCertificate
    {
        let key = P256.Signing.PrivateKey()
        let request: CertificateSigningRequest
        do {
            request = try CertificateSigningRequest(
                version: .v1, subject: try EnrollmentRules.subject(of: confirmation),
                privateKey: Certificate.PrivateKey(key), attributes: CertificateSigningRequest.Attributes(),
                signatureAlgorithm: .ecdsaWithSHA256)
        } catch let error as LifecycleError {
            throw error
        } catch { throw .credentialNotCreated(reason: "the certificate request could not be made: \(error)") }

        let rules = rules
        let issued = try await rules.issue(request, for: confirmation, at: date)
        let certificate = issued.certificate
        var keyBytes = Array(key.derRepresentation)
        defer {
            for index in keyBytes.indices { keyBytes[index] = 0 }
        }
        let file: [UInt8]
        do {
            let credential = try FileCredential(privateKeyDER: keyBytes, certificate: certificate, chain: issued.chain)
            file = try credential.pkcs12(
                password: filePassword, friendlyName: "\(confirmation.contractID.digits) \(confirmation.loginID)")
        } catch {
            try? await desk.authority.revoke(certificate, at: date)
            throw .credentialNotCreated(reason: error.description)
        }
        let binding = try await rules.bind(certificate, for: confirmation, at: date)
        return EnrolledCertificate(certificate: certificate, bindingID: binding, pkcs12: file)
    }

    private var rules: EnrollmentRules { EnrollmentRules(desk: desk) }

    private func notAt(_ expected: CertificateEnrollmentStep.Name) -> LifecycleError {
        .notAtStep(expected: expected, current: step.name)
    }

}
