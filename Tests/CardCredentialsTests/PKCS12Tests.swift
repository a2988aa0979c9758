import CardCredentials
import Crypto
import Foundation
import Testing
import X509
import _CryptoExtras

@Suite("PKCS#12 file credentials")
struct PKCS12Tests {
    /// Makes a .p12 with the openssl command line from the fixtures' RSA leaf.
    func opensslPKCS12(_ fixtures: SigningFixtures, extra: [String], chain: Bool = true) throws
        -> [UInt8]
    {
        let name = fixtures.uniqueName("p12")
        var arguments = [
            "pkcs12", "-export", "-inkey", "leaf.key.pem", "-in", "leaf.pem", "-out", name,
        ]
        if chain { arguments += ["-certfile", "ca.pem"] }
        arguments += ["-passout", "pass:correct horse 42"] + extra
        let result = try fixtures.openssl(arguments)
        try #require(result.status == 0, "\(result.output)")
        return try fixtures.read(name)
    }

    @Test("A legacy file (RC2-40 certificates, 3DES key) opens, with its chain")
    func legacyFile() async throws {
        let fixtures = try SigningFixtures.get()
        let bytes = try opensslPKCS12(fixtures, extra: ["-legacy"])
        let credential = try FileCredential(pkcs12: bytes, password: try testPassword())
        #expect(credential.certificate == fixtures.rsaLeaf)
        #expect(credential.chain == [fixtures.root.certificate])
        let message = Array("入札書".utf8)
        let signature = try await credential.sign(message, algorithm: .rsaPKCS1SHA256)
        #expect(signature.count == 256)
        #expect(
            fixtures.rsaLeaf.publicKey.isValidSignature(
                signature, for: message, signatureAlgorithm: .sha256WithRSAEncryption))
    }

    @Test("Explicit legacy algorithms (-certpbe PBE-SHA1-RC2-40 -keypbe PBE-SHA1-3DES) open")
    func explicitLegacyAlgorithms() throws {
        let fixtures = try SigningFixtures.get()
        let bytes = try opensslPKCS12(
            fixtures,
            extra: [
                "-provider", "legacy", "-provider", "default", "-certpbe", "PBE-SHA1-RC2-40", "-keypbe",
                "PBE-SHA1-3DES",
                "-macalg", "sha1",
            ],
            chain: false)
        let credential = try FileCredential(pkcs12: bytes, password: try testPassword())
        #expect(credential.certificate == fixtures.rsaLeaf)
        #expect(credential.chain.isEmpty)
    }

    @Test("A current AES-256 file opens and signs with SHA-384 and SHA-512")
    func aesFile() async throws {
        let fixtures = try SigningFixtures.get()
        let bytes = try opensslPKCS12(fixtures, extra: [])
        let credential = try FileCredential(pkcs12: bytes, password: try testPassword())
        #expect(credential.certificate == fixtures.rsaLeaf)
        #expect(credential.supportedAlgorithms == SigningAlgorithm.rsaAlgorithms)
        let message = Array("data".utf8)
        for (algorithm, name) in [
            (SigningAlgorithm.rsaPKCS1SHA384, Certificate.SignatureAlgorithm.sha384WithRSAEncryption),
            (.rsaPKCS1SHA512, .sha512WithRSAEncryption),
        ] {
            let signature = try await credential.sign(message, algorithm: algorithm)
            #expect(
                fixtures.rsaLeaf.publicKey.isValidSignature(
                    signature, for: message, signatureAlgorithm: name))
            #expect(
                !fixtures.rsaLeaf.publicKey.isValidSignature(
                    signature, for: message + [0], signatureAlgorithm: name))
        }
        await #expect(throws: CardCredentialsError.self) {
            try await credential.sign(message, algorithm: .ecdsaSHA256)
        }
    }

    @Test("Legacy files open and one credential signs from many tasks at once")
    func concurrentUse() async throws {
        let fixtures = try SigningFixtures.get()
        let bytes = try opensslPKCS12(fixtures, extra: ["-legacy"])
        let leaf = fixtures.rsaLeaf
        let results = try await withThrowingTaskGroup(of: Bool.self) { group in
            for index in 0..<8 {
                group.addTask {
                    // Each task opens its own credential (the legacy provider loads once for all).
                    let credential = try FileCredential(pkcs12: bytes, password: try testPassword())
                    let message = Array("task \(index)".utf8)
                    let signature = try await credential.sign(message, algorithm: .rsaPKCS1SHA256)
                    return leaf.publicKey.isValidSignature(
                        signature, for: message, signatureAlgorithm: .sha256WithRSAEncryption)
                }
            }
            return try await group.reduce(into: [Bool]()) { $0.append($1) }
        }
        #expect(results == Array(repeating: true, count: 8))

        let shared = try FileCredential(pkcs12: bytes, password: try testPassword())
        let sharedResults = try await withThrowingTaskGroup(of: Bool.self) { group in
            for index in 0..<8 {
                group.addTask {
                    let message = Array("shared \(index)".utf8)
                    let signature = try await shared.sign(message, algorithm: .rsaPKCS1SHA512)
                    return leaf.publicKey.isValidSignature(
                        signature, for: message, signatureAlgorithm: .sha512WithRSAEncryption)
                }
            }
            return try await group.reduce(into: [Bool]()) { $0.append($1) }
        }
        #expect(sharedResults == Array(repeating: true, count: 8))
    }

    @Test("A wrong password is told apart from a damaged file", arguments: [true, false])
    func wrongPassword(legacy: Bool) throws {
        let fixtures = try SigningFixtures.get()
        let bytes = try opensslPKCS12(fixtures, extra: legacy ? ["-legacy"] : [])
        #expect(throws: CardCredentialsError.wrongPassword) {
            try FileCredential(pkcs12: bytes, password: try testPassword("wrong password"))
        }
        let error = #expect(throws: CardCredentialsError.self) {
            try FileCredential(pkcs12: Array(bytes.prefix(bytes.count / 2)), password: try testPassword())
        }
        guard case .malformedPKCS12 = error else {
            Issue.record("a truncated file gave \(String(describing: error))")
            return
        }
        #expect(throws: CardCredentialsError.self) {
            try FileCredential(pkcs12: [], password: try testPassword())
        }
        #expect(throws: CardCredentialsError.self) {
            try FileCredential(pkcs12: Array("not a pkcs12 file".utf8), password: try testPassword())
        }
    }

    @Test("Errors and the credential never show the password")
    func passwordNeverShown() throws {
        let fixtures = try SigningFixtures.get()
        let bytes = try opensslPKCS12(fixtures, extra: [])
        let error = #expect(throws: CardCredentialsError.self) {
            try FileCredential(pkcs12: bytes, password: try testPassword("hunter2-secret"))
        }
        #expect(!(error?.description.contains("hunter2") ?? true))
        let credential = try FileCredential(pkcs12: bytes, password: try testPassword())
        var dumped = ""
        dump(credential, to: &dumped)
        #expect(!dumped.contains("correct horse"))
    }

    @Test(
        "A credential made from a swift-crypto key exports a PKCS#12 that openssl reads",
        arguments: [
            PKCS12Encryption.aes256, .legacy,
        ])
    func exportRoundTrip(encryption: PKCS12Encryption) async throws {
        let fixtures = try SigningFixtures.get()
        let credential = try FileCredential(
            privateKeyDER: Array(fixtures.rsaKey.derRepresentation), certificate: fixtures.rsaLeaf,
            chain: [fixtures.root.certificate])
        let p12 = try credential.pkcs12(
            password: try testPassword("new password"), encryption: encryption, friendlyName: "one-year")
        let name = try fixtures.write(p12, fixtures.uniqueName("p12"))
        var arguments = ["pkcs12", "-in", name, "-info", "-nokeys", "-passin", "pass:new password"]
        if encryption == .legacy { arguments.append("-legacy") }
        let result = try fixtures.openssl(arguments)
        #expect(result.status == 0, "\(result.output)")
        if encryption == .aes256 {
            #expect(result.output.contains("AES-256-CBC"))
            #expect(result.output.contains("MAC: sha256"))
        } else {
            #expect(result.output.contains("pbeWithSHA1And40BitRC2-CBC"))
            #expect(result.output.contains("MAC: sha1"))
        }
        #expect(result.output.contains("friendlyName: one-year"))

        let reopened = try FileCredential(pkcs12: p12, password: try testPassword("new password"))
        #expect(reopened.certificate == fixtures.rsaLeaf)
        #expect(reopened.chain == [fixtures.root.certificate])
        #expect(throws: CardCredentialsError.wrongPassword) {
            try FileCredential(pkcs12: p12, password: try testPassword("correct horse 42"))
        }
    }

    @Test("PEM keys: PKCS#8 RSA and EC; a key for another certificate is refused")
    func pemKeys() async throws {
        let fixtures = try SigningFixtures.get()
        let rsa = try FileCredential(
            privateKeyPEM: fixtures.rsaKey.pemRepresentation, certificate: fixtures.rsaLeaf)
        #expect(rsa.defaultAlgorithm == .rsaPKCS1SHA256)
        let ec = try FileCredential(
            privateKeyPEM: fixtures.ecKey.pemRepresentation, certificate: fixtures.ecLeaf)
        #expect(ec.supportedAlgorithms.first == .ecdsaSHA256)
        let message = Array("ECDSA".utf8)
        let signature = try await ec.sign(message, algorithm: .ecdsaSHA256)
        #expect(
            fixtures.ecLeaf.publicKey.isValidSignature(
                signature, for: message, signatureAlgorithm: .ecdsaWithSHA256))

        #expect(throws: CardCredentialsError.keyDoesNotMatchCertificate) {
            try FileCredential(
                privateKeyPEM: fixtures.otherKey.pemRepresentation, certificate: fixtures.rsaLeaf)
        }
        #expect(throws: CardCredentialsError.self) {
            try FileCredential(
                privateKeyPEM: "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----",
                certificate: fixtures.rsaLeaf)
        }
        #expect(throws: CardCredentialsError.self) {
            try FileCredential(
                privateKeyPEM: fixtures.rsaLeaf.serializeAsPEM().pemString, certificate: fixtures.rsaLeaf)
        }
    }

    @Test("A file credential signs a certificate through swift-certificates (CustomPrivateKey)")
    func signsCertificates() throws {
        let fixtures = try SigningFixtures.get()
        let credential = try FileCredential(
            privateKeyDER: Array(fixtures.rsaKey.derRepresentation), certificate: fixtures.rsaLeaf)
        let subjectKey = P256.Signing.PrivateKey()
        let issued = try Certificate(
            version: .v3, serialNumber: Certificate.SerialNumber(),
            publicKey: Certificate.PublicKey(subjectKey.publicKey), notValidBefore: Date() - 60,
            notValidAfter: Date() + 86400, issuer: fixtures.rsaLeaf.subject,
            subject: try DistinguishedName { CommonName("issued by a file key") },
            signatureAlgorithm: .sha256WithRSAEncryption, extensions: Certificate.Extensions(),
            issuerPrivateKey: Certificate.PrivateKey(credential))
        #expect(fixtures.rsaLeaf.publicKey.isValidSignature(issued.signature, for: issued))
        #expect(throws: CardCredentialsError.privateKeyNotExportable) {
            try Certificate.PrivateKey(credential).serializeAsPEM()
        }
    }
}
