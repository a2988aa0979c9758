import CardCredentials
import Crypto
import Foundation
import SwiftASN1
import X509
import _CryptoExtras

/// Keys and certificates for the signer, PKCS#12 and CMS tests, made once per test process (RSA key
/// generation is slow in debug builds), and written as PEM files for the openssl command line.
struct SigningFixtures: Sendable {
    /// An RSA-2048 root CA.
    let root: TestCertificates.Authority
    /// An RSA-2048 end-entity certificate under ``root`` and its key.
    let rsaLeaf: Certificate
    let rsaKey: _RSA.Signing.PrivateKey
    /// A second RSA-2048 end-entity certificate under ``root`` (a "wrong" signer).
    let otherLeaf: Certificate
    let otherKey: _RSA.Signing.PrivateKey
    /// A P-256 end-entity certificate under ``root`` and its key.
    let ecLeaf: Certificate
    let ecKey: P256.Signing.PrivateKey
    /// A directory holding ca.pem, leaf.pem, leaf.key.pem, other.pem, other.key.pem, ec.pem, ec.key.pem.
    let directory: URL

    private static let shared = Result { try SigningFixtures() }

    /// The fixtures of this test process.
    static func get() throws -> SigningFixtures { try shared.get() }

    private init() throws {
        root = try TestCertificates.makeRoot(name: "Signing Test Root", rsa: true)
        rsaKey = try _RSA.Signing.PrivateKey(keySize: .bits2048)
        otherKey = try _RSA.Signing.PrivateKey(keySize: .bits2048)
        ecKey = P256.Signing.PrivateKey()
        rsaLeaf = try Self.leaf(
            name: "山田　太郎", key: Certificate.PublicKey(rsaKey.publicKey), under: root)
        otherLeaf = try Self.leaf(
            name: "Other Signer", key: Certificate.PublicKey(otherKey.publicKey), under: root)
        ecLeaf = try Self.leaf(
            name: "EC Signer", key: Certificate.PublicKey(ecKey.publicKey), under: root)
        directory = try TestCertificates.temporaryDirectory()
        try Self.write(root.certificate.serializeAsPEM().pemString, "ca.pem", in: directory)
        try Self.write(rsaLeaf.serializeAsPEM().pemString, "leaf.pem", in: directory)
        try Self.write(rsaKey.pemRepresentation, "leaf.key.pem", in: directory)
        try Self.write(otherLeaf.serializeAsPEM().pemString, "other.pem", in: directory)
        try Self.write(otherKey.pemRepresentation, "other.key.pem", in: directory)
        try Self.write(ecLeaf.serializeAsPEM().pemString, "ec.pem", in: directory)
        try Self.write(ecKey.pemRepresentation, "ec.key.pem", in: directory)
    }

    private static func leaf(
        name: String, key: Certificate.PublicKey, under issuer: TestCertificates.Authority
    ) throws -> Certificate {
        let now = Date()
        return try Certificate(
            version: .v3, serialNumber: Certificate.SerialNumber(), publicKey: key,
            notValidBefore: now - 86400, notValidAfter: now + 30 * 86400,
            issuer: issuer.certificate.subject,
            subject: try DistinguishedName {
                CountryName("JP")
                OrganizationName("〇〇建設株式会社")
                CommonName(name)
            },
            signatureAlgorithm: issuer.algorithm,
            extensions: try Certificate.Extensions {
                Critical(KeyUsage(digitalSignature: true, nonRepudiation: true))
            },
            issuerPrivateKey: issuer.key)
    }

    static func write(_ text: String, _ name: String, in directory: URL) throws {
        try Data(text.utf8).write(to: directory.appendingPathComponent(name))
    }

    /// Writes bytes into a new file of the fixtures' directory and returns its name.
    func write(_ bytes: [UInt8], _ name: String) throws -> String {
        try Data(bytes).write(to: directory.appendingPathComponent(name))
        return name
    }

    /// Reads a file of the fixtures' directory.
    func read(_ name: String) throws -> [UInt8] {
        Array(try Data(contentsOf: directory.appendingPathComponent(name)))
    }

    /// Runs `openssl` with `arguments` in the fixtures' directory.
    @discardableResult
    func openssl(_ arguments: [String]) throws -> (status: Int32, output: String) {
        try TestCertificates.run(["openssl"] + arguments, in: directory)
    }

    /// A fresh file name in the fixtures' directory.
    func uniqueName(_ suffix: String) -> String {
        "\(UUID().uuidString).\(suffix)"
    }
}

/// A password for tests (never printed: ``SecretPIN`` redacts itself).
func testPassword(_ text: String = "correct horse 42") throws -> SecretPIN {
    try SecretPIN(text, policy: .password())
}

/// A software stand-in for a card's signing operation: pads the DigestInfo with PKCS#1 v1.5 (as a JPKI card
/// does) and applies the raw RSA private-key operation.
struct SoftwareCardOperation: CardSigningOperation {
    let key: _RSA.BlindSigning.PrivateKey<SHA384>
    let modulusLength: Int

    init(_ key: _RSA.Signing.PrivateKey) throws {
        self.key = try _RSA.BlindSigning.PrivateKey(derRepresentation: key.derRepresentation)
        self.modulusLength = key.keySizeInBits / 8
    }

    func signDigestInfo(_ digestInfo: [UInt8]) async throws -> [UInt8] {
        _ = try DigestInfo(derEncoded: digestInfo)  // a card refuses anything but a DigestInfo
        let padding = [UInt8](repeating: 0xFF, count: modulusLength - 3 - digestInfo.count)
        let encoded: [UInt8] = [0x00, 0x01] + padding + [0x00] + digestInfo
        return Array(try key.blindSignature(for: encoded).rawRepresentation)
    }
}

/// A card operation that answers with bytes that are no signature.
struct BrokenCardOperation: CardSigningOperation {
    func signDigestInfo(_ digestInfo: [UInt8]) async throws -> [UInt8] {
        [UInt8](repeating: 0x42, count: 256)
    }
}

/// A signer that claims one certificate but signs with another key (a "wrong certificate").
struct MismatchedSigner: Signer {
    let certificate: Certificate
    let key: FileCredential
    var chain: [Certificate] { [] }
    var supportedAlgorithms: [SigningAlgorithm] { key.supportedAlgorithms }
    func sign(_ data: [UInt8], algorithm: SigningAlgorithm) async throws -> [UInt8] {
        try await key.sign(data, algorithm: algorithm)
    }
}
