// PKCS#12 files (file credentials, `openssl pkcs12 -export`): opened with the seeds' password; a file that opens
// is used to sign, as a file credential is.
import CardCredentials
import FuzzSupport

/// The password of the seeds (Fuzz/make-corpus exports them with it).
let password: SecretPIN? = try? SecretPIN("fuzz", policy: .password())

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ start: UnsafeRawPointer, _ count: Int) -> CInt {
    let bytes = fuzzBytes(start, count)
    guard let password else { return 0 }
    do {
        let credential = try FileCredential(pkcs12: bytes, password: password)
        _ = CertificateSummary(credential.certificate)
        _ = credential.chain.count
        runBlocking {
            // The key's type decides which of the two applies; the other is refused.
            for algorithm in [SigningAlgorithm.rsaPKCS1SHA256, .ecdsaSHA256] {
                _ = try? await credential.sign(Array("fuzz".utf8), algorithm: algorithm)
            }
        }
    } catch {
        _ = error.description
    }
    return 0
}
