import CardCredentials
import CardSimulator
import Foundation
import ISO7816
import PCSC
import Testing
import X509

extension EndToEnd {
    /// CardCredentials' ``ICCard`` reader through the real stack (pcscd and vpcd) against the virtual private-CA
    /// IC card, with openssl as the independent judge of its signatures.
    @Suite("IC card reader (ICCard) through pcscd")
    struct ICCardEndToEndTests {
        static let slot = 1

        @Test("connect and read the holder certificate in three APDUs; the CA certificate issued it")
        func readCertificate() async throws {
            let material = try SimulatorFixture.get()
            let sim = try PrivateCAICCard(snapshot: material.icCard)
            try await TestBench.withCard(sim, slot: Self.slot) { _, context, reader in
                let connection = try await context.connect(to: reader)
                let card = try await ICCard.connect(transport: connection, profile: .procurementIdentitySimulator)
                let der = try await card.certificateDER()
                #expect(der == material.icCard.holderCertificate)
                #expect(card.channel.statistics.apdusSent == 3, "SELECT AP, SELECT EF, one extended READ BINARY")
                let certificate = try await card.certificate()
                #expect(certificate.subject.description.contains("O=株式会社試験建設"))
                let ca = try #require(try await card.caCertificate())
                #expect(certificate.issuer == ca.subject)
                await connection.disconnect()
            }
        }

        @Test("a short-APDU card is read through pcscd in 256-byte pieces")
        func readCertificateShort() async throws {
            let material = try SimulatorFixture.get()
            let sim = try PrivateCAICCard(
                snapshot: material.icCard,
                behavior: CardBehavior(
                    supportsExtendedLength: false, blockedPINStatus: .authenticationMethodBlocked,
                    verifiedPINQuery: .success))
            var profile = ICCardProfile.procurementIdentitySimulator
            profile.extendedLength = .unsupported
            try await TestBench.withCard(sim, slot: Self.slot) { _, context, reader in
                let connection = try await context.connect(to: reader)
                let card = ICCard(transport: connection, profile: profile)
                #expect(try await card.certificateDER() == material.icCard.holderCertificate)
                let reads = (material.icCard.holderCertificate.count + 255) / 256
                #expect(card.channel.statistics.apdusSent == 2 + reads)
                await connection.disconnect()
            }
        }

        @Test("a wrong PIN costs one try and says so; the card counts the same")
        func wrongPIN() async throws {
            let material = try SimulatorFixture.get()
            let sim = try PrivateCAICCard(snapshot: material.icCard)
            try await TestBench.withCard(sim, slot: Self.slot) { _, context, reader in
                let connection = try await context.connect(to: reader)
                let card = try await ICCard.connect(transport: connection, profile: .procurementIdentitySimulator)
                let policy = card.profile.pinPolicy
                await #expect(throws: CardCredentialsError.wrongPIN(triesLeft: 9)) {
                    try await card.verifyPIN(try SecretPIN("NOT-THE-PIN", policy: policy))
                }
                #expect(try await card.pinStatus() == .triesLeft(9))
                #expect(sim.triesLeft == 9)
                try await card.verifyPIN(try SecretPIN(SimulatorFixture.icCardPIN, policy: policy))
                #expect(sim.triesLeft == 10)
                await connection.disconnect()
            }
        }

        @Test(
            "a signature made through pcscd verifies with openssl dgst -sha256 -verify and the card's certificate",
            .enabled(if: OpenSCTools.isCI || OpenSCTools.path(of: "openssl") != nil))
        func signAndVerifyWithOpenSSL() async throws {
            let material = try SimulatorFixture.get()
            let sim = try PrivateCAICCard(snapshot: material.icCard)
            let directory = FileManager.default.temporaryDirectory.appending(path: "e2e-iccard-\(UUID().uuidString)")
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(at: directory) }
            let document = Array("入札書: 案件 2026-001, 金額 12,345,000 円\n".utf8)

            let (signature, certificateDER) = try await TestBench.withCard(sim, slot: Self.slot) {
                _, context, reader in
                let connection = try await context.connect(to: reader)
                let card = try await ICCard.connect(transport: connection, profile: .procurementIdentitySimulator)
                let pin = try SecretPIN(SimulatorFixture.icCardPIN, policy: card.profile.pinPolicy)
                let key = try await card.signingKey(pin: pin)
                card.channel.resetStatistics()
                let signature = try await key.sign(document, algorithm: .rsaPKCS1SHA256)
                #expect(card.channel.statistics.apdusSent == 1, "the PIN is still verified: one APDU")
                let der = try await card.certificateDER()
                await connection.disconnect()
                return (signature, der)
            }
            #expect(signature.count == 256)

