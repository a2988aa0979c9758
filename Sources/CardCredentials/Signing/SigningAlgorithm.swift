public import X509

/// How a ``Signer`` signs: RSA PKCS#1 v1.5 or ECDSA, with a SHA-2 digest.
///
/// RSA signatures are the raw big-endian integer (as long as the modulus); ECDSA signatures are the DER
/// `ECDSA-Sig-Value` that X.509 and CMS carry.
public struct SigningAlgorithm: Sendable, Hashable, CustomStringConvertible {
    /// The key's family.
    public enum KeyType: Sendable, Hashable {
        /// RSA with PKCS#1 v1.5 padding (RFC 8017 §8.2, RSASSA-PKCS1-v1_5).
        case rsaPKCS1v15
        /// ECDSA over the key's curve.
        case ecdsa
    }

    /// The key's family.
    public let keyType: KeyType
    /// The hash function applied to the data before signing.
    public let digest: DigestAlgorithm

    /// Makes an algorithm from its parts.
    public init(keyType: KeyType, digest: DigestAlgorithm) {
        self.keyType = keyType
        self.digest = digest
    }

    /// RSA PKCS#1 v1.5 with SHA-256 (`sha256WithRSAEncryption`), what JPKI and most CA-issued cards use.
    public static let rsaPKCS1SHA256 = SigningAlgorithm(keyType: .rsaPKCS1v15, digest: .sha256)
    /// RSA PKCS#1 v1.5 with SHA-384 (`sha384WithRSAEncryption`).
    public static let rsaPKCS1SHA384 = SigningAlgorithm(keyType: .rsaPKCS1v15, digest: .sha384)
    /// RSA PKCS#1 v1.5 with SHA-512 (`sha512WithRSAEncryption`).
    public static let rsaPKCS1SHA512 = SigningAlgorithm(keyType: .rsaPKCS1v15, digest: .sha512)
    /// ECDSA with SHA-256 (`ecdsa-with-SHA256`), for P-256 file keys.
    public static let ecdsaSHA256 = SigningAlgorithm(keyType: .ecdsa, digest: .sha256)
    /// ECDSA with SHA-384 (`ecdsa-with-SHA384`).
    public static let ecdsaSHA384 = SigningAlgorithm(keyType: .ecdsa, digest: .sha384)

    /// The RSA PKCS#1 v1.5 algorithms, SHA-256 first.
    public static let rsaAlgorithms: [SigningAlgorithm] = [
        .rsaPKCS1SHA256, .rsaPKCS1SHA384, .rsaPKCS1SHA512,
    ]

    /// The same algorithm as swift-certificates names it.
    public var certificateSignatureAlgorithm: Certificate.SignatureAlgorithm {
        switch (keyType, digest) {
        case (.rsaPKCS1v15, .sha256): .sha256WithRSAEncryption
        case (.rsaPKCS1v15, .sha384): .sha384WithRSAEncryption
        case (.rsaPKCS1v15, .sha512): .sha512WithRSAEncryption
        case (.ecdsa, .sha256): .ecdsaWithSHA256
        case (.ecdsa, .sha384): .ecdsaWithSHA384
        case (.ecdsa, .sha512): .ecdsaWithSHA512
        }
    }

    /// The algorithm for a swift-certificates signature algorithm, or `nil` when this module does not sign
    /// with it (SHA-1, Ed25519, …).
    public init?(_ algorithm: Certificate.SignatureAlgorithm) {
        switch algorithm {
        case .sha256WithRSAEncryption: self = .rsaPKCS1SHA256
        case .sha384WithRSAEncryption: self = .rsaPKCS1SHA384
        case .sha512WithRSAEncryption: self = .rsaPKCS1SHA512
        case .ecdsaWithSHA256: self = .ecdsaSHA256
        case .ecdsaWithSHA384: self = .ecdsaSHA384
        case .ecdsaWithSHA512: self = SigningAlgorithm(keyType: .ecdsa, digest: .sha512)
        default: return nil
        }
    }

    /// For example `RSA PKCS#1 v1.5 with SHA-256`.
    public var description: String {
        switch keyType {
        case .rsaPKCS1v15: "RSA PKCS#1 v1.5 with \(digest)"
        case .ecdsa: "ECDSA with \(digest)"
        }
    }
}
