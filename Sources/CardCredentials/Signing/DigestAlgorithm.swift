import Crypto

/// A hash function used in signatures: SHA-256, SHA-384 or SHA-512.
public enum DigestAlgorithm: Sendable, Hashable, CaseIterable, CustomStringConvertible {
    /// SHA-256 (32-byte digest), OID 2.16.840.1.101.3.4.2.1.
    case sha256
    /// SHA-384 (48-byte digest), OID 2.16.840.1.101.3.4.2.2.
    case sha384
    /// SHA-512 (64-byte digest), OID 2.16.840.1.101.3.4.2.3.
    case sha512

    /// The length of a digest in bytes.
    public var digestLength: Int {
        switch self {
        case .sha256: 32
        case .sha384: 48
        case .sha512: 64
        }
    }

    /// The algorithm's object identifier, as dotted arcs.
    public var objectIdentifierArcs: [UInt] {
        switch self {
        case .sha256: [2, 16, 840, 1, 101, 3, 4, 2, 1]
        case .sha384: [2, 16, 840, 1, 101, 3, 4, 2, 2]
        case .sha512: [2, 16, 840, 1, 101, 3, 4, 2, 3]
        }
    }

    /// Hashes `data`.
    public func hash(_ data: [UInt8]) -> [UInt8] {
        hash(slice: data[...])
    }

    /// Hashes a slice without copying it.
    func hash(slice data: ArraySlice<UInt8>) -> [UInt8] {
        switch self {
        case .sha256: Array(SHA256.hash(data: data))
        case .sha384: Array(SHA384.hash(data: data))
        case .sha512: Array(SHA512.hash(data: data))
        }
    }

    /// `SHA-256`, `SHA-384` or `SHA-512`.
    public var description: String {
        switch self {
        case .sha256: "SHA-256"
        case .sha384: "SHA-384"
        case .sha512: "SHA-512"
        }
    }

    /// OpenSSL's name for the digest.
    var openSSLName: String {
        switch self {
        case .sha256: "SHA256"
        case .sha384: "SHA384"
        case .sha512: "SHA512"
        }
    }
}
