import CardCredentials
import Crypto
import Foundation
import Testing
import X509
import _CryptoExtras

@Suite("Signers: card-backed keys, DigestInfo, swift-certificates custom keys")
struct SignerTests {
    @Test(
        "DigestInfo has the RFC 8017 §9.2 encodings and reads back", arguments: DigestAlgorithm.allCases
    )
    func digestInfoEncoding(algorithm: DigestAlgorithm) throws {
        let message = Array("abc".utf8)
        let info = DigestInfo(hashing: message, with: algorithm)
        let expectedPrefix: [UInt8]
        switch algorithm {
        case .sha256:
            expectedPrefix = [
                0x30, 0x31, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x01,
                0x05, 0x00,
                0x04, 0x20,
            ]
        case .sha384:
            expectedPrefix = [
                0x30, 0x41, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x02,
                0x05, 0x00,
                0x04, 0x30,
            ]
        case .sha512:
            expectedPrefix = [
                0x30, 0x51, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x03,
                0x05, 0x00,
                0x04, 0x40,
            ]
        }
        #expect(info.derEncoded == expectedPrefix + algorithm.hash(message))
        #expect(try DigestInfo(derEncoded: info.derEncoded) == info)
        if algorithm == .sha256 {
            // FIPS 180-2 test vector for "abc".
            #expect(info.digest.prefix(4) == [0xba, 0x78, 0x16, 0xbf])
        }
    }

