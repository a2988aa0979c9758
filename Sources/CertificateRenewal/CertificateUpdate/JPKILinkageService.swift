public import X509

/// Why JPKI (公的個人認証サービス) revoked a signing certificate, as its revocation reason codes say.
public enum JPKIRevocationCause: String, Sendable, Hashable, CaseIterable, CustomStringConvertible {
    /// Revoked for a renewal (superseded): a new signing certificate replaced it, and the portal links the two.
    case superseded
    /// Revoked because the holder's name, address, date of birth or sex changed (affiliationChanged): the portal
    /// does not link the new certificate; the holder registers anew.
    case affiliationChanged

    /// `superseded` or `affiliationChanged`, with the Japanese term.
    public var description: String {
        switch self {
        case .superseded: "superseded (更新による失効)"
        case .affiliationChanged: "affiliationChanged (記載事項の変更による失効)"
        }
    }
}

/// What JPKI says of a signing certificate: why it was revoked, and the certificate that replaced it.
public struct JPKILinkage: Sendable, Hashable {
    /// Why the old certificate was revoked.
    public var cause: JPKIRevocationCause
    /// The new signing certificate (署名用電子証明書) issued in its place.
    public var newCertificate: Certificate

    /// A linkage.
    public init(cause: JPKIRevocationCause, newCertificate: Certificate) {
        self.cause = cause
        self.newCertificate = newCertificate
    }
}

/// The relying party's link to JPKI (公的個人認証サービス, J-LIS) for the lifecycle flows: which signing
/// certificate replaced an old one, and which signing certificate shares a card with an authentication
/// certificate.
///
/// The portal asks it only with the user's consent (電子証明書更新: 旧マイナンバーカード情報を公的個人認証サービスより
/// 取得し、更新を行います). Certificates are named by their serial number and issuer, as JPKI names them.
public protocol JPKILinkageService: Sendable {
    /// The certificate that replaced the signing certificate `serialNumber` of `issuer`, and why the old one was
    /// revoked; nil when JPKI knows no replacement (the certificate was not revoked, or no new one was issued).
    ///
    /// - Throws: Any error of the link; the flows report it as ``LifecycleError/jpkiLinkageUnavailable(reason:)``.
    func successor(ofSigningCertificate serialNumber: Certificate.SerialNumber, issuer: DistinguishedName)
        async throws -> JPKILinkage?

    /// The serial number and issuer of the signing certificate on the same card as the authentication
    /// certificate `serialNumber` of `issuer` (紐付け); nil when JPKI does not know the pair.
    ///
    /// - Throws: Any error of the link; the flows report it as ``LifecycleError/jpkiLinkageUnavailable(reason:)``.
    func signingCertificate(
        pairedWithAuthenticationCertificate serialNumber: Certificate.SerialNumber, issuer: DistinguishedName
    ) async throws -> (serialNumber: Certificate.SerialNumber, issuer: DistinguishedName)?
}
