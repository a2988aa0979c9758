import CardCredentials
import Foundation
import PDFSignature
import Testing

/// PDFs this library did not write, signed and then judged by pdfsig, qpdf and pyHanko: LibreOffice Writer's
/// (Fixtures/libreoffice-japanese.pdf, Japanese text in an embedded IPAGothic subset, made by
/// Scripts/make-libreoffice-pdf), qpdf's object streams, and a PDF signed once already.
@Suite(.enabled(if: verifiersInstalled)) struct OtherProducersTests {
    static func libreOfficePDF() throws -> [UInt8] {
        let url = try #require(Bundle.module.url(forResource: "Fixtures/libreoffice-japanese", withExtension: "pdf"))
        return Array(try Data(contentsOf: url))
    }

    @Test func theLibreOfficeFixtureIsWhatItSays() throws {
        let pdf = try Self.libreOfficePDF()
        let text = String(decoding: pdf, as: UTF8.self)
        // /Producer (LibreOffice 7.4) in /Info, as UTF-16BE in hexadecimal.
        #expect(text.contains("/Producer<FEFF004C0069006200720065004F0066006600690063006500200037002E0034>"))
        #expect(text.contains("/Length 3 0 R"), "stream lengths as indirect objects")
        try PAdES.checkSignable(pdf)
    }

    @Test(arguments: ["libreoffice", "object-streams", "signed-once"])
    func signedAndAccepted(kind: String) async throws {
        let fixture = try PDFFixture.get()
        let id = UUID().uuidString
        let original: [UInt8]
        switch kind {
        case "libreoffice":
            original = try Self.libreOfficePDF()
        case "object-streams":
            let source = fixture.file("plain-\(id).pdf").path
            let streams = fixture.file("streams-\(id).pdf").path
            try Data(SamplePDF.classic()).write(to: URL(filePath: source))
            let made = try #require(try runTool("qpdf", ["--object-streams=generate", source, streams]))
            #expect(made.status == 0, "\(made.output)")
            original = Array(try Data(contentsOf: URL(filePath: streams)))
        default:
            original = try await PAdES.sign(SamplePDF.classic(), with: try await fixture.key())
        }
        let signed = try await PAdES.sign(original, with: try await fixture.key())
        #expect(Array(signed.prefix(original.count)) == original)
        let signatures = kind == "signed-once" ? 2 : 1
        let reports = try await PAdES.verify(signed, validator: fixture.validator)
        #expect(reports.count == signatures && reports.last?.coversWholeDocument == true)

        let path = fixture.file("\(kind)-signed-\(id).pdf").path
        try Data(signed).write(to: URL(filePath: path))
        let qpdf = try #require(try runTool("qpdf", ["--check", path]))
        #expect(qpdf.status == 0, "\(qpdf.output)")
        let pdfsig = try #require(try runTool("pdfsig", [path]))
        #expect(
            pdfsig.output.components(separatedBy: "Signature is Valid.").count - 1 == signatures, "\(pdfsig.output)")
        let output = try PyHankoTests().python(PyHankoTests.script, [fixture.file("root.pem").path, path])
        let verdicts = output.split(separator: "\n").filter { $0.hasPrefix("Signature") }
        #expect(verdicts.count == signatures, "\(output)")
        #expect(verdicts.last == "Signature\(signatures) True True True ENTIRE_FILE", "\(output)")
        #expect(verdicts.allSatisfy { $0.contains(" True True True ") }, "\(output)")
    }
}
