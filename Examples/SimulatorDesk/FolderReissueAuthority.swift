public import CertificateRenewal
import Crypto
public import Foundation
public import X509

// The reference certification authority of the reissue example, shared by `portal reissue` and
// `portal-server --reissue-ca`. A real portal's CA issues through its own interface instead.

/// The reference certification authority of the example: a P-256 key and self-signed root kept in a folder; it
/// issues for any CSR whose signature verifies, and records revoked serial numbers. For the example only.
public struct FolderReissueAuthority: ReissueCertificateAuthority {
    /// The folder: key.pem (mode 0600), root.pem, revoked.txt.
    public let folder: URL
    let key: P256.Signing.PrivateKey
    /// The root certificate: the trust anchor of the certificates it issues.
    public let root: Certificate

    /// The authority in `path`, made there (a new key and root) on first use.
    public init(folder path: String) throws {
        folder = URL(fileURLWithPath: path)
        let keyURL = folder.appending(path: "key.pem")
        let rootURL = folder.appending(path: "root.pem")
        if FileManager.default.fileExists(atPath: keyURL.path) {
            key = try P256.Signing.PrivateKey(pemRepresentation: String(contentsOf: keyURL, encoding: .utf8))
            root = try Certificate(pemEncoded: String(contentsOf: rootURL, encoding: .utf8))
            return
        }
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        key = P256.Signing.PrivateKey()
        let name = try DistinguishedName {
            CountryName("JP")
            OrganizationName("Portal Example Reissue CA")
            CommonName("Portal Example Reissue Root")
        }
        let publicKey = Certificate.PublicKey(key.publicKey)
        let now = Date()
        root = try Certificate(
            version: .v3, serialNumber: Certificate.SerialNumber(), publicKey: publicKey,
            notValidBefore: now.addingTimeInterval(-300), notValidAfter: now.addingTimeInterval(10 * 365 * 86400),
            issuer: name, subject: name, signatureAlgorithm: .ecdsaWithSHA256,
            extensions: try Certificate.Extensions {
                Critical(BasicConstraints.isCertificateAuthority(maxPathLength: 0))
                Critical(KeyUsage(keyCertSign: true, cRLSign: true))
                SubjectKeyIdentifier(hash: publicKey)
            }, issuerPrivateKey: Certificate.PrivateKey(key))
        try Data(key.pemRepresentation.utf8).write(to: keyURL)
        try FileManager.default.setAttributes([.posixPermissions: 0o600], ofItemAtPath: keyURL.path)
        try Data(root.serializeAsPEM().pemString.utf8).write(to: rootURL)
    }

    /// Issues for a request whose signature verifies, for its subject and key.
    public func issue(_ request: CertificateSigningRequest, notValidBefore: Date, notValidAfter: Date) async throws
        -> ReissuedCertificate
    {
        guard request.publicKey.isValidSignature(request.signature, for: request) else {
            throw LifecycleError.certificateRequestRefused(reason: "the request's signature does not verify")
        }
        let certificate = try Certificate(
            version: .v3, serialNumber: Certificate.SerialNumber(), publicKey: request.publicKey,
            notValidBefore: notValidBefore, notValidAfter: notValidAfter, issuer: root.subject,
            subject: request.subject, signatureAlgorithm: .ecdsaWithSHA256,
            extensions: try Certificate.Extensions {
                Critical(BasicConstraints.notCertificateAuthority)
                Critical(KeyUsage(digitalSignature: true))
                AuthorityKeyIdentifier(keyIdentifier: SubjectKeyIdentifier(hash: root.publicKey).keyIdentifier)
            }, issuerPrivateKey: Certificate.PrivateKey(key))
        return ReissuedCertificate(certificate: certificate, chain: [root])
    }

    /// Appends the serial number to revoked.txt.
    public func revoke(_ certificate: Certificate, at date: Date) async throws {
        let line = "\(certificate.serialNumber) \(ISO8601DateFormatter().string(from: date))\n"
        let url = folder.appending(path: "revoked.txt")
        if let handle = try? FileHandle(forWritingTo: url) {
            defer { try? handle.close() }
            try handle.seekToEnd()
            try handle.write(contentsOf: Data(line.utf8))
        } else {
            try Data(line.utf8).write(to: url)
        }
    }
}
