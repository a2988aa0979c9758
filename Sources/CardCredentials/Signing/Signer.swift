public import X509

/// Something that signs with the private key of a certificate: a key on an IC card (``CardKey``) or a key in a
/// file (``FileCredential``).
///
/// Code that signs — CMS SignedData (``CMSSignedData/sign(_:with:algorithm:detached:signingTime:includeChain:)``),
/// CSRs, certificates — takes any `Signer`, so a card and a file-type certificate (ファイル形式の証明書) are used the
/// same way:
///
/// ```swift
/// let signature = try await signer.sign(message, algorithm: .rsaPKCS1SHA256)
/// ```
public protocol Signer: Sendable {
    /// The certificate of the signing key.
    var certificate: Certificate { get }
    /// The certificates that lead from ``certificate`` towards a root (issuer first), as far as known.
    var chain: [Certificate] { get }
    /// The algorithms this key signs with, the preferred one first.
    var supportedAlgorithms: [SigningAlgorithm] { get }
    /// Signs `data` (the signer hashes it).
    ///
    /// - Returns: The signature: for RSA the raw signature (as long as the modulus), for ECDSA the DER
    ///   `ECDSA-Sig-Value`.
    /// - Throws: ``CardCredentialsError/unsupportedSignatureAlgorithm(_:)`` for an algorithm not in
    ///   ``supportedAlgorithms``; a card's own errors (wrong PIN, card removed) pass through.
    func sign(_ data: [UInt8], algorithm: SigningAlgorithm) async throws -> [UInt8]
}

extension Signer {
    /// The preferred algorithm: the first of ``supportedAlgorithms``.
    public var defaultAlgorithm: SigningAlgorithm {
        supportedAlgorithms.first ?? .rsaPKCS1SHA256
    }

    /// Throws unless `algorithm` is one of ``supportedAlgorithms``.
    func requireSupported(_ algorithm: SigningAlgorithm) throws(CardCredentialsError) {
        guard supportedAlgorithms.contains(algorithm) else {
            throw .unsupportedSignatureAlgorithm(
                "this key signs with \(supportedAlgorithms), not \(algorithm)")
        }
    }
}
