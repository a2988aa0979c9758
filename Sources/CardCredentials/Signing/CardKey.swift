public import SwiftASN1
public import X509
import _CryptoExtras

#if canImport(FoundationEssentials)
    public import FoundationEssentials
#else
    public import Foundation
#endif

/// A private key on an IC card: signs through a ``CardSigningOperation`` that the card module provides.
///
/// `CardKey` hashes the data, builds the DER `DigestInfo` (RFC 8017 §9.2), lets the card sign it, and checks the
/// returned signature against the certificate's public key before handing it out, so a wrong card or key is
/// caught here rather than by the recipient.
///
/// It is both a ``Signer`` (for CMS) and a swift-certificates `CustomPrivateKey`, so CSRs and certificates can
/// be signed by the card. A card signs asynchronously only: use swift-certificates' `async` initialisers.
///
/// ```swift
/// let key = try CardKey(certificate: signingCertificate, operation: jpkiSigning)
/// let csr = try await CertificateSigningRequest(
///     version: .v1, subject: subject, asyncPrivateKey: Certificate.PrivateKey(key),
///     attributes: CertificateSigningRequest.Attributes(), signatureAlgorithm: .sha256WithRSAEncryption)
/// ```
public struct CardKey: Signer, CustomPrivateKey {
    /// The certificate of the card's key.
    public let certificate: Certificate
    /// The issuing certificates, issuer first, as far as known.
    public let chain: [Certificate]
    /// The card operation that signs.
    let operation: any CardSigningOperation

    /// Makes a card-backed key for `certificate`.
    ///
    /// - Parameters:
    ///   - certificate: The certificate read from the card; its public key must be RSA.
    ///   - chain: Issuing certificates, issuer first (may be empty).
    ///   - operation: The card module's signing operation.
    /// - Throws: ``CardCredentialsError/unsupportedSignatureAlgorithm(_:)`` when the certificate's key is not RSA.
    public init(
        certificate: Certificate, chain: [Certificate] = [], operation: any CardSigningOperation
    ) throws(CardCredentialsError) {
        guard _RSA.Signing.PublicKey(certificate.publicKey) != nil else {
            throw .unsupportedSignatureAlgorithm("a card key signs with RSA PKCS#1 v1.5 only")
        }
        self.certificate = certificate
        self.chain = chain
        self.operation = operation
    }

    /// RSA PKCS#1 v1.5 with SHA-256, SHA-384 and SHA-512.
    public var supportedAlgorithms: [SigningAlgorithm] { SigningAlgorithm.rsaAlgorithms }

    /// Hashes `data`, lets the card sign its DigestInfo, and checks the signature with the certificate.
    ///
    /// - Throws: ``CardCredentialsError/unsupportedSignatureAlgorithm(_:)``,
    ///   ``CardCredentialsError/cardSignatureInvalid`` when the card's signature does not verify, or the card
    ///   operation's own error.
    public func sign(_ data: [UInt8], algorithm: SigningAlgorithm) async throws -> [UInt8] {
        try requireSupported(algorithm)
        let digestInfo = DigestInfo(hashing: data, with: algorithm.digest)
        let signature = try await operation.signDigestInfo(digestInfo.derEncoded)
        guard
            certificate.publicKey.isValidSignature(
                signature, for: data, signatureAlgorithm: algorithm.certificateSignatureAlgorithm)
        else {
            throw CardCredentialsError.cardSignatureInvalid
        }
        return signature
    }

    // MARK: CustomPrivateKey

    /// The certificate's public key.
    public var publicKey: Certificate.PublicKey { certificate.publicKey }

    /// `sha256WithRSAEncryption`.
    public var defaultSignatureAlgorithm: Certificate.SignatureAlgorithm { .sha256WithRSAEncryption }

    /// `sha256WithRSAEncryption`, `sha384WithRSAEncryption` and `sha512WithRSAEncryption`.
    public var supportedSignatureAlgorithms: [Certificate.SignatureAlgorithm] {
        supportedAlgorithms.map(\.certificateSignatureAlgorithm)
    }

    /// Always throws ``CardCredentialsError/synchronousSigningUnsupported``: a card answers asynchronously.
    public func signSynchronously(
        bytes: some DataProtocol, signatureAlgorithm: Certificate.SignatureAlgorithm
    ) throws -> Certificate.Signature {
        throw CardCredentialsError.synchronousSigningUnsupported
    }

    /// Signs for swift-certificates (CSRs, certificates) through ``sign(_:algorithm:)``.
    public func signAsynchronously(
        bytes: some DataProtocol & Sendable, signatureAlgorithm: Certificate.SignatureAlgorithm
    ) async throws -> Certificate.Signature {
        guard let algorithm = SigningAlgorithm(signatureAlgorithm) else {
            throw CardCredentialsError.unsupportedSignatureAlgorithm("\(signatureAlgorithm)")
        }
        let signature = try await sign(Array(bytes), algorithm: algorithm)
        return try Certificate.Signature(
            signatureAlgorithm: signatureAlgorithm, signatureBytes: ASN1BitString(bytes: signature[...]))
    }

    /// The PEM label a private key would have; a card key is never serialised.
    public static var defaultPEMDiscriminator: String { "PRIVATE KEY" }

    /// Always throws ``CardCredentialsError/privateKeyNotExportable``: the key stays on the card.
    public func serialize(into coder: inout DER.Serializer) throws {
        throw CardCredentialsError.privateKeyNotExportable
    }

    /// Two card keys are equal when they are for the same certificate.
    public static func == (lhs: CardKey, rhs: CardKey) -> Bool {
        lhs.certificate == rhs.certificate
    }

    /// Hashes the certificate.
    public func hash(into hasher: inout Hasher) {
        hasher.combine(certificate)
    }
}
