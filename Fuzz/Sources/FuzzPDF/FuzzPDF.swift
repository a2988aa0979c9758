// The PDF reader (PDFSignature): a PDF as `jpki sign-pdf` and `jpki verify-pdf` read it — the cross-reference
// sections (tables and streams, object streams, incremental updates), the catalog and page tree (the first page
// and page 2, as a visible signature asks), and every signature field with its /ByteRange, /Contents and CMS,
// verified against a validator that trusts nothing, time-stamp token included. Nothing is signed: a signature
// needs a key, and what is written is the reader's output appended to the input.
import CardCredentials
import Foundation
import FuzzSupport
import PDFSignature

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ start: UnsafeRawPointer, _ count: Int) -> CInt {
    let bytes = fuzzBytes(start, count)
    do {
        try PAdES.checkSignable(bytes)
    } catch {
        _ = error.description
    }
    var options = PAdES.Options()
    options.appearance = PAdES.Appearance(page: 2, x: 10, y: 10, width: 100, height: 40)
    _ = try? PAdES.checkSignable(bytes, options: options)
    runBlocking {
        do {
            for report in try await PAdES.verify(bytes, validator: CertificateValidator(trustAnchors: [])) {
                _ = report.timeStamp?.time
            }
        } catch {
            _ = "\(error)"
        }
    }
    return 0
}
