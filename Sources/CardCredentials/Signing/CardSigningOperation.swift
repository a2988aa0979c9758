/// The one thing a card module must do for a ``CardKey``: sign a DER `DigestInfo` with the card's private key.
///
/// The card applies the RSA PKCS#1 v1.5 padding itself (JPKI's COMPUTE DIGITAL SIGNATURE takes the DigestInfo).
/// The PIN is the card module's business: verify it before handing the operation to a ``CardKey``.
///
/// ```swift
/// struct JPKISigning: CardSigningOperation {
///     let card: JPKICard
///     func signDigestInfo(_ digestInfo: [UInt8]) async throws -> [UInt8] {
///         try await card.computeSignature(digestInfo, key: .signing)
///     }
/// }
/// ```
public protocol CardSigningOperation: Sendable {
    /// Signs a DER `DigestInfo` (RFC 8017 §9.2) with PKCS#1 v1.5 padding applied on the card.
    ///
    /// - Parameter digestInfo: The DER DigestInfo built by ``DigestInfo/derEncoded``.
    /// - Returns: The raw RSA signature, as long as the key's modulus.
    func signDigestInfo(_ digestInfo: [UInt8]) async throws -> [UInt8]
}
