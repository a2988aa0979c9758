import CardCredentials
import Crypto
import Foundation
import Testing
import X509

@Suite("Card evidence: origins, what is signed, the JSON form, the checks")
struct EvidenceTests {
    let fixtures: SigningFixtures
    init() throws { fixtures = try SigningFixtures.get() }

    var signer: FileCredential {
        get throws {
            try FileCredential(
                privateKeyDER: Array(fixtures.rsaKey.derRepresentation), certificate: fixtures.rsaLeaf,
                chain: [fixtures.root.certificate])
        }
    }

    var validator: CertificateValidator { CertificateValidator(trustAnchors: [fixtures.root.certificate]) }

    static let expiry = Date(timeIntervalSince1970: 1_796_454_000)  // 2026-12-05T07:00:00Z

    static func challenge(_ purpose: EvidencePurpose = .login, expiresAt: Date = expiry) throws -> EvidenceChallenge {
        try EvidenceChallenge(
            id: "00112233445566778899aabbccddeeff", nonce: Array(0..<32), purpose: purpose, expiresAt: expiresAt)
    }

    @Test(
        "origins written as a browser sends them are accepted",
        arguments: [
            "https://portal.example.jp", "http://127.0.0.1:8080", "https://xn--eckwd4c7c.jp:8443", "http://[::1]:9000",
            "http://localhost:1",
        ])
    func acceptedOrigins(_ text: String) throws {
        #expect(try PortalOrigin(text).description == text)
    }

    @Test(
        "anything else is refused, never tidied",
        arguments: [
            "https://portal.example.jp/", "https://portal.example.jp/login", "HTTPS://portal.example.jp",
            "https://Portal.example.jp", "https://portal.example.jp:443", "http://127.0.0.1:80", "ftp://example.jp",
            "https://user@portal.example.jp", "https://portal.example.jp?x=1", "https://portal.example.jp#top",
            "https://", "https://portal.example.jp:0", "https://portal.example.jp:65536",
            "https://portal.example.jp:08",
            "https://portal..jp", "https://ポータル.jp", "https://portal.example.jp\nX-Evil: 1", "https://[::1",
            "https://portal.example.jp:", "http://" + String(repeating: "a", count: 250),
        ])
    func refusedOrigins(_ text: String) {
        let error = #expect(throws: EvidenceError.self) { try PortalOrigin(text) }
        #expect(error?.code == .malformedOrigin)
        #expect(error?.description.contains("\n") == false, "the message shows no control characters")
    }

    @Test("a loopback http origin counts as secure, as browsers count it; a public http one does not")
    func trustworthy() throws {
        #expect(try PortalOrigin("http://127.0.0.1:8080").isPotentiallyTrustworthy)
        #expect(try PortalOrigin("https://portal.example.jp").isPotentiallyTrustworthy)
        #expect(try !PortalOrigin("http://portal.example.jp").isPotentiallyTrustworthy)
    }

    @Test("flow and step names are short lower-case words", arguments: ["", "Login", "ic card", "9x", "a/b"])
    func purposeNames(_ name: String) {
        #expect(throws: EvidenceError.self) { try EvidencePurpose(flow: name, step: "step") }
        #expect(throws: EvidenceError.self) { try EvidencePurpose(flow: "flow", step: name) }
    }

    @Test("what the key signs is eight lines of text that bind every field, and openssl verifies the signature")
    func signedText() async throws {
        let origin = try PortalOrigin("https://portal.example.jp")
        let challenge = try Self.challenge(try EvidencePurpose(flow: "ic-card-renewal", step: "new-card"))
        let signer = try signer
        let der = try fixtures.rsaLeaf.serializeAsPEM().derBytes
        let fingerprint = SHA256.hash(data: der).map { String(format: "%02x", $0) }.joined()
        let expected = """
            ProcurementIdentity card evidence 1
            origin: https://portal.example.jp
            flow: ic-card-renewal
            step: new-card
            challenge: 00112233445566778899aabbccddeeff
            nonce: AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8
            expires: 2026-12-05T07:00:00Z
            certificate: \(fingerprint)

            """
        let bytes = try challenge.signedBytes(origin: origin, certificate: fixtures.rsaLeaf)
        #expect(String(decoding: bytes, as: UTF8.self) == expected)
        #expect(bytes.first != 0x31, "never the first byte of DER signed attributes")

        let evidence = try await challenge.sign(for: origin, with: signer)
        let message = try fixtures.write(bytes, fixtures.uniqueName("txt"))
        let signature = try fixtures.write(evidence.signature, fixtures.uniqueName("sig"))
        let key = fixtures.uniqueName("pub")
        try #require(fixtures.openssl(["x509", "-in", "leaf.pem", "-pubkey", "-noout", "-out", key]).status == 0)
        let result = try fixtures.openssl(["dgst", "-sha256", "-verify", key, "-signature", signature, message])
        #expect(result.status == 0 && result.output.contains("Verified OK"), "\(result.output)")
    }

