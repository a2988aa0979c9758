import CardCredentials
import CardSimulator
import Foundation
import JPKI
import PDFSignature
import Testing
import X509

/// A simulated My Number card and its CA, made once per run (RSA key generation is slow in debug builds).
struct PDFFixture: Sendable {
    static let signingPIN = "PDF2026"
    let directory: URL
    let authority: TestCertificateAuthority
    let snapshot: JPKICard.Snapshot

    static let shared: Result<PDFFixture, any Error> = Result { try PDFFixture() }
    static func get() throws -> PDFFixture { try shared.get() }

    private init() throws {
        directory = FileManager.default.temporaryDirectory.appending(path: "pades-tests-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        authority = try TestCertificateAuthority(directory: directory)
        snapshot = try JPKICard.issue(
            by: authority, holder: .example, signingPIN: Self.signingPIN, authenticationPIN: "1234"
        ).snapshot
        try authority.rootCertificatePEM(.jpkiSigning).write(
            to: directory.appending(path: "root.pem"), atomically: true, encoding: .utf8)
    }

    /// The signing key of a fresh simulated card (its PIN verified).
    func key(includeCACertificate: Bool = false) async throws -> CardKey {
        let slot = SimulatedSlot()
        slot.insert(try JPKICard(snapshot: snapshot))
        let card = MyNumberCard(transport: try await slot.connect())
        return try await card.signingKey(
            pin: try SecretPIN(Self.signingPIN, policy: .jpkiSigning), includeCACertificate: includeCACertificate)
    }

    var validator: CertificateValidator {
        CertificateValidator(trustAnchors: [authority.rootCertificate(.jpkiSigning)])
    }

    func file(_ name: String) -> URL { directory.appending(path: name) }
}

/// A small one-page PDF with a classic cross-reference table, as a minimal producer writes it.
enum SamplePDF {
    static func classic(text: String = "Nyusatsu 2026") -> [UInt8] {
        let content = "BT /F1 24 Tf 72 720 Td (\(text)) Tj ET"
        let objects = [
            "<< /Type /Catalog /Pages 2 0 R >>",
            "<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
            "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Resources << /Font << /F1 4 0 R >> >> "
                + "/Contents 5 0 R >>",
            "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
            "<< /Length \(content.utf8.count) >>\nstream\n\(content)\nendstream",
        ]
        var out = Array("%PDF-1.7\n%\u{E2}\u{E3}\u{CF}\u{D3}\n".utf8)
        var offsets: [Int] = []
        for (index, body) in objects.enumerated() {
            offsets.append(out.count)
            out += Array("\(index + 1) 0 obj\n\(body)\nendobj\n".utf8)
        }
        let xref = out.count
        out += Array("xref\n0 \(objects.count + 1)\n0000000000 65535 f\r\n".utf8)
        for offset in offsets {
            let text = String(offset)
            out += Array((String(repeating: "0", count: 10 - text.count) + text + " 00000 n\r\n").utf8)
        }
        out += Array("trailer\n<< /Size \(objects.count + 1) /Root 1 0 R >>\nstartxref\n\(xref)\n%%EOF\n".utf8)
        return out
    }
}

/// Runs a command-line tool; `nil` when it is not installed.
func runTool(_ name: String, _ arguments: [String]) throws -> (status: Int32, output: String)? {
    let candidates = ["/usr/bin/\(name)", "/usr/local/bin/\(name)"]
    guard let path = candidates.first(where: { FileManager.default.isExecutableFile(atPath: $0) }) else { return nil }
    let process = Process()
    process.executableURL = URL(fileURLWithPath: path)
    process.arguments = arguments
    let pipe = Pipe()
    process.standardOutput = pipe
    process.standardError = pipe
    try process.run()
    let data = pipe.fileHandleForReading.readDataToEndOfFile()
    return (process.waitForExit(), String(decoding: data, as: UTF8.self))
}

/// Whether the independent verifiers are here (Scripts/setup-test-bench installs them; CI must have them).
let verifiersInstalled =
    ProcessInfo.processInfo.environment["CI"] == "true"
    || (FileManager.default.isExecutableFile(atPath: "/usr/bin/pdfsig")
        && FileManager.default.isExecutableFile(atPath: "/usr/bin/qpdf"))

@Suite struct PAdESTests {
    @Test func aSignedPDFKeepsTheOriginalBytesAndVerifies() async throws {
        let fixture = try PDFFixture.get()
        let original = SamplePDF.classic()
        let key = try await fixture.key()
        let signed = try await PAdES.sign(original, with: key)
        #expect(Array(signed.prefix(original.count)) == original, "an incremental update leaves the bytes as they were")
        let text = String(decoding: signed.dropFirst(original.count), as: UTF8.self)
        #expect(text.contains("/SubFilter /ETSI.CAdES.detached"))
        #expect(text.contains("/Filter /Adobe.PPKLite"))
        #expect(text.contains("/FT /Sig") && text.contains("/Rect [0 0 0 0]"))
        #expect(text.contains("\nxref\n"), "a classic table is updated with a classic table")
        let reports = try await PAdES.verify(signed, validator: fixture.validator)
        #expect(reports.count == 1)
        #expect(reports.first?.fieldName == "Signature1")
        #expect(reports.first?.coversWholeDocument == true)
        #expect(reports.first?.signer == key.certificate)
    }

