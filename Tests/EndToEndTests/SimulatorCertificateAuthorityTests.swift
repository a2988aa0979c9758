import CardSimulator
import Foundation
import Testing
import X509

extension EndToEnd {
    /// The test certification authority as openssl (an independent X.509 implementation) sees it: chains verify,
    /// CRLs verify against the root, and revoked certificates fail a CRL check with their reason.
    @Suite("openssl against the test certification authority", .enabled(if: OpenSCTools.enabled))
    struct SimulatorCertificateAuthorityTests {
        @Test("openssl verifies the issued chains, the CRL's signature, and sees the revocations")
        func opensslVerifiesChainsAndCRLs() async throws {
            let directory = FileManager.default.temporaryDirectory.appending(path: "e2e-ca-\(UUID().uuidString)")
            defer { try? FileManager.default.removeItem(at: directory) }
            let authority = try TestCertificateAuthority(directory: directory.appending(path: "ca"))
            // Serials fit 20 octets with the top bit clear (RFC 5280 §4.1.2.2), so no INTEGER needs sign padding.
            let card = try PrivateCAICCard.issue(by: authority, holder: .example, pin: "PASS1234")
            #expect(try Certificate(derEncoded: card.snapshot.holderCertificate).serialNumber.bytes.first ?? 0 < 0x80)
            let other = try PrivateCAICCard.issue(by: authority, holder: .example, pin: "PASS1234")
            let jpki = try JPKICard.issue(
                by: authority, holder: .example, signingPIN: "ABC123", authenticationPIN: "1234")

            let root = directory.appending(path: "root.pem")
            try authority.rootCertificatePEM(.eBidding).write(to: root, atomically: true, encoding: .utf8)
            let leaf = directory.appending(path: "leaf.pem")
            try pemText(card.snapshot.holderCertificate).write(to: leaf, atomically: true, encoding: .utf8)
            let otherLeaf = directory.appending(path: "other.pem")
            try pemText(other.snapshot.holderCertificate).write(to: otherLeaf, atomically: true, encoding: .utf8)
            let jpkiRoot = directory.appending(path: "jpki-root.pem")
            try authority.rootCertificatePEM(.jpkiSigning).write(to: jpkiRoot, atomically: true, encoding: .utf8)
            let jpkiLeaf = directory.appending(path: "jpki-signing.pem")
            try pemText(jpki.snapshot.signingCertificate).write(to: jpkiLeaf, atomically: true, encoding: .utf8)

            let chain = try await OpenSCTools.succeed("openssl", ["verify", "-CAfile", root.path, leaf.path])
            #expect(chain.contains("OK"))
            let jpkiChain = try await OpenSCTools.succeed(
                "openssl", ["verify", "-CAfile", jpkiRoot.path, jpkiLeaf.path])
            #expect(jpkiChain.contains("OK"))
            let wrongRoot = try await OpenSCTools.run("openssl", ["verify", "-CAfile", jpkiRoot.path, leaf.path])
            #expect(wrongRoot.status != 0)

            let revoked = try Certificate(derEncoded: card.snapshot.holderCertificate)
            try authority.revoke(revoked.serialNumber, reason: .keyCompromise)
            _ = try authority.publishCRL(for: .eBidding)
            let crlFile = directory.appending(path: "ca/eBidding/crl.der")
            let crlPEM = directory.appending(path: "crl.pem")
            try await OpenSCTools.succeed(
                "openssl", ["crl", "-inform", "DER", "-in", crlFile.path, "-out", crlPEM.path])
            let listing = try await OpenSCTools.run(
                "openssl", ["crl", "-inform", "DER", "-in", crlFile.path, "-CAfile", root.path, "-noout", "-text"])
            #expect(listing.status == 0)
            #expect((listing.output + listing.errorOutput).contains("verify OK"))
            #expect(listing.output.contains("Key Compromise"))
            #expect(listing.output.contains("Next Update"))

            let revokedCheck = try await OpenSCTools.run(
                "openssl", ["verify", "-crl_check", "-CAfile", root.path, "-CRLfile", crlPEM.path, leaf.path])
            #expect(revokedCheck.status != 0)
            #expect((revokedCheck.output + revokedCheck.errorOutput).contains("revoked"))
            let goodCheck = try await OpenSCTools.succeed(
                "openssl", ["verify", "-crl_check", "-CAfile", root.path, "-CRLfile", crlPEM.path, otherLeaf.path])
            #expect(goodCheck.contains("OK"))
        }
    }
}

private func pemText(_ der: [UInt8]) -> String {
    let base64 = Data(der).base64EncodedString(options: [.lineLength64Characters, .endLineWithLineFeed])
    return "-----BEGIN CERTIFICATE-----\n\(base64)\n-----END CERTIFICATE-----\n"
}
