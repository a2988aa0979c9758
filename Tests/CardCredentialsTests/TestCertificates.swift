import Crypto
import Foundation
import SwiftASN1
import X509
import _CryptoExtras

/// Test certificate authorities and leaves minted with swift-certificates (shared by the CardCredentials
/// tests).
enum TestCertificates {
    /// A CA: its certificate and private key.
    struct Authority {
        var certificate: Certificate
        var key: Certificate.PrivateKey
        var algorithm: Certificate.SignatureAlgorithm
    }

    static let now = Date(timeIntervalSince1970: 1_780_000_000)  // 2026-05-28
    static let day: TimeInterval = 86400

    /// A self-signed root (P-256 unless `rsa`).
    static func makeRoot(
        name: String = "Test Root CA", rsa: Bool = false, notBefore: Date? = nil, notAfter: Date? = nil
    ) throws -> Authority {
        let key: Certificate.PrivateKey
        let algorithm: Certificate.SignatureAlgorithm
        if rsa {
            key = Certificate.PrivateKey(try _RSA.Signing.PrivateKey(keySize: .bits2048))
            algorithm = .sha256WithRSAEncryption
        } else {
            key = Certificate.PrivateKey(P256.Signing.PrivateKey())
            algorithm = .ecdsaWithSHA256
        }
        let dn = try DistinguishedName {
            CountryName("JP")
            OrganizationName("Test Certification Authority")
            CommonName(name)
        }
        let certificate = try Certificate(
            version: .v3, serialNumber: Certificate.SerialNumber(), publicKey: key.publicKey,
            notValidBefore: notBefore ?? now - 3650 * day, notValidAfter: notAfter ?? now + 3650 * day,
            issuer: dn, subject: dn, signatureAlgorithm: algorithm,
            extensions: try Certificate.Extensions {
                Critical(BasicConstraints.isCertificateAuthority(maxPathLength: nil))
                Critical(KeyUsage(keyCertSign: true, cRLSign: true))
            },
            issuerPrivateKey: key)
        return Authority(certificate: certificate, key: key, algorithm: algorithm)
    }

    /// An intermediate CA under `issuer`.
    static func makeIntermediate(under issuer: Authority, name: String = "Test Issuing CA") throws -> Authority {
        let key = Certificate.PrivateKey(P256.Signing.PrivateKey())
        let dn = try DistinguishedName {
            CountryName("JP")
            OrganizationName("Test Certification Authority")
            CommonName(name)
        }
        let certificate = try Certificate(
            version: .v3, serialNumber: Certificate.SerialNumber(), publicKey: key.publicKey,
            notValidBefore: now - 365 * day, notValidAfter: now + 1825 * day,
            issuer: issuer.certificate.subject, subject: dn, signatureAlgorithm: issuer.algorithm,
            extensions: try Certificate.Extensions {
                Critical(BasicConstraints.isCertificateAuthority(maxPathLength: 0))
                Critical(KeyUsage(keyCertSign: true, cRLSign: true))
            },
            issuerPrivateKey: issuer.key)
        return Authority(certificate: certificate, key: key, algorithm: .ecdsaWithSHA256)
    }

    /// A private-CA style holder name: company (O), holder (CN), address (ST, L, street).
    static func holderName() throws -> DistinguishedName {
        try DistinguishedName {
            CountryName("JP")
            StateOrProvinceName("熊本県")
            LocalityName("熊本市中央区")
            StreetAddress("手取本町1番1号")
            OrganizationName("〇〇建設株式会社")
            CommonName("山田　太郎")
        }
    }

    /// An end-entity certificate under `issuer`.
    static func makeLeaf(
        under issuer: Authority, subject: DistinguishedName? = nil, serial: Certificate.SerialNumber? = nil,
        keyUsage: KeyUsage? = KeyUsage(digitalSignature: true, nonRepudiation: true),
        notBefore: Date? = nil, notAfter: Date? = nil,
        extraExtensions: [Certificate.Extension] = []
    ) throws -> Certificate {
        let key = P256.Signing.PrivateKey()
        var extensions = Certificate.Extensions()
        if let keyUsage { try extensions.append(Certificate.Extension(keyUsage, critical: true)) }
        for ext in extraExtensions { try extensions.append(ext) }
        return try Certificate(
            version: .v3, serialNumber: serial ?? Certificate.SerialNumber(),
            publicKey: Certificate.PublicKey(key.publicKey),
            notValidBefore: notBefore ?? now - 30 * day, notValidAfter: notAfter ?? now + 365 * day,
            issuer: issuer.certificate.subject, subject: subject ?? (try holderName()),
            signatureAlgorithm: issuer.algorithm, extensions: extensions, issuerPrivateKey: issuer.key)
    }

    /// A name attribute value with any universal string tag (BMPString is 30, UTF-16BE).
    static func stringValue(tag: UInt, content: [UInt8]) throws -> RelativeDistinguishedName.Attribute.Value {
        var der: [UInt8] = [UInt8(tag)]
        if content.count < 0x80 {
            der.append(UInt8(content.count))
        } else {
            der += [0x81, UInt8(content.count)]
        }
        der += content
        return RelativeDistinguishedName.Attribute.Value(asn1Any: ASN1Any(derEncoded: try DER.parse(der)))
    }

    /// The DER bytes of a certificate.
    static func der(_ certificate: Certificate) throws -> [UInt8] {
        var serializer = DER.Serializer()
        try serializer.serialize(certificate)
        return serializer.serializedBytes
    }

    /// UTF-16BE bytes of `text`.
    static func utf16BE(_ text: String) -> [UInt8] {
        text.utf16.flatMap { [UInt8($0 >> 8), UInt8($0 & 0xFF)] }
    }

    /// A temporary directory, removed by the caller.
    static func temporaryDirectory() throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("cardcredentials-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }

    /// Runs a command line tool; returns its exit status and standard output + error.
    @discardableResult
    static func run(_ arguments: [String], in directory: URL) throws -> (status: Int32, output: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = arguments
        process.currentDirectoryURL = directory
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        try process.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        return (process.waitForExit(), String(decoding: data, as: UTF8.self))
    }
}
