import CardCredentials
import Foundation
import PDFSignature
import Testing

@Suite struct VisibleSignatureTests {
    func visible(_ appearance: PAdES.Appearance, pdf: [UInt8] = SamplePDF.classic()) async throws -> [UInt8] {
        var options = PAdES.Options()
        options.appearance = appearance
        options.signingTime = Date(timeIntervalSince1970: 1_796_000_000)
        return try await PAdES.sign(pdf, with: try await PDFFixture.get().key(), options: options)
    }

    @Test func theWidgetHasTheRectangleAndAnAppearanceStream() async throws {
        let signed = try await visible(PAdES.Appearance(page: 1, x: 360, y: 50, width: 200, height: 60.5))
        let update = String(decoding: signed.dropFirst(SamplePDF.classic().count), as: UTF8.self)
        #expect(update.contains("/Rect [360 50 560 110.5]"), "\(update.prefix(2000))")
        #expect(update.contains("/AP <</N "))
        #expect(update.contains("/Subtype /Form") && update.contains("/BBox [0 0 200 60.5]"))
        #expect(update.contains("/BaseFont /Helvetica"))
        #expect(update.contains("(Digitally signed by) Tj"))
        #expect(update.contains("(Date: 2026-11-30 00:53:20 UTC) Tj"), "the signing time, in UTC")
        let reports = try await PAdES.verify(signed, validator: try PDFFixture.get().validator)
        #expect(reports.count == 1 && reports[0].coversWholeDocument)
    }

    @Test func aJapaneseNameIsReplacedByTheSerialNumber() async throws {
        // The simulated card's holder has a kanji name: Helvetica cannot show it.
        let signed = try await visible(PAdES.Appearance(page: 1, x: 10, y: 10, width: 300, height: 50))
        let update = String(decoding: signed.dropFirst(SamplePDF.classic().count), as: UTF8.self)
        #expect(update.contains("(certificate serial "), "\(update.prefix(3000))")
    }

    @Test(arguments: [0, 2, 99]) func aPageOutOfRangeIsAClearError(page: Int) throws {
        var options = PAdES.Options()
        options.appearance = PAdES.Appearance(page: page, x: 10, y: 10, width: 100, height: 40)
        do {
            try PAdES.checkSignable(SamplePDF.classic(), options: options)
            Issue.record("page \(page) of a one-page PDF was accepted")
        } catch {
            #expect(error.code == .invalidAppearance)
            #expect(error.reason == "page \(page) was asked for, but the document has 1 page", "\(error.reason)")
            #expect(error.description.contains("give a page that exists"))
        }
    }

    @Test func anEmptyRectangleIsRefused() throws {
        var options = PAdES.Options()
        options.appearance = PAdES.Appearance(page: 1, x: 10, y: 10, width: 0, height: 40)
        #expect(throws: PDFSignatureError.self) { try PAdES.checkSignable(SamplePDF.classic(), options: options) }
        options.appearance = PAdES.Appearance(page: 1, x: .infinity, y: 10, width: 10, height: 40)
        #expect(throws: PDFSignatureError.self) { try PAdES.checkSignable(SamplePDF.classic(), options: options) }
    }

    /// qpdf's JSON view of the form: the signature field's page and the widget's rectangle, read by qpdf.
    @Test(.enabled(if: verifiersInstalled)) func onPageTwoVerifiersAgreeAndQpdfSeesTheWidget() async throws {
        let fixture = try PDFFixture.get()
        let id = UUID().uuidString
        let single = fixture.file("single-\(id).pdf").path
        let double = fixture.file("double-\(id).pdf").path
        try Data(SamplePDF.classic()).write(to: URL(filePath: single))
        let made = try #require(try runTool("qpdf", ["--empty", "--pages", single, single, "--", double]))
        #expect(made.status == 0, "\(made.output)")
        let original = Array(try Data(contentsOf: URL(filePath: double)))
        let signed = try await visible(PAdES.Appearance(page: 2, x: 72, y: 72, width: 180, height: 54), pdf: original)
        try PAdESInteroperabilityTests().check(signed, name: "visible-\(id).pdf")
        let path = fixture.file("visible-\(id).pdf").path
        let json = try #require(try runTool("qpdf", ["--json", "--json-key=acroform", path]))
        let object = try JSONSerialization.jsonObject(with: Data(json.output.utf8)) as? [String: Any]
        let fields = (object?["acroform"] as? [String: Any])?["fields"] as? [[String: Any]] ?? []
        let field = try #require(fields.first { $0["fieldtype"] as? String == "/Sig" }, "\(json.output)")
        #expect(field["pageposfrom1"] as? Int == 2, "\(field)")
        let widget = try #require((field["annotation"] as? [String: Any])?["object"] as? String, "\(field)")
        let rect = try qpdfObject(widget, in: path)["/Rect"] as? [Any]
        #expect(
            rect?.compactMap { ($0 as? NSNumber)?.doubleValue } == [72, 72, 252, 126], "\(String(describing: rect))")
        // The second page's /Annots holds the widget.
        let pages = try #require(try runTool("qpdf", ["--json", "--json-key=pages", path]))
        let list = (try JSONSerialization.jsonObject(with: Data(pages.output.utf8)) as? [String: Any])?["pages"]
        let second = try #require((list as? [[String: Any]])?.first { $0["pageposfrom1"] as? Int == 2 })
        let page = try qpdfObject(try #require(second["object"] as? String), in: path)
        #expect((page["/Annots"] as? [String])?.contains(widget) == true, "\(page)")

        let output = try PyHankoTests().python(PyHankoTests.script, [fixture.file("root.pem").path, path])
        #expect(output.split(separator: "\n").contains("Signature1 True True True ENTIRE_FILE"), "\(output)")
    }

    /// One object's dictionary as qpdf's JSON (version 2) shows it.
    func qpdfObject(_ reference: String, in path: String) throws -> [String: Any] {
        let json = try #require(try runTool("qpdf", ["--json", "--json-key=qpdf", "--json-object=\(reference)", path]))
        let root = try JSONSerialization.jsonObject(with: Data(json.output.utf8)) as? [String: Any]
        let entry = (root?["qpdf"] as? [Any])?.compactMap { $0 as? [String: Any] }.first {
            $0["obj:\(reference)"] != nil
        }
        return try #require(
            (entry?["obj:\(reference)"] as? [String: Any])?["value"] as? [String: Any], "\(json.output)")
    }
}
