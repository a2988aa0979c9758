import CardCredentials
import CardSimulator
import Foundation
import ISO7816
import Testing
import X509

/// Cards and a CA made once per test run; each test serves a fresh card made from these snapshots.
enum SimulatorFixture {
    static let signingPIN = "SIGN2026"
    static let authenticationPIN = "4321"
    static let icCardPIN = "AOSIGN-1"

    struct Material: Sendable {
        let authority: TestCertificateAuthority
        let jpki: JPKICard.Snapshot
        let icCard: PrivateCAICCard.Snapshot
    }

    static let shared: Result<Material, any Error> = Result {
        let directory = FileManager.default.temporaryDirectory.appending(path: "e2e-ca-\(UUID().uuidString)")
        let authority = try TestCertificateAuthority(directory: directory)
        let jpki = try JPKICard.issue(
            by: authority, holder: .example, signingPIN: signingPIN, authenticationPIN: authenticationPIN)
        let icCard = try PrivateCAICCard.issue(by: authority, holder: .example, pin: icCardPIN)
        return Material(authority: authority, jpki: jpki.snapshot, icCard: icCard.snapshot)
    }

    static func get() throws -> Material { try shared.get() }
}

extension EndToEnd {
    /// The virtual JPKI card served through pcscd and vpcd, as OpenSC (an independent implementation of the JPKI
    /// protocol) and openssl see it.
    @Suite("OpenSC against the virtual JPKI card", .enabled(if: OpenSCTools.enabled))
    struct OpenSCJPKITests {
        static let slot = 1

        @Test("opensc-tool sees the JPKI answer to reset")
        func atr() async throws {
            let card = try JPKICard(snapshot: try SimulatorFixture.get().jpki)
            try await TestBench.withCard(card, slot: Self.slot) { _, _, reader in
                let output = try await OpenSCTools.succeed("opensc-tool", ["--reader", reader, "--atr"])
                #expect(output.trimmingCharacters(in: .whitespacesAndNewlines) == "3b:e0:00:ff:81:31:fe:45:14")
            }
        }

        @Test("pkcs15-tool lists the four JPKI certificates and both PINs with their tries left")
        func listCertificatesAndPINs() async throws {
            let material = try SimulatorFixture.get()
            let card = try JPKICard(snapshot: material.jpki)
            try await TestBench.withCard(card, slot: Self.slot) { _, _, reader in
                let output = try await OpenSCTools.succeed(
                    "pkcs15-tool", ["--reader", reader, "--list-certificates", "--list-pins"])
                let certificates = output.components(separatedBy: "X.509 Certificate [").dropFirst().map {
                    String($0.prefix { $0 != "]" })
                }
                #expect(
                    certificates == [
                        "User Authentication Certificate", "Digital Signature Certificate",
                        "User Authentication Certificate CA", "Digital Signature Certificate CA",
                    ])
                #expect(output.contains("Path           : 000a"))
                #expect(output.contains("Path           : 0001"))
                // The signing certificate is private: no serial is shown before the PIN.
                #expect(output.components(separatedBy: "Encoded serial").count == 4)
                #expect(output.contains("PIN [User Authentication PIN]"))
                #expect(output.contains("PIN [Digital Signature PIN]"))
                #expect(tries(in: output) == [3, 5])

                // A wrong signing PIN through OpenSC costs one try, on the card and in OpenSC's listing.
                let wrong = try await OpenSCTools.run(
                    "pkcs15-tool", ["--reader", reader, "--verify-pin", "--auth-id", "02", "--pin", "WRONG99"])
                #expect(wrong.status != 0)
                #expect(card.triesLeft(.signing) == 4)
                let after = try await OpenSCTools.succeed("pkcs15-tool", ["--reader", reader, "--list-pins"])
                #expect(tries(in: after) == [3, 4])
            }
        }

        @Test("pkcs15-tool reads the private signing certificate after the signing PIN")
        func readSigningCertificate() async throws {
            let material = try SimulatorFixture.get()
            let card = try JPKICard(snapshot: material.jpki)
            try await TestBench.withCard(card, slot: Self.slot) { _, _, reader in
                let pem = try await OpenSCTools.succeed(
                    "pkcs15-tool",
                    [
                        "--reader", reader, "--read-certificate", "02", "--auth-id", "02", "--verify-pin", "--pin",
                        SimulatorFixture.signingPIN,
                    ])
                let certificate = try Certificate(pemEncoded: pem)
                #expect(try Certificate(derEncoded: material.jpki.signingCertificate) == certificate)
                let person = try #require(JPKIPersonalAttributes(certificate: certificate))
                #expect(person.name == JPKIHolder.example.name)
            }
        }

