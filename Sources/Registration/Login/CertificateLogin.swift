public import CardCredentials
public import Foundation
import X509

/// A user logged in with a certificate.
public struct LoginSession: Sendable, Hashable, Codable {
    /// The business.
    public var businessID: BusinessID
    /// 商号又は名称.
    public var businessName: String
    /// The user.
    public var userID: UserID
    /// The user's name (氏名).
    public var userName: String
    /// 代表者 or 代理人.
    public var role: Role
    /// The binding of the certificate used.
    public var bindingID: BindingID
    /// When the login happened.
    public var authenticatedAt: Date

    /// A session from its parts (a server reading one back, a test).
    public init(
        businessID: BusinessID, businessName: String, userID: UserID, userName: String, role: Role,
        bindingID: BindingID, authenticatedAt: Date
    ) {
        self.businessID = businessID
        self.businessName = businessName
        self.userID = userID
        self.userName = userName
        self.role = role
        self.bindingID = bindingID
        self.authenticatedAt = authenticatedAt
    }

    /// The actor for changes made in this session.
    public var actor: RegistrationActor { .user(userID, binding: bindingID) }
}

/// Certificate login: the portal issues a single-use challenge that expires; the user's card (or file key) signs
/// it for the portal's origin; the portal checks the evidence (``EvidenceDesk``), then that the certificate is
/// bound to an active user and is the current one (a superseded, revoked, removed or expired certificate is
/// refused).
///
/// ```swift
/// let login = CertificateLogin(store: store, validator: validator)      // origin: .inProcess
/// let challenge = try await login.issueChallenge()
/// let evidence = try await challenge.sign(for: login.origin, with: cardKey)   // on the user's side
/// let session = try await login.login(evidence)
/// ```
public struct CertificateLogin: Sendable {
    /// The desk that issues and checks the challenges.
    public var desk: EvidenceDesk

    /// The store of registrations and challenges.
    public var store: any RegistrationStore { desk.store }
    /// The portal's origin.
    public var origin: PortalOrigin { desk.origin }

    /// A login desk.
    ///
    /// - Parameters:
    ///   - store: The registrations and the challenges.
    ///   - validator: Chains, validity and revocation.
    ///   - origin: The portal's origin; `PortalOrigin.inProcess` for a program that reads the card itself.
    ///   - challengeLifetime: How long a challenge is accepted.
    ///   - purpose: The key usage the certificate must allow.
    ///   - now: The clock.
    public init(
        store: any RegistrationStore, validator: CertificateValidator, origin: PortalOrigin = .inProcess,
        challengeLifetime: TimeInterval = 120, purpose: CertificatePurpose = .authentication,
        now: @escaping @Sendable () -> Date = { Date() }
    ) {
        desk = EvidenceDesk(
            store: store, validator: validator, origin: origin, challengeLifetime: challengeLifetime,
            keyPurpose: purpose, now: now)
    }

    /// Issues a new login challenge (`EvidencePurpose.login`), kept by the store until it is answered or
    /// expires.
    public func issueChallenge() async throws(RegistrationError) -> EvidenceChallenge {
        try await desk.issue(for: .login)
    }

    /// Checks the evidence and opens a session. The challenge is used up whether the login succeeds or not.
    public func login(_ evidence: CardEvidence) async throws(RegistrationError) -> LoginSession {
        let verified: VerifiedEvidence
        do {
            verified = try await desk.verify(evidence, for: .login)
        } catch .evidenceRefused(let refusal) where refusal.code == .certificateUntrusted {
            // The signature was good (it is checked before the certificate): a certificate that expired or was
            // superseded since it was registered gets the registration's own, more useful, answer.
            throw try await Self.bindingRefusal(evidence.certificate, in: store, at: desk.now())
                ?? .evidenceRefused(refusal)
        }
        let date = verified.verifiedAt
        guard let holder = try await store.holder(ofCertificate: verified.fingerprint) else {
            throw .certificateNotRegistered
        }
        let status = holder.binding.status(at: date)
        guard status == .active else { throw .certificateNotActive(status) }
        let user = holder.user
        guard user.status == .active else { throw .userDeleted(user.id) }
        return LoginSession(
            businessID: holder.businessID, businessName: holder.businessName, userID: user.id,
            userName: user.information.name, role: user.role, bindingID: holder.binding.id, authenticatedAt: date)
    }

    /// ``RegistrationError/certificateNotActive(_:)`` when the certificate is registered but its binding is no
    /// longer active; nil otherwise.
    private static func bindingRefusal(_ certificate: Certificate, in store: any RegistrationStore, at date: Date)
        async throws(RegistrationError) -> RegistrationError?
    {
        let fingerprint = try CertificateBinding.fingerprint(of: certificate)
        guard let binding = try await store.holder(ofCertificate: fingerprint)?.binding else { return nil }
        let status = binding.status(at: date)
        return status == .active ? nil : .certificateNotActive(status)
    }
}
