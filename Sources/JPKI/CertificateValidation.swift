public import CardCredentials
public import Foundation
public import X509

extension MyNumberCard {
    /// Validates a certificate read from a My Number card with CardCredentials' `CertificateValidator`: a chain
    /// to the trust anchors, validity, key usage for the purpose, and revocation lists.
    ///
    /// ```swift
    /// let certificate = try await card.certificate(.authentication)
    /// let chain = try await MyNumberCard.validate(certificate, for: .authentication)  // J-LIS roots
    /// ```
    ///
    /// - Parameters:
    ///   - certificate: The certificate.
    ///   - purpose: `CertificatePurpose/signing` for the signing certificate, `CertificatePurpose/authentication`
    ///     for the user-authentication one.
    ///   - trustAnchors: The roots to trust; `nil` (the default) takes J-LIS' roots for the purpose
    ///     (`JPKITrustAnchors`).
    ///   - intermediates: CA certificates that may complete the chain (the CA certificate read from the card).
    ///   - crls: Revocation lists (JPKI's 失効情報) to consult.
    ///   - revocation: How the lists are used.
    ///   - time: The validation time.
    /// - Returns: The chain from the certificate to its trust anchor.
    /// - Throws: ``JPKIError/certificateExpired(notAfter:subject:)``,
    ///   ``JPKIError/certificateNotYetValid(notBefore:subject:)``,
    ///   ``JPKIError/certificateRevoked(reason:date:subject:)``, or ``JPKIError/certificateRejected(_:)`` for any
    ///   other rule.
    @discardableResult
    public static func validate(
        _ certificate: Certificate, for purpose: CertificatePurpose, trustAnchors: [Certificate]? = nil,
        intermediates: [Certificate] = [], crls: [CertificateRevocationList] = [],
        revocation: RevocationCheck = .whenAvailable, at time: Date = Date()
    ) async throws(JPKIError) -> [Certificate] {
        let anchors: [Certificate]
        if let trustAnchors {
            anchors = trustAnchors
        } else {
            switch purpose {
            case .signing: anchors = JPKITrustAnchors.signing
            case .authentication: anchors = JPKITrustAnchors.authentication
            case .any: anchors = JPKITrustAnchors.all
            }
        }
        let validator = CertificateValidator(
            trustAnchors: anchors, intermediates: intermediates, crls: crls, revocation: revocation)
        let result = await validator.validate(certificate, for: purpose, at: time)
        switch result {
        case .valid(let chain):
            return chain
        case .expired(let notAfter, let subject):
            throw .certificateExpired(notAfter: notAfter, subject: subject)
        case .notYetValid(let notBefore, let subject):
            throw .certificateNotYetValid(notBefore: notBefore, subject: subject)
        case .revoked(let reason, let date, let subject):
            throw .certificateRevoked(reason: reason, date: date, subject: subject)
        default:
            throw .certificateRejected(result)
        }
    }
}
