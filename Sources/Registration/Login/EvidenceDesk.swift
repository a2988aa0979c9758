public import CardCredentials
public import Foundation

/// A portal's desk for card evidence: it issues a challenge for a card step and, when the evidence comes back,
/// takes the challenge out of the store (once: a replay finds nothing) and checks the evidence for the portal's
/// own origin, the step, the owner, the expiry, the signature and the certificate.
///
/// The same desk serves a program that reads the card itself (its origin is `PortalOrigin.inProcess`) and a
/// server that receives evidence from a page and its card agent (its origin is the one it serves, from its
/// configuration):
///
/// ```swift
/// let desk = EvidenceDesk(store: store, validator: validator, origin: try PortalOrigin("https://portal.example.jp"))
/// let challenge = try await desk.issue(for: .login)            // sent to the page, signed by the card agent
/// let verified = try await desk.verify(evidence, for: .login)  // VerifiedEvidence: whose key, which step
/// ```
public struct EvidenceDesk: Sendable {
    /// The store of challenges.
    public let store: any RegistrationStore
    /// Checks chains, validity and revocation.
    public var validator: CertificateValidator
    /// The portal's origin: evidence signed for any other is refused.
    public var origin: PortalOrigin
    /// How long a challenge is accepted.
    public var challengeLifetime: TimeInterval
    /// The key usage certificates must allow (`CertificatePurpose.authentication`: digitalSignature).
    public var keyPurpose: CertificatePurpose
    /// The clock.
    public var now: @Sendable () -> Date

    /// A desk.
    public init(
        store: any RegistrationStore, validator: CertificateValidator, origin: PortalOrigin = .inProcess,
        challengeLifetime: TimeInterval = 120, keyPurpose: CertificatePurpose = .authentication,
        now: @escaping @Sendable () -> Date = { Date() }
    ) {
        self.store = store
        self.validator = validator
        self.origin = origin
        self.challengeLifetime = challengeLifetime
        self.keyPurpose = keyPurpose
        self.now = now
    }

    /// Issues a challenge for `purpose`, kept by the store until it is answered or expires. Expired challenges
    /// are purged on the way.
    ///
    /// - Parameters:
    ///   - purpose: The flow and step the challenge is for.
    ///   - owner: The session or flow that alone may answer it; nil for a challenge anyone may answer (a login,
    ///     before there is a session).
    public func issue(for purpose: EvidencePurpose, owner: String? = nil) async throws(RegistrationError)
        -> EvidenceChallenge
    {
        let date = now()
        let challenge = EvidenceChallenge.random(for: purpose, expiresAt: date.addingTimeInterval(challengeLifetime))
        _ = try await store.purgeChallenges(expiredBefore: date)
        try await store.insert(IssuedChallenge(challenge, owner: owner, issuedAt: date))
        return challenge
    }

    /// Takes the evidence's challenge out of the store and checks the evidence (see
    /// `CardEvidence.verify(_:origin:purpose:at:validator:keyPurpose:)` for the order of the checks). The
    /// challenge is used up whether the evidence passes or not.
    ///
    /// - Parameters:
    ///   - evidence: What the client sent.
    ///   - purpose: The flow and step the portal is at (never taken from the evidence).
    ///   - owner: The session or flow the evidence arrives in; it must be the one the challenge was issued to.
    /// - Throws: ``RegistrationError/evidenceRefused(_:)`` with the reason's code; a store's failure.
    public func verify(_ evidence: CardEvidence, for purpose: EvidencePurpose, owner: String? = nil)
        async throws(RegistrationError) -> VerifiedEvidence
    {
        let issued = try await take(evidence, owner: owner)
        do {
            return try await evidence.verify(
                issued.challenge, origin: origin, purpose: purpose, at: now(), validator: validator,
                keyPurpose: keyPurpose)
        } catch {
            throw .evidenceRefused(error)
        }
    }

    /// Takes the evidence's challenge out of the store and checks everything but the certificate (see
    /// `CardEvidence.verifyPossession(_:origin:purpose:at:)`): for a flow whose rules judge the certificate
    /// themselves, in their own words (an expired registered certificate that a certificate update accepts, a
    /// revoked new card that a renewal names as such). The caller must check the certificate before trusting it.
    ///
    /// - Parameters:
    ///   - evidence: What the client sent.
    ///   - purpose: The flow and step the portal is at (never taken from the evidence).
    ///   - owner: The session or flow the evidence arrives in; it must be the one the challenge was issued to.
    /// - Throws: ``RegistrationError/evidenceRefused(_:)`` with the reason's code; a store's failure.
    public func verifyPossession(_ evidence: CardEvidence, for purpose: EvidencePurpose, owner: String? = nil)
        async throws(RegistrationError) -> EvidencePossession
    {
        let issued = try await take(evidence, owner: owner)
        do {
            return try evidence.verifyPossession(issued.challenge, origin: origin, purpose: purpose, at: now())
        } catch {
            throw .evidenceRefused(error)
        }
    }

    /// The evidence's challenge, taken out of the store: unknown or used, or issued to another owner, refused.
    private func take(_ evidence: CardEvidence, owner: String?) async throws(RegistrationError) -> IssuedChallenge {
        guard let issued = try await store.takeChallenge(evidence.challengeID) else {
            throw .evidenceRefused(
                EvidenceError(
                    .challengeUnknown,
                    "the challenge is unknown or was already used (a signature is accepted once); ask for a new "
                        + "challenge and sign it"))
        }
        guard issued.owner == owner else {
            throw .evidenceRefused(
                EvidenceError(
                    .challengeNotYours, "the challenge was issued to another session or flow; ask for one in this one"))
        }
        return issued
    }
}
