// The JPKI article's code: a My Number card in the reader "Virtual PCD 00 00" (pcscd), its certificates and PIN
// statuses, a CMS signature with its signing key, the errors a person can act on, and certificate validation.
// With `--vpcd` the run first serves a simulated card in that reader (its certificates do not chain to J-LIS).

// snippet.connect
import CardCredentials
// snippet.hide
import CardSimulator
// snippet.show
import Foundation
import JPKI
import PCSC

// snippet.hide
let typedPIN = "ABC123"
let document = Array("入札書".utf8)
let signatureURL = FileManager.default.temporaryDirectory.appending(path: "jpki-snippet-\(UUID().uuidString).p7s")
let directory = FileManager.default.temporaryDirectory.appending(path: "jpki-snippet-\(UUID().uuidString)")
let server = VPCDCardServer(port: VPCDCardServer.port(forSlot: 0))
if CommandLine.arguments.contains("--vpcd") {
    let authority = try TestCertificateAuthority(directory: directory)
    try await server.insert(
        try JPKICard.issue(by: authority, holder: .example, signingPIN: typedPIN, authenticationPIN: "1234"))
    _ = try await PCSCContext().slot(named: "Virtual PCD 00 00").waitForCard(timeout: .seconds(10))
}
// snippet.show
let context = try PCSCContext()
let connection = try await context.connect(to: "Virtual PCD 00 00")
let card = try await MyNumberCard.connect(transport: connection)

// Free certificates, and how many tries each PIN has left (no try is spent).
let authentication = try await card.certificate(.authentication)
let statuses = try await card.pinStatuses()  // [.signing: .triesLeft(5), …]

// The PIN's form is checked before anything reaches the card.
let pin = try SecretPIN(typedPIN, policy: .jpkiSigning)

// The signing key as CardCredentials' CardKey: a Signer for CMS and a CustomPrivateKey for CSRs.
let key = try await card.signingKey(pin: pin)
let signature = try await CMSSignedData.sign(document, with: key)  // detached, DER
try Data(signature.derEncoded).write(to: signatureURL)
// snippet.end

// snippet.hide
print(statuses.sorted { "\($0.key)" < "\($1.key)" }.map { "\($0.key): \($0.value)" })
print(signature.derEncoded.count, "bytes of CMS SignedData")
try? FileManager.default.removeItem(at: signatureURL)

// snippet.show
// snippet.errors
do {
    try await card.verifyPIN(pin, for: .signing)
} catch let error where error.code == .wrongPIN {  // every MyNumberCard operation throws(JPKIError)
    print("\(error.triesLeft ?? 0) tries left")  // ask again, showing the tries left
} catch let error where error.code == .lastTryRefused {
    // ask the person to make sure, then retry with allowLastTry: true
    // snippet.hide
} catch {
    throw error  // without this catch, Swift 6.3.1 crashes compiling a typed-throws catch pattern at top level
    // snippet.show
}
// snippet.end

// snippet.hide
do {
    // snippet.show
    // snippet.validate
    let chain = try await MyNumberCard.validate(authentication, for: .authentication)
    // snippet.end
    // snippet.hide
    print(chain.count, "certificates up to the J-LIS root")
} catch let error where error.code == .certificateRejected {
    print("Not a J-LIS certificate (a simulated card?):", error.validationResult.map { "\($0)" } ?? "")
} catch {
    throw error  // without this catch, Swift 6.3.1 crashes compiling a typed-throws catch pattern at top level
}
await connection.disconnect()
await server.remove()
try? FileManager.default.removeItem(at: directory)