    @Test func theCMSIsBaselineBB() async throws {
        let fixture = try PDFFixture.get()
        let signed = try await PAdES.sign(SamplePDF.classic(), with: try await fixture.key())
        let (content, der) = try SignedParts.of(signed)
        let cms = try CMSSignedData(bytes: der)
        #expect(cms.isDetached)
        #expect(cms.certificates.count == 1, "the signer's certificate only: the verifier holds the root")
        let verified = try await cms.verifySignaturesOnly(content: content)
        #expect(verified.signers.first?.signingTime == nil, "no signing-time attribute: the time is /M")
        // id-aa-signingCertificateV2 (1.2.840.113549.1.9.16.2.47) among the signed attributes.
        let oid: [UInt8] = [0x06, 0x0B, 0x2A, 0x86, 0x48, 0x86, 0xF7, 0x0D, 0x01, 0x09, 0x10, 0x02, 0x2F]
        #expect(der.indices.contains { der[$0...].starts(with: oid) })
        #expect(String(decoding: signed, as: UTF8.self).contains("/M (D:"))
    }

    @Test func aChangedByteIsCaught() async throws {
        let fixture = try PDFFixture.get()
        var signed = try await PAdES.sign(SamplePDF.classic(), with: try await fixture.key())
        let text = String(decoding: signed, as: UTF8.self)
        let place = try #require(text.range(of: "Nyusatsu 2026"))
        signed[text.utf8.distance(from: text.startIndex, to: place.lowerBound)] = UInt8(ascii: "M")
        await #expect(throws: CardCredentialsError.cmsContentMismatch) {
            _ = try await PAdES.verify(signed, validator: fixture.validator)
        }
    }

    @Test func anUntrustedSignerIsRefused() async throws {
        let fixture = try PDFFixture.get()
        let signed = try await PAdES.sign(SamplePDF.classic(), with: try await fixture.key())
        do {
            _ = try await PAdES.verify(signed, validator: CertificateValidator(trustAnchors: JPKITrustAnchors.all))
            Issue.record("a signature by the simulator's CA was trusted under the J-LIS roots")
        } catch CardCredentialsError.cmsSignerNotTrusted {
        }
    }

    @Test func aSecondSignatureIsAnotherFieldAndTheFirstStillVerifies() async throws {
        let fixture = try PDFFixture.get()
        let once = try await PAdES.sign(SamplePDF.classic(), with: try await fixture.key())
        var options = PAdES.Options()
        options.reason = "承認"
        let twice = try await PAdES.sign(
            once, with: try await fixture.key(includeCACertificate: true), options: options)
        #expect(Array(twice.prefix(once.count)) == once)
        let reports = try await PAdES.verify(twice, validator: fixture.validator)
        #expect(reports.map(\.fieldName) == ["Signature1", "Signature2"])
        #expect(reports.map(\.coversWholeDocument) == [false, true])
        #expect(reports.first?.signedLength == once.count)
    }

