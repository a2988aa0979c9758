import CardCredentials
import CardSimulator
import Foundation
import Testing

/// The repository's root, found from this file.
private let repositoryRoot = URL(filePath: #filePath).deletingLastPathComponent().appending(path: "../..")
    .standardizedFileURL

/// Scripts/test-tsa (openssl ts -reply behind Python's http.server on loopback), started once per run; it exits when
/// this process closes its standard input.
struct LoopbackTSA: Sendable {
    let port: Int
    let directory: URL

    static let shared: Result<LoopbackTSA, any Error> = Result { try LoopbackTSA() }
    static func get() throws -> LoopbackTSA { try shared.get() }

    private init() throws {
        directory = URL(filePath: try JPKIBench.get().file("tsa"))
        let process = Process()
        process.executableURL = URL(filePath: "/usr/bin/python3")
        process.arguments = [repositoryRoot.appending(path: "Scripts/test-tsa").path, directory.path]
        let output = Pipe()
        let input = Pipe()
        process.standardOutput = output
        process.standardInput = input
        // Not our standard error: `swift test` reads it to its end, and a server that outlived this process would
        // hold it open and stall the run.
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        _ = FileManager.default.createFile(atPath: directory.appending(path: "server.log").path, contents: nil)
        process.standardError = try FileHandle(forWritingTo: directory.appending(path: "server.log"))
        try process.run()
        Self.keepAlive = (process, input)
        var line: [UInt8] = []
        while let byte = try output.fileHandleForReading.read(upToCount: 1)?.first, byte != 0x0A { line.append(byte) }
        port = try #require(Int(String(decoding: line, as: UTF8.self)), "Scripts/test-tsa did not print its port")
    }

    nonisolated(unsafe) private static var keepAlive: (Process, Pipe)?

    func url(_ mode: String) -> String { "http://127.0.0.1:\(port)/\(mode)" }
}

/// pyHanko's verdict on each signature of a PDF ("NAME intact valid trusted coverage", and for a time-stamp
/// "timestamp intact valid trusted TIME"), trusting the PEM files given.
func pyHanko(_ pdf: String, trusting roots: [String]) async throws -> String {
    let python =
        ProcessInfo.processInfo.environment["PYHANKO_PYTHON"] ?? "/opt/procurement-identity/pyhanko/bin/python"
    try #require(FileManager.default.isExecutableFile(atPath: python), "no pyHanko Python at \(python)")
    let script = """
        import sys
        from pyhanko.pdf_utils.reader import PdfFileReader
        from pyhanko.sign.validation import validate_pdf_signature
        from pyhanko_certvalidator import ValidationContext
        from pyhanko.keys import load_cert_from_pemder
        roots = [load_cert_from_pemder(path) for path in sys.argv[2:]]
        def context():
            return ValidationContext(trust_roots=roots, allow_fetching=False, revocation_mode='soft-fail')
        with open(sys.argv[1], 'rb') as f:
            for signature in PdfFileReader(f).embedded_signatures:
                status = validate_pdf_signature(signature, context(), ts_validation_context=context())
                print(signature.field_name, status.intact, status.valid, status.trusted, status.coverage.name)
                stamp = status.timestamp_validity
                if stamp is not None:
                    print('timestamp', stamp.intact, stamp.valid, stamp.trusted, stamp.timestamp.isoformat())
        """
    let path = try JPKIBench.get().file("pyhanko-\(UUID().uuidString).py")
    try script.write(toFile: path, atomically: true, encoding: .utf8)
    let result = try await OpenSCTools.run(python, [path, pdf] + roots)
    #expect(result.status == 0, "\(result.output)\(result.errorOutput)")
    return result.output
}

extension EndToEnd {
    @Suite("jpki sign-pdf with a TSA, visible, on other producers' PDFs; jpki pin change on a terminal (through pcscd)")
    struct JPKIPDFToolTests {
        @Test(
            "jpki sign-pdf --tsa --visible: B-T and a visible widget; verify-pdf shows the time-stamp, pdfsig and pyHanko accept",
            .enabled(if: PDFTools.installed))
        func signPDFWithTimeStampAndAppearance() async throws {
            let bench = try JPKIBench.get()
            let tsa = try LoopbackTSA.get()
            let id = UUID().uuidString
            let source = bench.file("bt-\(id).pdf")
            let signed = bench.file("bt-\(id)-signed.pdf")
            try Data(PDFTools.samplePDF()).write(to: URL(filePath: source))
            try await TestBench.withCard(try bench.card()) { _, _, reader in
                let result = try await JPKITool.run(
                    [
                        "sign-pdf", "--reader", reader, source, "--out", signed, "--pin-stdin", "--tsa", tsa.url("ok"),
                        "--visible", "1:320,60,220,60",
                    ], input: JPKIBench.signingPIN)
                #expect(result.status == 0, "\(result.errorOutput)")
            }
            let tsaRoot = tsa.directory.appending(path: "tsa-ca.pem").path
            let both = bench.file("both-\(id).pem")
            try
                (String(contentsOfFile: bench.file("sign-ca.pem"), encoding: .utf8)
                + String(contentsOfFile: tsaRoot, encoding: .utf8)).write(
                    toFile: both, atomically: true, encoding: .utf8)
            let verified = try await JPKITool.run(["verify-pdf", signed, "--trust", both])
            #expect(verified.status == 0, "\(verified.errorOutput)")
            #expect(verified.output.contains("Signature1: signature valid (ETSI.CAdES.detached)"), "\(verified.output)")
            let year = Calendar(identifier: .gregorian).component(.year, from: Date())
            #expect(verified.output.contains("  time-stamp: \(year)-"), "\(verified.output)")
            #expect(verified.output.contains("CN=Test Time-Stamp Authority") && verified.output.contains("(trusted)"))
            let signingRootOnly = try await JPKITool.run(["verify-pdf", signed, "--trust", bench.file("sign-ca.pem")])
            #expect(signingRootOnly.status == 0)
            #expect(signingRootOnly.output.contains("its authority not among the trusted certificates"))

            let pdfsig = try await OpenSCTools.run("pdfsig", [signed])
            #expect(pdfsig.output.contains("Signature Validation: Signature is Valid."), "\(pdfsig.output)")
            let qpdf = try await OpenSCTools.run("qpdf", ["--check", signed])
            #expect(qpdf.status == 0, "\(qpdf.output)")
            let hanko = try await pyHanko(signed, trusting: [bench.file("sign-ca.pem"), tsaRoot])
            let lines = hanko.split(separator: "\n")
            #expect(lines.contains("Signature1 True True True ENTIRE_FILE"), "\(hanko)")
            #expect(lines.contains { $0.hasPrefix("timestamp True True True \(year)-") }, "\(hanko)")
        }

        @Test(
            "jpki sign-pdf with a TSA that refuses, answers garbage or is down: a clear error and no output file",
            .enabled(if: PDFTools.installed))
        func signPDFWithFailingTSA() async throws {
            let bench = try JPKIBench.get()
            let tsa = try LoopbackTSA.get()
            let source = bench.file("tsa-fail-\(UUID().uuidString).pdf")
            let original = Data(PDFTools.samplePDF())
            try original.write(to: URL(filePath: source))
            try await TestBench.withCard(try bench.card()) { _, _, reader in
                for (url, reason) in [
                    (tsa.url("reject"), "refused the request"), (tsa.url("garbage"), "not an RFC 3161 TimeStampResp"),
                    (tsa.url("wrong-imprint"), "message imprint"), ("http://127.0.0.1:9/", "could not be reached"),
                ] {
                    let out = source + ".signed-\(UUID().uuidString).pdf"
                    let result = try await JPKITool.run(
                        ["sign-pdf", "--reader", reader, source, "--out", out, "--pin-stdin", "--tsa", url],
                        input: JPKIBench.signingPIN)
                    #expect(result.status == 2, "\(result.errorOutput)")
                    #expect(result.errorOutput.contains("No time-stamp was obtained"), "\(result.errorOutput)")
                    #expect(result.errorOutput.contains(reason), "\(result.errorOutput)")
                    #expect(result.errorOutput.contains("nothing was written"))
                    #expect(!FileManager.default.fileExists(atPath: out), "no signed PDF without its time-stamp")
                    #expect(!result.errorOutput.contains(JPKIBench.signingPIN))
                }
            }
            #expect(try Data(contentsOf: URL(filePath: source)) == original, "the input is untouched")
        }

        @Test(
            "jpki sign-pdf --visible on a page the PDF lacks is refused before the PIN",
            .enabled(if: PDFTools.installed))
        func signPDFVisibleOutOfRange() async throws {
            let bench = try JPKIBench.get()
            let card = CountingCard(try bench.card())
            let source = bench.file("visible-\(UUID().uuidString).pdf")
            try Data(PDFTools.samplePDF()).write(to: URL(filePath: source))
            try await TestBench.withCard(card) { _, _, reader in
                let result = try await JPKITool.run(
                    [
                        "sign-pdf", "--reader", reader, source, "--out", source + ".out", "--pin-stdin", "--visible",
                        "3:1,1,9,9",
                    ],
                    input: JPKIBench.signingPIN)
                #expect(result.status == 2, "\(result.errorOutput)")
                #expect(
                    result.errorOutput.contains("page 3 was asked for, but the document has 1 page"),
                    "\(result.errorOutput)")
                #expect(card.commandCount == 0)
            }
        }

        /// PDFs from other producers, signed with the simulated card through pcscd: LibreOffice Writer (Japanese
        /// text, committed in Tests/PDFSignatureTests/Fixtures), qpdf's object streams, and a PDF signed once already.
        @Test(
            "jpki sign-pdf signs PDFs of LibreOffice, qpdf (object streams) and an already-signed PDF; pdfsig and pyHanko accept",
            .enabled(if: PDFTools.installed), arguments: ["libreoffice", "object-streams", "signed-once"])
        func signPDFsOfOtherProducers(kind: String) async throws {
            let bench = try JPKIBench.get()
            let id = UUID().uuidString
            let source = bench.file("\(kind)-\(id).pdf")
            let signed = bench.file("\(kind)-\(id)-signed.pdf")
            let plain = bench.file("plain-\(id).pdf")
            try Data(PDFTools.samplePDF()).write(to: URL(filePath: plain))
            try await TestBench.withCard(try bench.card()) { _, _, reader in
                let sign = { (input: String, output: String) in
                    try await JPKITool.run(
                        ["sign-pdf", "--reader", reader, input, "--out", output, "--pin-stdin"],
                        input: JPKIBench.signingPIN)
                }
                switch kind {
                case "libreoffice":
                    let fixture = repositoryRoot.appending(
                        path: "Tests/PDFSignatureTests/Fixtures/libreoffice-japanese.pdf")
                    try FileManager.default.copyItem(at: fixture, to: URL(filePath: source))
                case "object-streams":
                    let made = try await OpenSCTools.run("qpdf", ["--object-streams=generate", plain, source])
                    #expect(made.status == 0, "\(made.output)")
                default:
                    let first = try await sign(plain, source)
                    #expect(first.status == 0, "\(first.errorOutput)")
                }
                let result = try await sign(source, signed)
                #expect(result.status == 0, "\(result.errorOutput)")
            }
            let original = try Data(contentsOf: URL(filePath: source))
            let output = try Data(contentsOf: URL(filePath: signed))
            #expect(output.prefix(original.count) == original, "the original bytes are untouched")
            let signatures = kind == "signed-once" ? 2 : 1
            let pdfsig = try await OpenSCTools.run("pdfsig", [signed])
            #expect(
                pdfsig.output.components(separatedBy: "Signature Validation: Signature is Valid.").count - 1
                    == signatures,
                "\(pdfsig.output)")
            let qpdf = try await OpenSCTools.run("qpdf", ["--check", signed])
            #expect(qpdf.status == 0, "\(qpdf.output)")
            let hanko = try await pyHanko(signed, trusting: [bench.file("sign-ca.pem")])
            let verdicts = hanko.split(separator: "\n").filter { $0.hasPrefix("Signature") }
            #expect(verdicts.count == signatures, "\(hanko)")
            #expect(verdicts.last == "Signature\(signatures) True True True ENTIRE_FILE", "\(hanko)")
            #expect(verdicts.allSatisfy { $0.contains(" True True True ") }, "\(hanko)")
        }

        /// Drives `jpki pin change` on a pseudo-terminal (python3's pty module): it answers each prompt once seen
        /// (the tool turns echo off before printing it) and prints the terminal's whole transcript and the exit status.
        static let ptyDriver = """
            import json, os, pty, select, sys, time
            answers = json.loads(sys.argv[1])
            pid, fd = pty.fork()
            if pid == 0:
                os.execv(sys.argv[2], sys.argv[2:])
            transcript = b''
            def read(until=None, start=0, seconds=30):
                global transcript
                deadline = time.time() + seconds
                while until is None or until.encode() not in transcript[start:]:
                    ready, _, _ = select.select([fd], [], [], max(0, deadline - time.time()))
                    if not ready:
                        if until is None:
                            return
                        raise SystemExit('no prompt %r in %r' % (until, transcript))
                    try:
                        chunk = os.read(fd, 4096)
                    except OSError:
                        chunk = b''
                    if not chunk:
                        if until is None:
                            return
                        raise SystemExit('the tool ended before %r: %r' % (until, transcript))
                    transcript += chunk
            seen = 0
            for prompt, answer in answers:
                read(prompt, seen)
                seen = len(transcript)
                os.write(fd, (answer + '\\n').encode())
            read()
            _, status = os.waitpid(pid, 0)
            print(json.dumps({'transcript': transcript.decode(errors='replace'), 'status': os.waitstatus_to_exitcode(status)}))
            """

        func changeOnTerminal(_ arguments: [String], answers: [(String, String)]) async throws -> (
            transcript: String, status: Int
        ) {
            let executable = try #require(JPKITool.path)
            let script = try JPKIBench.get().file("pty-\(UUID().uuidString).py")
            try Self.ptyDriver.write(toFile: script, atomically: true, encoding: .utf8)
            let spec = String(
                decoding: try JSONSerialization.data(withJSONObject: answers.map { [$0.0, $0.1] }), as: UTF8.self)
            let result = try await OpenSCTools.run("/usr/bin/python3", [script, spec, executable] + arguments)
            #expect(result.status == 0, "\(result.output)\(result.errorOutput)")
            let object = try JSONSerialization.jsonObject(with: Data(result.output.utf8)) as? [String: Any]
            return (object?["transcript"] as? String ?? "", object?["status"] as? Int ?? -1)
        }

        @Test("jpki pin change on a terminal: three prompts without echo; two new PINs that differ send nothing")
        func pinChangeOnATerminal() async throws {
            let bench = try JPKIBench.get()
            let card = CountingCard(try bench.card())
            try await TestBench.withCard(card) { _, _, reader in
                let arguments = ["pin", "change", "--type", "sign", "--reader", reader]
                let current = "Enter the current signing PIN (署名用電子証明書のパスワード): "
                let new = "Enter the new signing PIN (署名用電子証明書のパスワード): "
                let again = "Enter the new signing PIN (署名用電子証明書のパスワード) again: "
                let mismatch = try await changeOnTerminal(
                    arguments, answers: [(current, JPKIBench.signingPIN), (new, "NEWSIGN8"), (again, "NEWSIGN9")])
                #expect(mismatch.status == 1, "\(mismatch.transcript)")
                #expect(
                    mismatch.transcript.contains("The two entries of the new signing PIN (署名用電子証明書のパスワード) differ"),
                    "\(mismatch.transcript)")
                #expect(mismatch.transcript.contains("nothing was sent to the card"))
                #expect(card.commandCount == 0, "a mismatch sends nothing")
                for secret in [JPKIBench.signingPIN, "NEWSIGN8", "NEWSIGN9"] {
                    #expect(!mismatch.transcript.contains(secret), "a PIN was echoed: \(mismatch.transcript)")
                }

                let changed = try await changeOnTerminal(
                    arguments, answers: [(current, JPKIBench.signingPIN), (new, "newsign8"), (again, "NEWSIGN8")])
                #expect(changed.status == 0, "\(changed.transcript)")
                for prompt in [current, new, again] {
                    #expect(changed.transcript.contains(prompt), "\(changed.transcript)")
                }
                #expect(changed.transcript.contains("was changed."), "\(changed.transcript)")
                for secret in [JPKIBench.signingPIN, "newsign8", "NEWSIGN8"] {
                    #expect(!changed.transcript.contains(secret), "a PIN was echoed: \(changed.transcript)")
                }
                #expect(card.commandCount > 0)
                let inner = try #require(card.inner as? JPKICard)
                #expect(inner.triesLeft(.signing) == 5)
            }
        }
    }
}
