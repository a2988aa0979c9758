// Certificate revocation lists as a portal downloads them (DER or PEM): parsing, lookups, and the signature check
// against an issuer certificate.
import CardCredentials
import Crypto
import Foundation
import FuzzSupport
import X509

/// An issuer for the signature check (an ECDSA key made once; the check runs whether or not it is the signer).
let issuer: Certificate? = {
    let key = P256.Signing.PrivateKey()
    guard let name = try? DistinguishedName(builder: { CommonName("Fuzz CA") }) else { return nil }
    return try? Certificate(
        version: .v3, serialNumber: Certificate.SerialNumber(), publicKey: .init(key.publicKey),
        notValidBefore: Date(timeIntervalSince1970: 0), notValidAfter: Date(timeIntervalSince1970: 4_000_000_000),
        issuer: name, subject: name, signatureAlgorithm: .ecdsaWithSHA256, extensions: Certificate.Extensions(),
        issuerPrivateKey: .init(key))
}()

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ start: UnsafeRawPointer, _ count: Int) -> CInt {
    let bytes = fuzzBytes(start, count)
    let crl: CertificateRevocationList
    do {
        crl = try CertificateRevocationList(bytes: bytes)
    } catch {
        _ = error.description
        return 0
    }
    _ = crl.count
    _ = crl.crlNumber
    _ = crl.signatureAlgorithmOID
    _ = crl.unsupportedCriticalExtensions
    _ = DirectoryString.display(crl.issuer)
    _ = crl.isStale(at: Date(timeIntervalSince1970: 1_767_225_600))
    // Serial numbers from the input's last bytes: some of them are the CRL's own entries.
    for length in [1, 3, 8, 20] where bytes.count >= length {
        let serial = Certificate.SerialNumber(bytes: bytes.suffix(length))
        if let entry = crl.entry(for: serial) {
            _ = entry.reason?.description
            _ = entry.revocationDate
        }
        _ = crl.contains(serial)
    }
    if let issuer { _ = crl.isSignatureValid(issuer: issuer) }
    return 0
}