        @Test("pkcs11-tool signs with the signing key; openssl verifies it with the certificate read back")
        func signWithPKCS11AndVerifyWithOpenSSL() async throws {
            let material = try SimulatorFixture.get()
            let card = try JPKICard(snapshot: material.jpki)
            let directory = FileManager.default.temporaryDirectory.appending(path: "e2e-sign-\(UUID().uuidString)")
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(at: directory) }
            let message = directory.appending(path: "message.txt")
            let signature = directory.appending(path: "signature.bin")
            let certificate = directory.appending(path: "signing.pem")
            let publicKey = directory.appending(path: "public.pem")
            try Data("入札書 No. 2026-0042: ¥12,345,000".utf8).write(to: message)

            try await TestBench.withCard(card, slot: Self.slot) { _, _, reader in
                let slots = try await OpenSCTools.succeed(
                    "pkcs11-tool", ["--module", OpenSCTools.pkcs11Module, "--list-slots"])
                #expect(slots.contains("JPKI (Digital Signature PIN)"))
                #expect(slots.contains("JPKI (User Authentication PIN)"))
                try await OpenSCTools.succeed(
                    "pkcs11-tool",
                    [
                        "--module", OpenSCTools.pkcs11Module, "--token-label", "JPKI (Digital Signature PIN)",
                        "--login", "--pin", SimulatorFixture.signingPIN, "--sign", "--mechanism", "SHA256-RSA-PKCS",
                        "--id", "02", "--input-file", message.path, "--output-file", signature.path,
                    ])
                let pem = try await OpenSCTools.succeed(
                    "pkcs15-tool",
                    [
                        "--reader", reader, "--read-certificate", "02", "--auth-id", "02", "--verify-pin", "--pin",
                        SimulatorFixture.signingPIN,
                    ])
                try Data(pem.utf8).write(to: certificate)
            }
            #expect(try Data(contentsOf: signature).count == 256)
            #expect(card.triesLeft(.signing) == 5)
            try await OpenSCTools.succeed(
                "openssl", ["x509", "-in", certificate.path, "-pubkey", "-noout", "-out", publicKey.path])
            let verified = try await OpenSCTools.succeed(
                "openssl",
                ["dgst", "-sha256", "-verify", publicKey.path, "-signature", signature.path, message.path])
            #expect(verified.contains("Verified OK"))
            // The same signature over another message must not verify.
            try Data("入札書 No. 2026-0042: ¥12,345,001".utf8).write(to: message)
            let forged = try await OpenSCTools.run(
                "openssl", ["dgst", "-sha256", "-verify", publicKey.path, "-signature", signature.path, message.path])
            #expect(forged.status != 0)
        }

        @Test("a wrong PIN through pkcs11-tool costs a try and signs nothing")
        func wrongPINThroughPKCS11() async throws {
            let card = try JPKICard(snapshot: try SimulatorFixture.get().jpki)
            try await TestBench.withCard(card, slot: Self.slot) { _, _, _ in
                let result = try await OpenSCTools.run(
                    "pkcs11-tool",
                    [
                        "--module", OpenSCTools.pkcs11Module, "--token-label", "JPKI (Digital Signature PIN)",
                        "--login", "--pin", "WRONG99", "--sign", "--mechanism", "SHA256-RSA-PKCS", "--id", "02",
                        "--input-file", "/dev/null", "--output-file", "/dev/null",
                    ])
                #expect(result.status != 0)
                #expect(result.errorOutput.contains("CKR_PIN_INCORRECT"))
                #expect(card.triesLeft(.signing) == 4)
            }
        }
    }
}

/// The "Tries left" values of a `pkcs15-tool --list-pins` listing, in order.
func tries(in listing: String) -> [Int] {
    listing.split(separator: "\n").compactMap { line in
        guard line.contains("Tries left") else { return nil }
        return line.split(separator: ":").last.flatMap { Int($0.trimmingCharacters(in: .whitespaces)) }
    }
}
