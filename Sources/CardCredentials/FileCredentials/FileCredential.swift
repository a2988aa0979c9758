import COpenSSL
public import SwiftASN1
public import X509

#if canImport(FoundationEssentials)
    public import FoundationEssentials
#else
    public import Foundation
#endif

/// A file-type credential (ファイル形式の証明書): a certificate, its chain and its private key, read from a PKCS#12
/// file (.p12, .pfx) or a PEM key, with the key held inside OpenSSL.
///
/// The private key never leaves this type: there is no accessor for its bytes, it lives in an OpenSSL `EVP_PKEY`
/// freed when the last copy of the credential goes away, and the only way out is a new password-protected
/// PKCS#12 file (``pkcs12(password:encryption:friendlyName:)``).
///
/// Both the AES-256 files of current tools and the legacy files of older CA software (certificates under
/// `PBE-SHA1-RC2-40`, keys under `PBE-SHA1-3DES`) are read; OpenSSL 3's "legacy" provider is loaded for RC2.
///
/// ```swift
/// let password = try SecretPIN(typed, policy: .password())
/// let credential = try FileCredential(pkcs12: fileBytes, password: password)
/// let signature = try await credential.sign(message, algorithm: .rsaPKCS1SHA256)
/// ```
public struct FileCredential: Signer, CustomPrivateKey {
    /// The certificate of the key.
    public let certificate: Certificate
    /// The other certificates the file carried (issuers), in the file's order.
    public let chain: [Certificate]
    /// The private key, inside OpenSSL.
    let key: OpenSSLKey

    /// Opens a PKCS#12 file.
    ///
    /// The file's integrity check (MAC) is verified with the password first, so a wrong password is told apart
    /// from a damaged file. The password is copied only into a buffer that is wiped right after use.
    ///
    /// - Parameters:
    ///   - bytes: The file's DER bytes.
    ///   - password: The file's password (for example made with ``PINPolicy/password(length:allowedCharacters:)``).
    /// - Throws: ``CardCredentialsError/wrongPassword``, ``CardCredentialsError/malformedPKCS12(_:)`` for damaged
    ///   or truncated bytes or a file without a key and certificate, ``CardCredentialsError/openSSLFailure(operation:reason:)``
    ///   when OpenSSL cannot decrypt (for example the legacy provider is missing).
    public init(pkcs12 bytes: [UInt8], password: SecretPIN) throws(CardCredentialsError) {
        let parsed = try Self.parsePKCS12(bytes, password: password)
        self.key = parsed.key
        self.certificate = parsed.certificate
        self.chain = parsed.chain
    }

    /// Pairs an unencrypted private key in PEM (`PRIVATE KEY`, `RSA PRIVATE KEY`, `EC PRIVATE KEY`) with its
    /// certificate.
    ///
    /// The caller's `String` cannot be wiped by this type; keep it short-lived.
    ///
    /// - Throws: ``CardCredentialsError/malformedPrivateKey(_:)``, ``CardCredentialsError/keyDoesNotMatchCertificate``.
    public init(
        privateKeyPEM pem: String, certificate: Certificate, chain: [Certificate] = []
    ) throws(CardCredentialsError) {
        let document: PEMDocument
        do {
            document = try PEMDocument(pemString: pem)
        } catch {
            throw .malformedPrivateKey("the text is not one PEM block")
        }
        guard ["PRIVATE KEY", "RSA PRIVATE KEY", "EC PRIVATE KEY"].contains(document.discriminator)
        else {
            throw .malformedPrivateKey(
                "a PEM \(document.discriminator) block is not an unencrypted private key")
        }
        try self.init(privateKeyDER: document.derBytes, certificate: certificate, chain: chain)
    }

