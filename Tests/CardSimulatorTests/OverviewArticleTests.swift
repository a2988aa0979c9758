import CardSimulator
import Foundation
import ISO7816
import Testing
import X509

/// The code of the module's overview article, run as written (in-process parts), so the article stays true.
@Suite struct OverviewArticleTests {
    @Test func articleCodeRuns() async throws {
        let directory = FileManager.default.temporaryDirectory.appending(path: "article-ca-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: directory) }
        let authority = try TestCertificateAuthority(directory: directory)
        let card = try JPKICard.issue(
            by: authority, holder: .example, signingPIN: "ABC123", authenticationPIN: "1234")

        let expiring = try PrivateCAICCard.issue(
            by: authority, holder: .example, pin: "PASS1234", validity: .expiring(inDays: 20))
        let holderCertificate = try Certificate(derEncoded: expiring.snapshot.holderCertificate)
        #expect(holderCertificate.notValidAfter < Date().addingTimeInterval(21 * 86_400))

        let slot = SimulatedSlot(name: "Simulated reader")
        slot.insert(card)
        let channel = CardChannel(transport: try await slot.connect())
        _ = try await channel.transmit(CommandAPDU(ins: 0xA4, p1: 0x04, p2: 0x0C, data: JPKICard.jpkiAID))
        _ = try await channel.transmit(CommandAPDU(ins: 0xA4, p1: 0x02, p2: 0x0C, data: [0x00, 0x0A]))
        let authenticationCertificate = try await channel.readTransparentFile()
        #expect(authenticationCertificate == card.snapshot.authenticationCertificate)

        let signing = try Certificate(derEncoded: card.snapshot.signingCertificate)
        try authority.revoke(signing.serialNumber, reason: .affiliationChanged)
        let crl = try authority.publishCRL(for: .jpkiSigning)
        #expect(crl.first == 0x30)
        #expect(
            try authority.issuedCertificates().first { $0.revocation != nil }?.revocation?.reason == .affiliationChanged
        )
    }
}
