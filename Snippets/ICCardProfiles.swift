// The IC card profile article's code: a profile for another CA's card, then a bid signed with it. The simulated
// private-CA card in the hidden setup is not Example CA's card, so the run ends at the profile's first check.

// snippet.profile
import CardCredentials
// snippet.hide
import CardSimulator
import Foundation
// snippet.show
import ISO7816

extension ICCardProfile {
    /// Example CA's e-bidding IC card, from the CA's card specification.
    static let exampleCA = ICCardProfile(
        name: "Example CA's e-bidding IC card",
        applicationID: [0xD3, 0x92, 0x00, 0x00, 0x99, 0x01, 0x01],
        holderCertificateFileID: 0x2F01,
        caCertificateFileID: 0x2F02,
        pinReference: 0x81,
        pinPolicy: .privateCA(length: 4...8, allowedCharacters: .lettersAndDigits, maximumTries: 5),
        blockedPINStatusWords: [.referenceDataNotUsable],
        signatureP1: 0x9E, signatureP2: 0x9A,
        extendedLength: .unknown)
}
// snippet.end

// snippet.sign
func signBid(_ document: [UInt8], typedPIN: String, connection: any CardTransport) async throws -> [UInt8] {
    // Refused here, before any byte reaches the card, when the PIN has the wrong form.
    let pin = try SecretPIN(typedPIN, policy: ICCardProfile.exampleCA.pinPolicy)
    // One APDU: SELECT of the profile's application. Another CA's card fails here with notThisCard.
    let card = try await ICCard.connect(transport: connection, profile: .exampleCA)
    let certificate = try await card.certificate()  // SELECT EF, READ BINARY
    print(CertificateSummary(certificate).labeledFields.map(\.value))
    // Tries-left query, VERIFY (never the last try unless allowLastTry), then a CardKey.
    let key = try await card.signingKey(pin: pin)
    return try await key.sign(document, algorithm: .rsaPKCS1SHA256)  // checked against the certificate
}
// snippet.end

// snippet.hide
let directory = FileManager.default.temporaryDirectory.appending(path: "profile-snippet-\(UUID().uuidString)")
let authority = try TestCertificateAuthority(directory: directory)
let simulatorCard = try PrivateCAICCard.issue(by: authority, holder: .example, pin: "PASS1234")
let slot = SimulatedSlot(name: "Simulated reader")
slot.insert(simulatorCard)
do {
    _ = try await signBid(Array("入札書".utf8), typedPIN: "PASS1234", connection: try await slot.connect())
} catch CardCredentialsError.notThisCard(let profile, let reason) {
    print("not \(profile): \(reason)")
}
try? FileManager.default.removeItem(at: directory)