    @Test func aPDFWithoutSignatureSaysSo() async throws {
        await #expect(throws: PDFSignatureError.self) {
            _ = try await PAdES.verify(SamplePDF.classic(), validator: try PDFFixture.get().validator)
        }
    }

    @Test func damagedInputIsAnErrorNotATrap() async throws {
        let original = SamplePDF.classic()
        for cut in stride(from: 0, to: original.count, by: 37) {
            var damaged = original
            damaged.removeSubrange(cut..<min(original.count, cut + 20))
            do {
                try PAdES.checkSignable(damaged)
            } catch {
                #expect(error.code == .malformedPDF)
            }
        }
        #expect(throws: PDFSignatureError.self) { try PAdES.checkSignable(Array("not a pdf".utf8)) }
    }
}

/// Tests with files made by other producers and checked by independent verifiers: qpdf makes xref streams, object
/// streams and encrypted files; poppler's pdfsig and qpdf --check judge what we wrote.
@Suite(.enabled(if: verifiersInstalled)) struct PAdESInteroperabilityTests {
    func write(_ bytes: [UInt8], _ name: String) throws -> String {
        let url = try PDFFixture.get().file(name)
        try Data(bytes).write(to: url)
        return url.path
    }

    func check(_ signed: [UInt8], name: String, signatures: Int = 1) throws {
        let path = try write(signed, name)
        let qpdf = try #require(try runTool("qpdf", ["--check", path]))
        #expect(qpdf.status == 0, "\(qpdf.output)")
        #expect(qpdf.output.contains("No syntax or stream encoding errors found"))
        let pdfsig = try #require(try runTool("pdfsig", [path]))
        #expect(
            pdfsig.output.components(separatedBy: "Signature is Valid.").count - 1 == signatures, "\(pdfsig.output)")
        #expect(pdfsig.output.contains("Signature Type: ETSI.CAdES.detached"), "\(pdfsig.output)")
        #expect(pdfsig.output.contains("Total document signed"), "\(pdfsig.output)")
    }

    @Test func aClassicTableVerifiesInPdfsigAndQpdf() async throws {
        let signed = try await PAdES.sign(SamplePDF.classic(), with: try await PDFFixture.get().key())
        try check(signed, name: "classic-signed-\(UUID().uuidString).pdf")
    }

    @Test func xrefAndObjectStreamsFromQpdf() async throws {
        let fixture = try PDFFixture.get()
        let source = try write(SamplePDF.classic(), "plain-\(UUID().uuidString).pdf")
        let streams = fixture.file("streams-\(UUID().uuidString).pdf").path
        let made = try #require(try runTool("qpdf", ["--object-streams=generate", source, streams]))
        #expect(made.status == 0, "\(made.output)")
        let original = Array(try Data(contentsOf: URL(fileURLWithPath: streams)))
        #expect(String(decoding: original, as: UTF8.self).contains("/ObjStm"))
        let signed = try await PAdES.sign(original, with: try await fixture.key())
        #expect(Array(signed.prefix(original.count)) == original)
        #expect(String(decoding: signed.dropFirst(original.count), as: UTF8.self).contains("/Type /XRef"))
        try check(signed, name: "streams-signed-\(UUID().uuidString).pdf")
        let reports = try await PAdES.verify(signed, validator: fixture.validator)
        #expect(reports.count == 1 && reports[0].coversWholeDocument)
    }

    @Test func aPDFSignedTwiceKeepsBothValidInPdfsig() async throws {
        let fixture = try PDFFixture.get()
        let once = try await PAdES.sign(SamplePDF.classic(), with: try await fixture.key())
        let twice = try await PAdES.sign(once, with: try await fixture.key())
        let path = try write(twice, "twice-\(UUID().uuidString).pdf")
        let pdfsig = try #require(try runTool("pdfsig", [path]))
        #expect(pdfsig.output.components(separatedBy: "Signature is Valid.").count - 1 == 2, "\(pdfsig.output)")
        #expect(pdfsig.output.contains("Total document signed"))
        #expect(pdfsig.output.contains("Not total document signed"))
        let qpdf = try #require(try runTool("qpdf", ["--check", path]))
        #expect(qpdf.status == 0, "\(qpdf.output)")
    }

    @Test func anEncryptedPDFIsRefusedBeforeSigning() async throws {
        let fixture = try PDFFixture.get()
        let source = try write(SamplePDF.classic(), "plain-\(UUID().uuidString).pdf")
        let encrypted = fixture.file("encrypted-\(UUID().uuidString).pdf").path
        let made = try #require(try runTool("qpdf", ["--encrypt", "user", "owner", "256", "--", source, encrypted]))
        #expect(made.status == 0, "\(made.output)")
        let bytes = Array(try Data(contentsOf: URL(fileURLWithPath: encrypted)))
        #expect(throws: PDFSignatureError(.encryptedPDF, "its trailer has /Encrypt")) {
            try PAdES.checkSignable(bytes)
        }
        #expect(PDFSignatureError(.encryptedPDF, "x").description.contains("encrypted"))
    }
}

