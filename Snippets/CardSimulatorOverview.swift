// The CardSimulator article's code: a certification authority and its cards, a card read in process, a card
// served to pcscd through vpcd (only with `--vpcd`, since it takes the first vpcd reader), and a revocation.

// snippet.makeCard
import CardSimulator
import Foundation
import ISO7816
import X509

// snippet.hide
// The directory the article names; removed at the end unless it was there before.
let caDirectoryExisted = FileManager.default.fileExists(atPath: "/tmp/test-ca")
// snippet.show
let authority = try TestCertificateAuthority(directory: URL(filePath: "/tmp/test-ca"))
let card = try JPKICard.issue(
    by: authority, holder: .example, signingPIN: "ABC123", authenticationPIN: "1234")
// snippet.end

// snippet.expiring
let expiring = try PrivateCAICCard.issue(
    by: authority, holder: .example, pin: "PASS1234", validity: .expiring(inDays: 20))
// snippet.end

// snippet.hide
print(try Certificate(derEncoded: expiring.snapshot.holderCertificate).notValidAfter)

// snippet.show
// snippet.inProcess
let slot = SimulatedSlot(name: "Simulated reader")
slot.insert(card)
let channel = CardChannel(transport: try await slot.connect())
_ = try await channel.transmit(CommandAPDU(ins: 0xA4, p1: 0x04, p2: 0x0C, data: JPKICard.jpkiAID))
_ = try await channel.transmit(CommandAPDU(ins: 0xA4, p1: 0x02, p2: 0x0C, data: [0x00, 0x0A]))
let authenticationCertificate = try await channel.readTransparentFile()
// snippet.end

// snippet.hide
print(authenticationCertificate == card.snapshot.authenticationCertificate)
if CommandLine.arguments.contains("--vpcd") {
    // snippet.show
    // snippet.vpcd
    let server = VPCDCardServer(port: VPCDCardServer.port(forSlot: 0))
    try await server.insert(card)
    // … run the client …
    await server.remove()
    // snippet.end
    // snippet.hide
}

// snippet.show
// snippet.revoke
let signing = try Certificate(derEncoded: card.snapshot.signingCertificate)
try authority.revoke(signing.serialNumber, reason: .affiliationChanged)
let crl = try authority.publishCRL(for: .jpkiSigning)  // DER, signed, also written to the directory
// snippet.end

// snippet.hide
print(crl.count, "bytes of CRL")
if !caDirectoryExisted {
    try? FileManager.default.removeItem(at: URL(filePath: "/tmp/test-ca"))
}