    @Test("A malformed DigestInfo or a digest of the wrong length is refused")
    func digestInfoErrors() throws {
        let good = DigestInfo(hashing: [1, 2, 3], with: .sha256).derEncoded
        #expect(throws: CardCredentialsError.self) {
            try DigestInfo(derEncoded: Array(good.dropLast()))
        }
        #expect(throws: CardCredentialsError.self) { try DigestInfo(derEncoded: []) }
        var withoutNull = good
        withoutNull[15] = 0x04  // NULL tag replaced
        #expect(throws: CardCredentialsError.self) { try DigestInfo(derEncoded: withoutNull) }
        #expect(throws: CardCredentialsError.self) {
            try DigestInfo(algorithm: .sha384, digest: [UInt8](repeating: 0, count: 32))
        }
    }

    @Test("A card key's signatures equal openssl's, for SHA-256, SHA-384 and SHA-512")
    func cardKeyMatchesOpenSSL() async throws {
        let fixtures = try SigningFixtures.get()
        let key = try CardKey(
            certificate: fixtures.rsaLeaf, operation: try SoftwareCardOperation(fixtures.rsaKey))
        let data = Array("令和8年度 入札書 第1号".utf8)
        let dataFile = try fixtures.write(data, fixtures.uniqueName("bin"))
        for (algorithm, flag) in [
            (SigningAlgorithm.rsaPKCS1SHA256, "-sha256"), (.rsaPKCS1SHA384, "-sha384"),
            (.rsaPKCS1SHA512, "-sha512"),
        ] {
            let signature = try await key.sign(data, algorithm: algorithm)
            let out = fixtures.uniqueName("sig")
            let result = try fixtures.openssl([
                "dgst", flag, "-sign", "leaf.key.pem", "-out", out, dataFile,
            ])
            try #require(result.status == 0, "\(result.output)")
            #expect(signature == (try fixtures.read(out)), "\(algorithm)")
        }
    }

    @Test("A card key refuses a card whose signature does not match the certificate")
    func cardKeyChecksSignature() async throws {
        let fixtures = try SigningFixtures.get()
        let wrongCard = try CardKey(
            certificate: fixtures.rsaLeaf, operation: try SoftwareCardOperation(fixtures.otherKey))
        await #expect(throws: CardCredentialsError.cardSignatureInvalid) {
            try await wrongCard.sign([1, 2, 3], algorithm: .rsaPKCS1SHA256)
        }
        let brokenCard = try CardKey(certificate: fixtures.rsaLeaf, operation: BrokenCardOperation())
        await #expect(throws: CardCredentialsError.cardSignatureInvalid) {
            try await brokenCard.sign([1, 2, 3], algorithm: .rsaPKCS1SHA256)
        }
        let good = try CardKey(
            certificate: fixtures.rsaLeaf, operation: try SoftwareCardOperation(fixtures.rsaKey))
        await #expect(throws: CardCredentialsError.self) {
            try await good.sign([1, 2, 3], algorithm: .ecdsaSHA256)
        }
        #expect(throws: CardCredentialsError.self) {
            try CardKey(certificate: fixtures.ecLeaf, operation: BrokenCardOperation())
        }
    }

    @Test("A card key signs a CSR through swift-certificates, and openssl req -verify accepts it")
    func cardKeySignsCSR() async throws {
        let fixtures = try SigningFixtures.get()
        let key = try CardKey(
            certificate: fixtures.rsaLeaf, operation: try SoftwareCardOperation(fixtures.rsaKey))
        let privateKey = Certificate.PrivateKey(key)
        #expect(privateKey.publicKey == fixtures.rsaLeaf.publicKey)
        let csr = try await CertificateSigningRequest(
            version: .v1, subject: fixtures.rsaLeaf.subject, asyncPrivateKey: privateKey,
            attributes: CertificateSigningRequest.Attributes(),
            signatureAlgorithm: .sha256WithRSAEncryption)
        #expect(csr.publicKey.isValidSignature(csr.signature, for: csr))
        let name = fixtures.uniqueName("csr.pem")
        try SigningFixtures.write(try csr.serializeAsPEM().pemString, name, in: fixtures.directory)
        let result = try fixtures.openssl(["req", "-verify", "-noout", "-in", name])
        #expect(result.status == 0, "\(result.output)")
        #expect(result.output.contains("verify OK"))

        // The synchronous initialiser cannot reach a card.
        #expect(throws: CardCredentialsError.synchronousSigningUnsupported) {
            try CertificateSigningRequest(
                version: .v1, subject: fixtures.rsaLeaf.subject, privateKey: privateKey,
                attributes: CertificateSigningRequest.Attributes(),
                signatureAlgorithm: .sha256WithRSAEncryption)
        }
        #expect(throws: CardCredentialsError.privateKeyNotExportable) {
            try privateKey.serializeAsPEM()
        }
    }

    @Test("A card key issues a certificate that openssl verifies against it")
    func cardKeySignsCertificate() async throws {
        let fixtures = try SigningFixtures.get()
        let key = try CardKey(
            certificate: fixtures.rsaLeaf, operation: try SoftwareCardOperation(fixtures.rsaKey))
        let subjectKey = P256.Signing.PrivateKey()
        let issued = try await Certificate(
            version: .v3, serialNumber: Certificate.SerialNumber(),
            publicKey: Certificate.PublicKey(subjectKey.publicKey), notValidBefore: Date() - 60,
            notValidAfter: Date() + 86400, issuer: fixtures.rsaLeaf.subject,
            subject: try DistinguishedName { CommonName("issued by a card") },
            signatureAlgorithm: .sha384WithRSAEncryption, extensions: Certificate.Extensions(),
            issuerAsyncPrivateKey: Certificate.PrivateKey(key))
        #expect(fixtures.rsaLeaf.publicKey.isValidSignature(issued.signature, for: issued))
    }

    @Test("Card keys and file keys are used through one Signer abstraction")
    func oneAbstraction() async throws {
        let fixtures = try SigningFixtures.get()
        let signers: [any Signer] = [
            try CardKey(
                certificate: fixtures.rsaLeaf, operation: try SoftwareCardOperation(fixtures.rsaKey)),
            try FileCredential(
                privateKeyDER: Array(fixtures.rsaKey.derRepresentation), certificate: fixtures.rsaLeaf),
        ]
        let data = Array("same bytes".utf8)
        var signatures: [[UInt8]] = []
        for signer in signers {
            #expect(signer.defaultAlgorithm == .rsaPKCS1SHA256)
            signatures.append(try await signer.sign(data, algorithm: signer.defaultAlgorithm))
        }
        // RSA PKCS#1 v1.5 is deterministic: the card and the file give the same signature.
        #expect(signatures[0] == signatures[1])
    }
}
