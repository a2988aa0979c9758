public import CardCredentials
public import Foundation
public import X509

extension LoginChallenge {
    /// The bytes the user signs: a fixed label, the challenge's identifier, its nonce and its expiry, so that a
    /// signature made for a login can never pass for the signature of a document.
    public var signedBytes: [UInt8] {
        let text =
            "ProcurementIdentity certificate login\nchallenge: \(id)\nnonce: "
            + nonce.map { String(format: "%02x", $0) }.joined()
            + "\nexpires: \(Int(expiresAt.timeIntervalSince1970))\n"
        return Array(text.utf8)
    }

    /// Signs the challenge with a card or file key and returns the answer to send to the portal.
    ///
    /// - Parameters:
    ///   - signer: The key (`CardKey` after its PIN was verified, or `FileCredential`).
    ///   - algorithm: The algorithm; the signer's preferred one by default.
    public func answer(with signer: any Signer, algorithm: SigningAlgorithm? = nil) async throws -> LoginAnswer {
        let algorithm = algorithm ?? signer.defaultAlgorithm
        let signature = try await signer.sign(signedBytes, algorithm: algorithm)
        return LoginAnswer(
            challengeID: id, certificate: signer.certificate, intermediates: signer.chain, signature: signature,
            algorithm: algorithm)
    }
}

/// The answer to a login challenge: the certificate, and the signature over ``LoginChallenge/signedBytes``.
public struct LoginAnswer: Sendable, Hashable {
    /// The challenge answered.
    public var challengeID: String
    /// The certificate whose key signed.
    public var certificate: Certificate
    /// Intermediate CA certificates the client has (may be empty).
    public var intermediates: [Certificate]
    /// The signature.
    public var signature: [UInt8]
    /// The algorithm of the signature.
    public var algorithm: SigningAlgorithm

    /// An answer.
    public init(
        challengeID: String, certificate: Certificate, intermediates: [Certificate] = [], signature: [UInt8],
        algorithm: SigningAlgorithm
    ) {
        self.challengeID = challengeID
        self.certificate = certificate
        self.intermediates = intermediates
        self.signature = signature
        self.algorithm = algorithm
    }
}

/// A user logged in with a certificate.
public struct LoginSession: Sendable, Hashable {
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

    /// The actor for changes made in this session.
    public var actor: RegistrationActor { .user(userID, binding: bindingID) }
}

/// Certificate login: the portal issues a single-use challenge that expires; the user signs it with the card or
/// file key; the portal checks the signature, that the certificate is bound to an active user and is the
/// current one (a superseded, revoked, removed or expired certificate is refused), and its chain and revocation.
///
/// ```swift
/// let login = CertificateLogin(store: store, validator: validator)
/// let challenge = try await login.issueChallenge()
/// let answer = try await challenge.answer(with: cardKey)     // on the user's side
/// let session = try await login.login(answer)
/// ```
public struct CertificateLogin: Sendable {
    /// The store of registrations and challenges.
    public let store: any RegistrationStore
    /// Checks chains and revocation.
    public var validator: CertificateValidator
    /// How long a challenge is accepted.
    public var challengeLifetime: TimeInterval
    /// The key usage the certificate must allow.
    public var purpose: CertificatePurpose
    /// The clock.
    public var now: @Sendable () -> Date

    /// A login desk.
    public init(
        store: any RegistrationStore, validator: CertificateValidator, challengeLifetime: TimeInterval = 120,
        purpose: CertificatePurpose = .any, now: @escaping @Sendable () -> Date = { Date() }
    ) {
        self.store = store
        self.validator = validator
        self.challengeLifetime = challengeLifetime
        self.purpose = purpose
        self.now = now
    }

    /// Issues a new challenge (32 random bytes), kept by the store until it is answered or expires.
    public func issueChallenge() async throws(RegistrationError) -> LoginChallenge {
        var generator = SystemRandomNumberGenerator()
        let nonce = (0..<32).map { _ in UInt8.random(in: 0...255, using: &generator) }
        let id = (0..<16).map { _ in String(format: "%02x", UInt8.random(in: 0...255, using: &generator)) }.joined()
        let date = now()
        let challenge = LoginChallenge(
            id: id, nonce: nonce, issuedAt: date, expiresAt: date.addingTimeInterval(challengeLifetime))
        _ = try await store.purgeChallenges(expiredBefore: date)
        try await store.insert(challenge)
        return challenge
    }

    /// Checks an answer and opens a session. The challenge is used up whether the login succeeds or not.
    public func login(_ answer: LoginAnswer) async throws(RegistrationError) -> LoginSession {
        guard let challenge = try await store.takeChallenge(answer.challengeID) else { throw .challengeUnknown }
        let date = now()
        guard date <= challenge.expiresAt else { throw .challengeExpired }
        guard
            answer.certificate.publicKey.isValidSignature(
                answer.signature, for: challenge.signedBytes,
                signatureAlgorithm: answer.algorithm.certificateSignatureAlgorithm)
        else { throw .signatureInvalid }

        let fingerprint = try CertificateBinding.fingerprint(of: answer.certificate)
        guard let registration = try await store.registration(boundTo: fingerprint),
            let binding = registration.binding(fingerprint: fingerprint)
        else { throw .certificateNotRegistered }
        let status = binding.status(at: date)
        guard status == .active else { throw .certificateNotActive(status) }
        let user = try registration.user(binding.userID)
        guard user.status == .active else { throw .userDeleted(user.id) }

        var validator = self.validator
        validator.intermediates += answer.intermediates
        let result = await validator.validate(answer.certificate, for: purpose, at: date)
        guard result.isValid else { throw .certificateUntrusted(result.description) }

        return LoginSession(
            businessID: registration.id, businessName: registration.business.name, userID: user.id,
            userName: user.information.name, role: user.role, bindingID: binding.id, authenticatedAt: date)
    }
}
