public import Foundation
public import X509

/// A certificate the certification authority issued for a request, with the issuers the client keeps beside it.
public struct ReissuedCertificate: Sendable, Hashable {
    /// The new certificate.
    public var certificate: Certificate
    /// Its issuers, nearest first (may be empty).
    public var chain: [Certificate]

    /// A reissued certificate.
    public init(certificate: Certificate, chain: [Certificate] = []) {
        self.certificate = certificate
        self.chain = chain
    }
}

/// The certification authority (認証局) that reissues users' file certificates: it revokes a user's current
/// certificate when the administrator reissues, and signs the request (CSR) the user's new computer makes.
///
/// A conforming type checks the request's signature itself (`CertificateSigningRequest` is signed with the new
/// key); the flow checks it too before sending and checks what comes back (the key, the validity).
public protocol ReissueCertificateAuthority: Sendable {
    /// Issues a certificate for the request's key and subject, valid from `notValidBefore` to `notValidAfter`.
    ///
    /// - Throws: ``LifecycleError/certificateRequestRefused(reason:)`` when the request is refused (bad
    ///   signature, a subject it will not certify); another error when the authority cannot be reached.
    func issue(_ request: CertificateSigningRequest, notValidBefore: Date, notValidAfter: Date) async throws
        -> ReissuedCertificate
    /// Revokes a certificate (失効), as for a lost computer; revoking it twice is not an error.
    func revoke(_ certificate: Certificate, at date: Date) async throws
}