/// The signed bytes and the CMS of the last signature, found the way a verifier finds them.
enum SignedParts {
    static func of(_ pdf: [UInt8]) throws -> ([UInt8], [UInt8]) {
        let text = String(decoding: pdf, as: UTF8.self)
        let marker = try #require(text.range(of: "/ByteRange [", options: .backwards))
        let numbers = text[marker.upperBound...].prefix { $0 != "]" }.split(separator: " ").compactMap { Int($0) }
        try #require(numbers.count == 4)
        let content = Array(pdf[0..<numbers[1]]) + Array(pdf[numbers[2]..<(numbers[2] + numbers[3])])
        let hex = Array(pdf[(numbers[1] + 1)..<(numbers[2] - 1)])
        var der: [UInt8] = []
        var index = 0
        while index + 1 < hex.count {
            let pair = String(decoding: hex[index...(index + 1)], as: UTF8.self)
            der.append(UInt8(pair, radix: 16) ?? 0)
            index += 2
        }
        return (content, Array(der.prefix(derLength(der))))
    }
}

func derLength(_ bytes: [UInt8]) -> Int {
    guard bytes.count > 4, bytes[0] == 0x30 else { return bytes.count }
    if bytes[1] < 0x80 { return 2 + Int(bytes[1]) }
    let count = Int(bytes[1] & 0x7F)
    return 2 + count + bytes[2..<(2 + count)].reduce(0) { $0 << 8 | Int($1) }
}

/// pyHanko, a third verifier: the Python that `PYHANKO_PYTHON` names, or the one Scripts/setup-test-bench installs it
/// into (so CI, which runs that script, runs these tests; without either they fail rather than pass unseen).
struct PyHankoTests {
    static let pythonPath =
        ProcessInfo.processInfo.environment["PYHANKO_PYTHON"] ?? "/opt/procurement-identity/pyhanko/bin/python"

    static let script = """
        import sys
        from pyhanko.pdf_utils.reader import PdfFileReader
        from pyhanko.sign.validation import validate_pdf_signature
        from pyhanko_certvalidator import ValidationContext
        from pyhanko.keys import load_cert_from_pemder
        context = ValidationContext(
            trust_roots=[load_cert_from_pemder(sys.argv[1])], allow_fetching=False, revocation_mode='soft-fail')
        with open(sys.argv[2], 'rb') as f:
            for signature in PdfFileReader(f).embedded_signatures:
                status = validate_pdf_signature(signature, context)
                print(signature.field_name, status.intact, status.valid, status.trusted, status.coverage.name)
        """