    /// Pairs an unencrypted DER private key (PKCS#8, PKCS#1 for RSA or SEC 1 for EC) with its certificate,
    /// for example a key made with swift-crypto (`_RSA.Signing.PrivateKey.derRepresentation`).
    ///
    /// The caller's array cannot be wiped by this type; wipe it after the call.
    ///
    /// - Throws: ``CardCredentialsError/malformedPrivateKey(_:)``, ``CardCredentialsError/keyDoesNotMatchCertificate``.
    public init(
        privateKeyDER der: [UInt8], certificate: Certificate, chain: [Certificate] = []
    ) throws(CardCredentialsError) {
        let key = try OpenSSLKey.load(der: der)
        let x509 = try OpenSSLCertificate(certificate)
        guard key.matches(x509) else { throw .keyDoesNotMatchCertificate }
        guard !key.supportedAlgorithms.isEmpty else {
            throw .malformedPrivateKey("only RSA and EC keys are supported")
        }
        self.key = key
        self.certificate = certificate
        self.chain = chain
    }

    // MARK: Signer

    /// RSA PKCS#1 v1.5 (SHA-256/384/512) for RSA keys; ECDSA (SHA-256/384) for EC keys.
    public var supportedAlgorithms: [SigningAlgorithm] { key.supportedAlgorithms }

    /// Hashes and signs `data` with the file's key.
    ///
    /// - Throws: ``CardCredentialsError/unsupportedSignatureAlgorithm(_:)``,
    ///   ``CardCredentialsError/openSSLFailure(operation:reason:)``.
    public func sign(_ data: [UInt8], algorithm: SigningAlgorithm) async throws -> [UInt8] {
        try signNow(data, algorithm: algorithm)
    }

    /// The synchronous signing behind ``sign(_:algorithm:)``.
    func signNow(_ data: [UInt8], algorithm: SigningAlgorithm) throws(CardCredentialsError) -> [UInt8] {
        try requireSupported(algorithm)
        return try key.sign(data, digest: algorithm.digest)
    }

    // MARK: CustomPrivateKey

    /// The certificate's public key.
    public var publicKey: Certificate.PublicKey { certificate.publicKey }

    /// `sha256WithRSAEncryption` for RSA keys, `ecdsaWithSHA256` for EC keys.
    public var defaultSignatureAlgorithm: Certificate.SignatureAlgorithm {
        defaultAlgorithm.certificateSignatureAlgorithm
    }

    /// The swift-certificates names of ``supportedAlgorithms``.
    public var supportedSignatureAlgorithms: [Certificate.SignatureAlgorithm] {
        supportedAlgorithms.map(\.certificateSignatureAlgorithm)
    }

    /// Signs for swift-certificates (certificates, CSRs, OCSP) with the file's key.
    public func signSynchronously(
        bytes: some DataProtocol, signatureAlgorithm: Certificate.SignatureAlgorithm
    ) throws -> Certificate.Signature {
        guard let algorithm = SigningAlgorithm(signatureAlgorithm) else {
            throw CardCredentialsError.unsupportedSignatureAlgorithm("\(signatureAlgorithm)")
        }
        let signature = try signNow(Array(bytes), algorithm: algorithm)
        return try Certificate.Signature(
            signatureAlgorithm: signatureAlgorithm, signatureBytes: ASN1BitString(bytes: signature[...]))
    }

    /// The PEM label a private key would have; this key is never serialised in the clear.
    public static var defaultPEMDiscriminator: String { "PRIVATE KEY" }

    /// Always throws ``CardCredentialsError/privateKeyNotExportable``; export with
    /// ``pkcs12(password:encryption:friendlyName:)``.
    public func serialize(into coder: inout DER.Serializer) throws {
        throw CardCredentialsError.privateKeyNotExportable
    }

    /// Two credentials are equal when they share the same key object and certificate.
    public static func == (lhs: FileCredential, rhs: FileCredential) -> Bool {
        lhs.key === rhs.key && lhs.certificate == rhs.certificate
    }

    /// Hashes the certificate and the key object's identity.
    public func hash(into hasher: inout Hasher) {
        hasher.combine(certificate)
        hasher.combine(ObjectIdentifier(key))
    }
}
