public import CardCredentials
public import Foundation
public import Registration
public import X509

/// Where a server's 電子証明書取得 (the user's side of a reissue) stands, as a plain value kept in the store.
public struct CertificateEnrollmentState: Sendable, Hashable, Codable, RemoteFlowState {
    /// The steps of the manual (seed 004), as a server sees them.
    public enum Step: String, Sendable, Hashable, Codable, LifecycleStepName {
        /// ID、暗証番号を入力: 契約者ID, 利用者ID, the two user passwords and the administrator's code.
        case signIn = "sign-in"
        /// The certificate about to be obtained: the user's computer makes its key and sends a request (CSR)
        /// for ``CertificateEnrollmentState/requestSubject``.
        case confirm
        /// 電子証明書のインストールが完了しました: the certificate is issued and bound.
        case completed
    }

    /// The flow's identifier. There is no session (the user has no certificate to log in with: that is what
    /// the flow gives), so the identifier, 128 random bits, is what lets a client continue it: keep it secret.
    public let flowID: String
    /// The step the flow is at.
    public internal(set) var step: Step
    /// When the flow ends if it is not continued.
    public internal(set) var expiresAt: Date
    /// What the user is about to obtain, once signed in.
    public internal(set) var confirmation: EnrollmentConfirmation?
    /// The new certificate's binding, once completed.
    public internal(set) var bindingID: BindingID?
    /// The code's digest (never the code) between the sign-in and 電子証明書取得.
    var codeDigest: String?
    var issued: StoredCertificate?

    var isCompleted: Bool { step == .completed }
    var owner: String { RemoteCertificateEnrollment.flow }

    func restarted() -> Self {
        var state = self
        state.step = .signIn
        state.confirmation = nil
        state.codeDigest = nil
        return state
    }
    /// None: the user's computer makes a key.
    static let cardSteps: [Step] = []
    /// No step takes card evidence.
    public var evidencePurpose: EvidencePurpose? { nil }

    /// The subject the certificate request must name (商号又は名称 and 氏名), once signed in.
    public var requestSubject: DistinguishedName? {
        confirmation.flatMap { try? EnrollmentRules.subject(of: $0) }
    }

    /// The issued certificate and its CA certificates (nearest first), once completed.
    public var certificate: ReissuedCertificate? {
        guard let decoded = try? issued?.decoded() else { return nil }
        return ReissuedCertificate(certificate: decoded.certificate, chain: decoded.chain)
    }
}

/// The user's 電子証明書取得 on a new computer (seed 004) through a portal's server: the user's computer makes the
/// key and keeps it (it never leaves that computer), sends only a certificate request (CSR) signed with it, and
/// is given back the certificate to install beside its key. The rules are ``CertificateEnrollment``'s — the same
/// code: the passwords and the administrator's code (wrong tries count toward the lock-out), a code used once,
/// one year of validity, a certificate checked (the request's key, valid now, a chain the validator trusts) and
/// bound to the user.
///
/// ```swift
/// let enrollment = RemoteCertificateEnrollment(desk: desk)
/// var state = try await enrollment.start()
/// state = try await enrollment.signIn(
///     contractID: "12345678901", loginID: "tanaka", password: p, confirmation: c, code: code, flow: state.flowID)
/// // The user's computer: a key, and a CSR for state.requestSubject signed with it.
/// state = try await enrollment.obtain(request: csr, flow: state.flowID)     // state.certificate
/// ```
///
/// A lost answer loses nothing: ``state(of:)`` shows the certificate until the flow expires.
public struct RemoteCertificateEnrollment: Sendable {
    /// The flow's name in the store: `certificate-enrollment`.
    public static let flow = "certificate-enrollment"

    /// The registration desk, the contracts and the certification authority.
    public let desk: ReissueDesk
    /// How long a flow waits between steps.
    public var lifetime: TimeInterval

    /// An enrollment desk for a server.
    public init(desk: ReissueDesk, lifetime: TimeInterval = 900) {
        self.desk = desk
        self.lifetime = lifetime
    }

    private typealias Records = RemoteFlowRecords<CertificateEnrollmentState>
    private var records: Records {
        let service = desk.environment.service
        return Records(kind: Self.flow, store: service.store, now: service.now, lifetime: lifetime)
    }
    private var rules: EnrollmentRules { EnrollmentRules(desk: desk) }

    /// A new enrollment at ID、暗証番号を入力.
    public func start() async throws(LifecycleError) -> CertificateEnrollmentState {
        let state = CertificateEnrollmentState(
            flowID: Records.newFlowID(prefix: "E"), step: .signIn, expiresAt: desk.now.addingTimeInterval(lifetime))
        return try await records.save(state, owner: Self.flow, version: 1)
    }

    /// The flow's state.
    public func state(of flowID: String) async throws(LifecycleError) -> CertificateEnrollmentState {
        try await records.load(flowID, owner: Self.flow).state
    }

    /// ID、暗証番号を入力: checks the passwords and the code without using it. Next:
    /// ``CertificateEnrollmentState/Step/confirm``.
    public func signIn(
        contractID: String, loginID: String, password: SecretPIN, confirmation: SecretPIN, code: String,
        flow flowID: String
    ) async throws(LifecycleError) -> CertificateEnrollmentState {
        var (state, version) = try await records.load(flowID, owner: Self.flow)
        try records.require(.signIn, state)
        state.confirmation = try await rules.signIn(
            contractID: contractID, loginID: loginID, password: password, confirmation: confirmation, code: code)
        state.codeDigest = EnrollmentGrant.digest(ofCode: code)
        state.step = .confirm
        return try await records.save(state, owner: Self.flow, version: version + 1)
    }

    /// 電子証明書取得: takes the code, checks the request (signed by its key, for
    /// ``CertificateEnrollmentState/requestSubject``), has the certification authority issue, checks and binds
    /// the certificate. Next: ``CertificateEnrollmentState/Step/completed``.
    ///
    /// When the request is refused or the authority fails, the code stays usable and nothing is bound.
    public func obtain(request: CertificateSigningRequest, flow flowID: String) async throws(LifecycleError)
        -> CertificateEnrollmentState
    {
        var (state, version) = try await records.load(flowID, owner: Self.flow)
        try records.require(.confirm, state)
        guard let confirmation = state.confirmation, let digest = state.codeDigest else {
            throw Records.incomplete("what the user signed in for")
        }
        try EnrollmentRules.check(request, for: confirmation)
        let rules = rules
        let grant = try await rules.takeCode(digest: digest, for: confirmation)
        let issued: ReissuedCertificate
        let binding: BindingID
        let date = desk.now
        do {
            issued = try await rules.issue(request, for: confirmation, at: date)
            binding = try await rules.bind(issued.certificate, for: confirmation, at: date)
        } catch {
            await rules.giveBack(grant)
            throw error
        }
        state.codeDigest = nil
        state.bindingID = binding
        let fingerprint = (try? CertificateBinding.fingerprint(of: issued.certificate)) ?? ""
        state.issued = try StoredCertificate(
            certificate: issued.certificate, chain: issued.chain, fingerprint: fingerprint)
        state.step = .completed
        return try await records.save(state, owner: Self.flow, version: version + 1)
    }

    /// 戻る: back to ID、暗証番号を入力; the code is not used.
    public func back(flow flowID: String) async throws(LifecycleError) -> CertificateEnrollmentState {
        let (state, version) = try await records.load(flowID, owner: Self.flow)
        try records.require(.confirm, state)
        return try await records.restart(state, version: version)
    }
}