    @Test("the JSON forms read back the same, and the challenge's JSON has the documented fields")
    func json() async throws {
        let origin = try PortalOrigin("http://127.0.0.1:8080")
        let challenge = try Self.challenge()
        let challengeJSON = try JSONEncoder().encode(challenge)
        let fields = try #require(try JSONSerialization.jsonObject(with: challengeJSON) as? [String: String])
        #expect(
            fields == [
                "id": "00112233445566778899aabbccddeeff", "nonce": "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8",
                "flow": "login", "step": "login", "expiresAt": "2026-12-05T07:00:00Z",
            ])
        #expect(try JSONDecoder().decode(EvidenceChallenge.self, from: challengeJSON) == challenge)

        let evidence = try await challenge.sign(for: origin, with: try signer)
        let json = try JSONEncoder().encode(evidence)
        #expect(try JSONDecoder().decode(CardEvidence.self, from: json) == evidence)
        let object = try #require(try JSONSerialization.jsonObject(with: json) as? [String: Any])
        #expect(object["format"] as? String == "procurement-identity-evidence:1")
        #expect(object["algorithm"] as? String == "RS256")
        #expect(object["origin"] as? String == "http://127.0.0.1:8080")
    }

    @Test(
        "malformed evidence does not decode",
        arguments: [
            ("format", "web-eid:1.0"), ("algorithm", "PS256"), ("algorithm", "none"), ("origin", "https://a.jp/"),
            ("certificate", "!!!"), ("certificate", "AAAA"), ("signature", ""), ("signature", "%%%"),
            ("challengeID", String(repeating: "a", count: 65)),
        ])
    func malformedJSON(_ field: String, _ value: String) async throws {
        let evidence = try await Self.challenge().sign(for: .inProcess, with: try signer)
        var object = try #require(
            try JSONSerialization.jsonObject(with: try JSONEncoder().encode(evidence)) as? [String: Any])
        object[field] = value
        let json = try JSONSerialization.data(withJSONObject: object)
        #expect(throws: DecodingError.self) { try JSONDecoder().decode(CardEvidence.self, from: json) }
    }

    @Test("a chain longer than four certificates does not decode")
    func longChain() async throws {
        let evidence = try await Self.challenge().sign(for: .inProcess, with: try signer)
        var object = try #require(
            try JSONSerialization.jsonObject(with: try JSONEncoder().encode(evidence)) as? [String: Any])
        let chain = try #require(object["chain"] as? [String])
        object["chain"] = Array(repeating: chain[0], count: 5)
        let json = try JSONSerialization.data(withJSONObject: object)
        #expect(throws: DecodingError.self) { try JSONDecoder().decode(CardEvidence.self, from: json) }
    }

    @Test("the checks: each refusal has its code; the good evidence passes")
    func checks() async throws {
        let origin = try PortalOrigin("https://portal.example.jp")
        // An expiry an hour from now: the fixtures' certificates are valid from a day before they were made, so a
        // fixed date falls out of their validity as the calendar moves on.
        let expiry = Date().addingTimeInterval(3_600)
        let challenge = try Self.challenge(expiresAt: expiry)
        let evidence = try await challenge.sign(for: origin, with: try signer)
        let now = expiry.addingTimeInterval(-60)
        func code(_ body: () async throws -> VerifiedEvidence) async -> EvidenceError.Code? {
            do {
                _ = try await body()
                return nil
            } catch { return (error as? EvidenceError)?.code }
        }
        let verified = try await evidence.verify(
            challenge, origin: origin, purpose: .login, at: now, validator: validator)
        #expect(verified.certificate == fixtures.rsaLeaf)

        let renewal = try EvidencePurpose(flow: "ic-card-renewal", step: "current-card")
        #expect(
            await code {
                try await evidence.verify(challenge, origin: origin, purpose: renewal, at: now, validator: validator)
            }
                == .wrongStep)
        #expect(
            await code {
                try await evidence.verify(
                    challenge, origin: origin, purpose: .login, at: expiry.addingTimeInterval(1),
                    validator: validator)
            } == .challengeExpired)
        let other = try PortalOrigin("https://other.example.jp")
        #expect(
            await code {
                try await evidence.verify(challenge, origin: other, purpose: .login, at: now, validator: validator)
            }
                == .foreignOrigin)
        // The certificate swapped for another one (the signature binds the signing certificate's fingerprint).
        var swapped = evidence
        swapped.certificate = fixtures.otherLeaf
        #expect(
            await code {
                try await swapped.verify(challenge, origin: origin, purpose: .login, at: now, validator: validator)
            }
                == .signatureInvalid)
        // A trust anchor that did not issue it.
        let stranger = CertificateValidator(trustAnchors: [
            try TestCertificates.makeRoot(name: "Other Root", rsa: true).certificate
        ])
        #expect(
            await code {
                try await evidence.verify(challenge, origin: origin, purpose: .login, at: now, validator: stranger)
            }
                == .certificateUntrusted)
        // Another challenge than the one answered.
        let second = try EvidenceChallenge(
            id: "ffeeddccbbaa99887766554433221100", nonce: Array(0..<32), purpose: .login, expiresAt: expiry)
        #expect(
            await code {
                try await evidence.verify(second, origin: origin, purpose: .login, at: now, validator: validator)
            }
                == .malformedEvidence)
    }
}
