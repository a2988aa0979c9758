/// The DER `DigestInfo` that RSA PKCS#1 v1.5 signs (RFC 8017 §9.2): the digest algorithm's identifier with
/// NULL parameters, and the digest.
///
/// JPKI cards and many private-CA cards take this structure and apply the PKCS#1 v1.5 padding themselves:
///
/// ```swift
/// let info = try DigestInfo(algorithm: .sha256, digest: DigestAlgorithm.sha256.hash(message))
/// let signature = try await operation.signDigestInfo(info.derEncoded)
/// ```
public struct DigestInfo: Sendable, Hashable {
    /// The hash function.
    public let algorithm: DigestAlgorithm
    /// The digest, exactly ``DigestAlgorithm/digestLength`` bytes.
    public let digest: [UInt8]

    /// Wraps a digest.
    ///
    /// - Throws: ``CardCredentialsError/unsupportedSignatureAlgorithm(_:)`` when the digest's length is not the
    ///   algorithm's.
    public init(algorithm: DigestAlgorithm, digest: [UInt8]) throws(CardCredentialsError) {
        guard digest.count == algorithm.digestLength else {
            throw .unsupportedSignatureAlgorithm(
                "a \(algorithm) digest has \(algorithm.digestLength) bytes, not \(digest.count)")
        }
        self.algorithm = algorithm
        self.digest = digest
    }

    /// Hashes `data` and wraps the digest.
    public init(hashing data: [UInt8], with algorithm: DigestAlgorithm) {
        self.algorithm = algorithm
        self.digest = algorithm.hash(data)
    }

    /// Reads a DER `DigestInfo` (for example what a card simulator receives).
    ///
    /// Only the exact encodings of RFC 8017 §9.2 note 1 are accepted (NULL parameters present), as a
    /// verifier must.
    ///
    /// - Throws: ``CardCredentialsError/unsupportedSignatureAlgorithm(_:)`` for anything else.
    public init(derEncoded bytes: [UInt8]) throws(CardCredentialsError) {
        for algorithm in DigestAlgorithm.allCases {
            let prefix = Self.prefix(for: algorithm)
            if bytes.count == prefix.count + algorithm.digestLength, bytes.starts(with: prefix) {
                self.algorithm = algorithm
                self.digest = Array(bytes[prefix.count...])
                return
            }
        }
        throw .unsupportedSignatureAlgorithm("the bytes are not a SHA-256/384/512 DigestInfo")
    }

    /// The DER encoding: the fixed prefix of RFC 8017 §9.2 note 1, then the digest.
    public var derEncoded: [UInt8] { Self.prefix(for: algorithm) + digest }

    /// `SEQUENCE { SEQUENCE { OID, NULL }, OCTET STRING (len) }` headers for each digest (RFC 8017 §9.2 note 1).
    static func prefix(for algorithm: DigestAlgorithm) -> [UInt8] {
        let oidLast: UInt8
        switch algorithm {
        case .sha256: oidLast = 0x01
        case .sha384: oidLast = 0x02
        case .sha512: oidLast = 0x03
        }
        let length = UInt8(algorithm.digestLength)
        return [
            0x30, 0x0D + 4 + length, 0x30, 0x0D, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04,
            0x02, oidLast,
            0x05, 0x00, 0x04, length,
        ]
    }
}
