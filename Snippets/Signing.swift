// The signing article's code: a PKCS#12 file opened, a new key and certificate kept as a file credential, a
// My Number card's key used for a CSR, and CMS SignedData made and checked. A simulated card and the simulator's
// certification authority stand in for the real ones.

// snippet.hide
import CardCredentials
import CardSimulator
import Foundation
import JPKI
import X509
import _CryptoExtras

let authority = try TestCertificateAuthority.temporary()  // its directory is removed when it is released

// A file credential from the simulator's CA, written as a legacy PKCS#12 file as older CAs issue them.
let fileKey = try CardRSAKey.generate()
let fileCertificate = try authority.issueEBiddingCertificate(
    for: .example, publicKey: fileKey, validity: .valid(days: 365))
let typedPassword = "file-pass-1234"
let fileBytes = try FileCredential(
    privateKeyPEM: fileKey.pemRepresentation, certificate: fileCertificate,
    chain: [authority.rootCertificate(.eBidding)]
)
.pkcs12(password: try SecretPIN(typedPassword, policy: .password()), encryption: .legacy)

// snippet.show
// snippet.openPKCS12
let password = try SecretPIN(typedPassword, policy: .password())
let credential = try FileCredential(pkcs12: fileBytes, password: password)
print(credential.certificate.subject, credential.chain.count)
// snippet.end

// snippet.hide
let ca = authority.rootCertificate(.eBidding)
let newPassword = try SecretPIN("new-pass-5678", policy: .password())
do {
    // A key made with swift-crypto and its newly issued certificate.
    let key = try _RSA.Signing.PrivateKey(keySize: .bits2048)
    let issued = try authority.issueEBiddingCertificate(
        for: .example, publicKey: CardRSAKey(pemRepresentation: key.pemRepresentation), validity: .valid(days: 365))
    // snippet.show
    // snippet.exportPKCS12
    let credential = try FileCredential(privateKeyDER: Array(key.derRepresentation), certificate: issued, chain: [ca])
    let p12 = try credential.pkcs12(password: newPassword, encryption: .aes256, friendlyName: "電子入札")
    // snippet.end
    // snippet.hide
    print(p12.count, "bytes of PKCS#12")
}

let jpkiCard = try JPKICard.issue(by: authority, holder: .example, signingPIN: "ABC123", authenticationPIN: "1234")
let slot = SimulatedSlot(name: "Simulated reader")
slot.insert(jpkiCard)
let card = try await MyNumberCard.connect(transport: try await slot.connect())
let pin = try SecretPIN("ABC123", policy: .jpkiSigning)

// snippet.show
// snippet.cardKey
let key = try await card.signingKey(pin: pin)  // a CardKey: the PIN verified, the certificate read
let csr = try await CertificateSigningRequest(
    version: .v1, subject: key.certificate.subject, asyncPrivateKey: Certificate.PrivateKey(key),
    attributes: CertificateSigningRequest.Attributes(), signatureAlgorithm: .sha256WithRSAEncryption)
// snippet.end

// snippet.hide
print(csr.subject)
let document = Array("入札書".utf8)
let roots = [authority.rootCertificate(.jpkiSigning)]

// snippet.show
// snippet.cms
let signed = try await CMSSignedData.sign(document, with: key)  // detached .p7s
let pem = signed.pemEncoded  // -----BEGIN CMS-----
// snippet.hide
let p7sFileBytes = signed.derEncoded
// snippet.show

let received = try CMSSignedData(bytes: p7sFileBytes)  // DER, BER or PEM
let validator = CertificateValidator(trustAnchors: roots)
let result = try await received.verify(content: document, validator: validator)
// snippet.end

// snippet.hide
print(pem.prefix(20), result.signers.map { CertificateSummary($0.certificate).holderName ?? "" })