    static let signScript = """
        import sys
        from pyhanko.sign import signers
        from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
        signer = signers.SimpleSigner.load(sys.argv[1], sys.argv[2])
        with open(sys.argv[3], 'rb') as f:
            out = signers.sign_pdf(
                IncrementalPdfFileWriter(f), signers.PdfSignatureMetadata(field_name='Earlier'), signer=signer)
        with open(sys.argv[4], 'wb') as f:
            f.write(out.getvalue())
        """

    /// Runs `script` with the pyHanko Python; returns its output.
    func python(_ script: String, _ arguments: [String]) throws -> String {
        let fixture = try PDFFixture.get()
        let path = fixture.file("script-\(UUID().uuidString).py")
        try script.write(to: path, atomically: true, encoding: .utf8)
        let process = Process()
        try #require(
            FileManager.default.isExecutableFile(atPath: Self.pythonPath),
            "no pyHanko Python at \(Self.pythonPath): run Scripts/setup-test-bench, or set PYHANKO_PYTHON")
        process.executableURL = URL(fileURLWithPath: Self.pythonPath)
        process.arguments = [path.path] + arguments
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        try process.run()
        let output = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        #expect(process.waitForExit() == 0, "\(output)")
        return output
    }

    @Test func aPDFSignedByPyHankoFirstKeepsBothSignaturesValid() async throws {
        let fixture = try PDFFixture.get()
        let id = UUID().uuidString
        let key = fixture.file("other-\(id).key").path
        let certificate = fixture.file("other-\(id).pem").path
        let made = try #require(
            try runTool(
                "openssl",
                [
                    "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", certificate, "-days", "30",
                    "-subj", "/CN=Another signer", "-addext", "keyUsage=critical,digitalSignature,nonRepudiation",
                ]))
        #expect(made.status == 0, "\(made.output)")
        let plain = fixture.file("plain-\(id).pdf")
        let first = fixture.file("pyhanko-signed-\(id).pdf")
        try Data(SamplePDF.classic()).write(to: plain)
        _ = try python(Self.signScript, [key, certificate, plain.path, first.path])
        let earlier = Array(try Data(contentsOf: first))
        let signed = try await PAdES.sign(earlier, with: try await fixture.key())
        #expect(Array(signed.prefix(earlier.count)) == earlier)
        let other = try Certificate(pemEncoded: String(contentsOfFile: certificate, encoding: .utf8))
        let validator = CertificateValidator(
            trustAnchors: [fixture.authority.rootCertificate(.jpkiSigning), other], revocation: .none)
        let reports = try await PAdES.verify(signed, validator: validator)
        #expect(reports.map(\.fieldName) == ["Earlier", "Signature1"])
        #expect(reports.map(\.coversWholeDocument) == [false, true])
        let pdf = fixture.file("both-\(id).pdf")
        try Data(signed).write(to: pdf)
        let pdfsig = try #require(try runTool("pdfsig", [pdf.path]))
        #expect(pdfsig.output.components(separatedBy: "Signature is Valid.").count - 1 == 2, "\(pdfsig.output)")
    }

    @Test func pyHankoFindsBothSignaturesIntactAndTrusted() async throws {
        let fixture = try PDFFixture.get()
        let python = PyHankoTests.pythonPath
        let once = try await PAdES.sign(SamplePDF.classic(), with: try await fixture.key())
        let twice = try await PAdES.sign(once, with: try await fixture.key())
        let pdf = fixture.file("pyhanko-\(UUID().uuidString).pdf")
        let script = fixture.file("validate-\(UUID().uuidString).py")
        try Data(twice).write(to: pdf)
        try Self.script.write(to: script, atomically: true, encoding: .utf8)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: python)
        process.arguments = [script.path, fixture.file("root.pem").path, pdf.path]
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        try process.run()
        let output = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        #expect(process.waitForExit() == 0, "\(output)")
        #expect(
            output.split(separator: "\n").suffix(2) == [
                "Signature1 True True True ENTIRE_REVISION", "Signature2 True True True ENTIRE_FILE",
            ], "\(output)")
    }
}