            let documentURL = directory.appending(path: "bid.txt")
            let signatureURL = directory.appending(path: "bid.sig")
            let certificateURL = directory.appending(path: "holder.der")
            let publicKeyURL = directory.appending(path: "holder.pub.pem")
            try Data(document).write(to: documentURL)
            try Data(signature).write(to: signatureURL)
            try Data(certificateDER).write(to: certificateURL)
            try await OpenSCTools.succeed(
                "openssl",
                [
                    "x509", "-inform", "DER", "-in", certificateURL.path, "-pubkey", "-noout", "-out",
                    publicKeyURL.path,
                ])
            let verified = try await OpenSCTools.succeed(
                "openssl",
                ["dgst", "-sha256", "-verify", publicKeyURL.path, "-signature", signatureURL.path, documentURL.path])
            #expect(verified.contains("Verified OK"))

            // The same signature does not verify another document.
            try Data(document + [0x20]).write(to: documentURL)
            let refused = try await OpenSCTools.run(
                "openssl",
                ["dgst", "-sha256", "-verify", publicKeyURL.path, "-signature", signatureURL.path, documentURL.path])
            #expect(refused.status != 0)
            #expect(refused.output.contains("Verification failure"))
        }

        @Test("a card pulled during the signature is reported as removed, not as a PIN or card error")
        func cardPulledMidSignature() async throws {
            let material = try SimulatorFixture.get()
            let sim = try PrivateCAICCard(snapshot: material.icCard)
            let faults = FaultInjector()
            try await TestBench.withCard(sim, slot: Self.slot, faults: faults) { server, context, reader in
                let connection = try await context.connect(to: reader)
                let card = try await ICCard.connect(transport: connection, profile: .procurementIdentitySimulator)
                let pin = try SecretPIN(SimulatorFixture.icCardPIN, policy: card.profile.pinPolicy)
                let key = try await card.signingKey(pin: pin)
                faults.arm(.pullCard, matching: { $0.ins == 0x2A })
                let error = await #expect(throws: CardCredentialsError.self) {
                    _ = try await key.sign(Array("abc".utf8), algorithm: .rsaPKCS1SHA256)
                }
                #expect(error == .cardRemoved, "got \(String(describing: error))")
                #expect(error?.description.contains("Insert it again") == true)
                #expect(!server.isInserted)
                // The reader stays usable and says the same, it does not hang.
                await #expect(throws: CardCredentialsError.self) { _ = try await card.certificateDER() }
                #expect(sim.triesLeft == 10)
                await connection.disconnect()
            }
        }

        @Test("a card pulled during READ BINARY is reported as removed")
        func cardPulledMidRead() async throws {
            let material = try SimulatorFixture.get()
            let sim = try PrivateCAICCard(snapshot: material.icCard)
            let faults = FaultInjector()
            var profile = ICCardProfile.procurementIdentitySimulator
            profile.extendedLength = .unsupported
            try await TestBench.withCard(sim, slot: Self.slot, faults: faults) { _, context, reader in
                let connection = try await context.connect(to: reader)
                let card = ICCard(transport: connection, profile: profile)
                faults.arm(.pullCard, skipping: 1, matching: { $0.ins == 0xB0 })
                await #expect(throws: CardCredentialsError.cardRemoved) { _ = try await card.certificate() }
                await connection.disconnect()
            }
        }

        @Test("the JPKI card in the reader is not the private-CA card")
        func jpkiCardIsNotThisCard() async throws {
            let material = try SimulatorFixture.get()
            let sim = try JPKICard(snapshot: material.jpki)
            try await TestBench.withCard(sim, slot: Self.slot) { _, context, reader in
                let connection = try await context.connect(to: reader)
                let error = await #expect(throws: CardCredentialsError.self) {
                    _ = try await ICCard.connect(transport: connection, profile: .procurementIdentitySimulator)
                }
                guard case .notThisCard? = error else {
                    Issue.record("expected notThisCard, got \(String(describing: error))")
                    return
                }
                await connection.disconnect()
            }
        }
    }
}
