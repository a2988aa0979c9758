import SwiftASN1

/// Object identifiers of CMS (RFC 5652), ESS (RFC 5035) and the algorithms this module signs with.
enum CMSOID {
    static let data: ASN1ObjectIdentifier = [1, 2, 840, 113_549, 1, 7, 1]
    static let signedData: ASN1ObjectIdentifier = [1, 2, 840, 113_549, 1, 7, 2]
    static let contentType: ASN1ObjectIdentifier = [1, 2, 840, 113_549, 1, 9, 3]
    static let messageDigest: ASN1ObjectIdentifier = [1, 2, 840, 113_549, 1, 9, 4]
    static let signingTime: ASN1ObjectIdentifier = [1, 2, 840, 113_549, 1, 9, 5]
    static let signingCertificateV2: ASN1ObjectIdentifier = [1, 2, 840, 113_549, 1, 9, 16, 2, 47]

    static let rsaEncryption: ASN1ObjectIdentifier = [1, 2, 840, 113_549, 1, 1, 1]
    static let sha256WithRSA: ASN1ObjectIdentifier = [1, 2, 840, 113_549, 1, 1, 11]
    static let sha384WithRSA: ASN1ObjectIdentifier = [1, 2, 840, 113_549, 1, 1, 12]
    static let sha512WithRSA: ASN1ObjectIdentifier = [1, 2, 840, 113_549, 1, 1, 13]
    static let ecPublicKey: ASN1ObjectIdentifier = [1, 2, 840, 10045, 2, 1]
    static let ecdsaWithSHA256: ASN1ObjectIdentifier = [1, 2, 840, 10045, 4, 3, 2]
    static let ecdsaWithSHA384: ASN1ObjectIdentifier = [1, 2, 840, 10045, 4, 3, 3]
    static let ecdsaWithSHA512: ASN1ObjectIdentifier = [1, 2, 840, 10045, 4, 3, 4]

    static func digest(_ algorithm: DigestAlgorithm) -> ASN1ObjectIdentifier {
        switch algorithm {
        case .sha256: [2, 16, 840, 1, 101, 3, 4, 2, 1]
        case .sha384: [2, 16, 840, 1, 101, 3, 4, 2, 2]
        case .sha512: [2, 16, 840, 1, 101, 3, 4, 2, 3]
        }
    }

    static func digestAlgorithm(_ oid: ASN1ObjectIdentifier) -> DigestAlgorithm? {
        DigestAlgorithm.allCases.first { digest($0) == oid }
    }

    /// The signatureAlgorithm this module writes: `shaNNNWithRSAEncryption` or `ecdsa-with-SHANNN`.
    static func signature(_ algorithm: SigningAlgorithm) -> ASN1ObjectIdentifier {
        switch (algorithm.keyType, algorithm.digest) {
        case (.rsaPKCS1v15, .sha256): sha256WithRSA
        case (.rsaPKCS1v15, .sha384): sha384WithRSA
        case (.rsaPKCS1v15, .sha512): sha512WithRSA
        case (.ecdsa, .sha256): ecdsaWithSHA256
        case (.ecdsa, .sha384): ecdsaWithSHA384
        case (.ecdsa, .sha512): ecdsaWithSHA512
        }
    }

    /// Reads a SignerInfo's signatureAlgorithm with its digestAlgorithm. `rsaEncryption` and `ecPublicKey`
    /// (what OpenSSL and some others write) take the digest from `digest`; a combined identifier must agree
    /// with it.
    static func signingAlgorithm(signature oid: ASN1ObjectIdentifier, digest: DigestAlgorithm)
        -> SigningAlgorithm?
    {
        let candidate: SigningAlgorithm
        switch oid {
        case rsaEncryption: return SigningAlgorithm(keyType: .rsaPKCS1v15, digest: digest)
        case ecPublicKey: return SigningAlgorithm(keyType: .ecdsa, digest: digest)
        case sha256WithRSA: candidate = .rsaPKCS1SHA256
        case sha384WithRSA: candidate = .rsaPKCS1SHA384
        case sha512WithRSA: candidate = .rsaPKCS1SHA512
        case ecdsaWithSHA256: candidate = .ecdsaSHA256
        case ecdsaWithSHA384: candidate = .ecdsaSHA384
        case ecdsaWithSHA512: candidate = SigningAlgorithm(keyType: .ecdsa, digest: .sha512)
        default: return nil
        }
        return candidate.digest == digest ? candidate : nil
    }
}
