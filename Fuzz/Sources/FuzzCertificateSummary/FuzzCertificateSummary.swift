// Certificate summaries as the confirmation screens show them (CardCredentials' CertificateSummary), with the
// JPKI personal attributes of a signing certificate: a certificate in DER from a card or a file, parsed as the
// library parses those (Certificate(untrustedDER:)), every field read.
import CardCredentials
import FuzzSupport
import X509

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ start: UnsafeRawPointer, _ count: Int) -> CInt {
    let bytes = fuzzBytes(start, count)
    guard let certificate = try? Certificate(untrustedDER: bytes) else { return 0 }
    let summary = CertificateSummary(certificate)
    for field in summary.labeledFields {
        _ = field.label
        _ = field.value
    }
    _ = summary.keyUsageNames
    _ = summary.expiryText
    _ = CertificateSummary.japanDate(summary.notValidBefore)
    if let person = summary.jpkiPersonalAttributes ?? JPKIPersonalAttributes(certificate: certificate) {
        _ = person.sexLabel
        _ = person.dateOfBirth?.description
        if let text = person.dateOfBirthText { _ = JPKIDateOfBirth(text) }
        _ = person.name
        _ = person.address
    }
    _ = DirectoryString.display(certificate.subject)
    _ = DirectoryString.display(certificate.issuer)
    return 0
}
