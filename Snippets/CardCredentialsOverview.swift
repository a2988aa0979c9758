// The CardCredentials article's code: a PIN verified, a certificate summarised for the confirmation screen, and
// a certificate validated with a revocation list. A simulated My Number card stands in for the reader.

// snippet.verifyPIN
import CardCredentials
// snippet.hide
import CardSimulator
import Foundation
// snippet.show
import ISO7816
// snippet.hide
import X509

// snippet.show

func verifySigningPIN(typed: String, channel: CardChannel) async throws {
    // Refused here, before any byte reaches the card, when the form is wrong ("abc-12").
    let pin = try SecretPIN(typed, policy: .jpkiSigning)  // "abc123" becomes "ABC123"
    let verifier = PINVerifier(channel: channel, policy: .jpkiSigning)  // the signing PIN EF is selected
    do {
        try await verifier.verify(pin)  // 2 APDUs: tries-left query, VERIFY
    } catch CardCredentialsError.lastTryRefused {
        // Ask the person to make sure, then: try await verifier.verify(pin, allowLastTry: true)
    } catch CardCredentialsError.wrongPIN(let triesLeft) {
        print("Wrong PIN: \(triesLeft) tries left")
    } catch CardCredentialsError.pinBlocked {
        print(CardCredentialsError.pinBlocked)  // "The PIN is blocked (閉塞) …"
    }
}
// snippet.end

// snippet.hide
let directory = FileManager.default.temporaryDirectory.appending(path: "credentials-snippet-\(UUID().uuidString)")
let authority = try TestCertificateAuthority(directory: directory)
let card = try JPKICard.issue(by: authority, holder: .example, signingPIN: "ABC123", authenticationPIN: "1234")
let slot = SimulatedSlot(name: "Simulated reader")
slot.insert(card)
let channel = CardChannel(transport: try await slot.connect())
_ = try await channel.transmit(.select(aid: JPKICard.jpkiAID)).successData(for: "SELECT JPKI")
_ = try await channel.transmit(.select(fileID: 0x001B)).successData(for: "SELECT signing PIN")
try await verifySigningPIN(typed: "XYZ789", channel: channel)  // a wrong PIN: 4 tries left
try await verifySigningPIN(typed: "abc123", channel: channel)  // the right one
do {
    try await verifySigningPIN(typed: "abc-12", channel: channel)
} catch {
    print(error)  // refused before anything was sent
}
let bytesReadFromTheCard = card.snapshot.signingCertificate

// snippet.show
// snippet.summary
let certificate = try Certificate(derEncoded: bytesReadFromTheCard)
let summary = CertificateSummary(certificate)
for line in summary.labeledFields {
    print("\(line.label)\t: \(line.value)")  // "ICカード業者名称\t: 〇〇建設株式会社", …, "証明書有効期限\t: 2026/11/15"
}
if let person = summary.jpkiPersonalAttributes {
    print(person.name ?? "", person.dateOfBirth?.description ?? "")  // "山田　花子 1980-02-17"
}
// snippet.end

// snippet.hide
// The simulated card's certificate does not chain to the J-LIS roots: the validation below ends in
// untrustedChain, which the last case prints.
let downloadedCRL = try authority.publishCRL(for: .jpkiSigning)

// snippet.show
// snippet.validate
let crl = try CertificateRevocationList(bytes: downloadedCRL)  // DER or PEM
let validator = CertificateValidator(
    trustAnchors: JPKITrustAnchors.signing, intermediates: [], crls: [crl], revocation: .required)
switch await validator.validate(certificate, for: .signing) {
case .valid(let chain):
    print("valid, \(chain.count) certificates")
case .revoked(let reason, let date, _):
    print("revoked on \(date): \(reason?.description ?? "no reason given")")
case let failure:
    print(failure)  // .expired, .crlStale, .crlSignatureInvalid, .keyUsageMismatch, .untrustedChain, …
}
// snippet.end

// snippet.hide
try? FileManager.default.removeItem(at: directory)
