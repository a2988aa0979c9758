// CMS SignedData (a signed file from a card or `openssl cms -sign`): parsing (DER or PEM), then verification —
// signatures only, and with a validator that trusts the SignedData's own certificates so the chain and key-usage
// rules run too. A detached SignedData is checked against FuzzCMS.detachedContent (the seeds' signed text).
import CardCredentials
import Foundation
import FuzzSupport
import X509

/// The content the detached seeds sign (Fuzz/make-corpus signs the same bytes).
let detachedContent = Array("入札書 fuzz seed\n".utf8)

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ start: UnsafeRawPointer, _ count: Int) -> CInt {
    let bytes = fuzzBytes(start, count)
    let signedData: CMSSignedData
    do {
        signedData = try CMSSignedData(bytes: bytes)
    } catch {
        _ = error.description
        return 0
    }
    _ = signedData.isDetached
    _ = signedData.pemEncoded
    for signer in signedData.signerInfos {
        _ = signer.identifier
        _ = signer.algorithm
        _ = signer.signingTime
        _ = signer.hasSignedAttributes
    }
    let content = signedData.isDetached ? detachedContent : nil
    let time = Date(timeIntervalSince1970: 1_767_225_600)
    runBlocking {
        do {
            let verification = try await signedData.verifySignaturesOnly(content: content)
            for signer in verification.signers { _ = CertificateSummary(signer.certificate) }
        } catch {
            _ = "\(error)"
        }
        let validator = CertificateValidator(
            trustAnchors: signedData.certificates, intermediates: signedData.certificates, revocation: .none)
        _ = try? await signedData.verify(content: content, validator: validator, purpose: .signing, at: time)
    }
    return 0
}
