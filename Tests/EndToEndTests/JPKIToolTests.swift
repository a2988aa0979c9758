import CardCredentials
import CardSimulator
import Foundation
import ISO7816
import JPKI
import PCSC
import Synchronization
import Testing
import X509

/// A JPKI card made once per run (RSA key generation is slow in debug builds); each test makes a fresh card from
/// the snapshot so PIN counters never leak between tests.
struct JPKIBench: Sendable {
    static let signingPIN = "TOOL123"
    static let authenticationPIN = "4321"
    static let textInputSupportPIN = "8765"

    let directory: URL
    let authority: TestCertificateAuthority
    let snapshot: JPKICard.Snapshot

    static let shared: Result<JPKIBench, any Error> = Result { try JPKIBench() }
    static func get() throws -> JPKIBench { try shared.get() }

    private init() throws {
        directory = FileManager.default.temporaryDirectory.appending(path: "jpki-e2e-\(UUID().uuidString)")
        authority = try TestCertificateAuthority(directory: directory)
        snapshot = try JPKICard.issue(
            by: authority, holder: .example, signingPIN: Self.signingPIN, authenticationPIN: Self.authenticationPIN,
            textInputSupportPIN: Self.textInputSupportPIN
        ).snapshot
        try authority.rootCertificatePEM(.jpkiSigning).write(
            to: directory.appending(path: "sign-ca.pem"), atomically: true, encoding: .utf8)
    }

    func card(_ behavior: CardBehavior = CardBehavior()) throws -> JPKICard {
        try JPKICard(snapshot: snapshot, behavior: behavior)
    }

    func file(_ name: String) -> String { directory.appending(path: name).path }
}

/// The PDF tools the PAdES tests check against (poppler-utils, qpdf), and a small PDF to sign.
enum PDFTools {
    static var installed: Bool {
        OpenSCTools.isCI || (OpenSCTools.path(of: "pdfsig") != nil && OpenSCTools.path(of: "qpdf") != nil)
    }

    /// One page, a classic cross-reference table.
    static func samplePDF() -> [UInt8] {
        let content = "BT /F1 24 Tf 72 720 Td (Nyusatsu 2026) Tj ET"
        let objects = [
            "<< /Type /Catalog /Pages 2 0 R >>", "<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
            "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Resources << /Font << /F1 4 0 R >> >> "
                + "/Contents 5 0 R >>",
            "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
            "<< /Length \(content.utf8.count) >>\nstream\n\(content)\nendstream",
        ]
        var out = Array("%PDF-1.7\n".utf8)
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

/// A virtual card that counts the commands it answers: what a tool run really sent through pcscd.
final class CountingCard: VirtualCard {
    let inner: any VirtualCard
    private let commands = Mutex(0)
    var commandCount: Int { commands.withLock { $0 } }
    var atr: [UInt8] { inner.atr }

    init(_ inner: any VirtualCard) { self.inner = inner }

    func handle(_ event: CardPowerEvent) { inner.handle(event) }

    func respond(to command: [UInt8]) -> [UInt8] {
        commands.withLock { $0 += 1 }
        return inner.respond(to: command)
    }

    func resetCount() { commands.withLock { $0 = 0 } }
}

/// Runs the `jpki` product built beside the tests.
enum JPKITool {
    static var path: String? {
        let candidates = [
            Bundle.main.executableURL?.deletingLastPathComponent(), Bundle.main.bundleURL.deletingLastPathComponent(),
            URL(filePath: CommandLine.arguments[0]).deletingLastPathComponent(),
        ]
        return candidates.compactMap { $0?.appending(path: "jpki").path }.first {
            FileManager.default.isExecutableFile(atPath: $0)
        }
    }

    struct Result {
        var status: Int32
        var output: String
        var errorOutput: String
    }

    /// Runs `jpki` with `arguments`, writing `input` (a PIN line) to its standard input; kills it after 60 s.
    static func run(_ arguments: [String], input: String? = nil) async throws -> Result {
        let executable = try #require(
            path, "the jpki executable was not found next to the tests; build it with `swift build --product jpki`")
        let directory = FileManager.default.temporaryDirectory.appending(path: "jpki-run-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let outURL = directory.appending(path: "stdout")
        let errURL = directory.appending(path: "stderr")
        let inURL = directory.appending(path: "stdin")
        _ = FileManager.default.createFile(atPath: outURL.path, contents: nil)
        _ = FileManager.default.createFile(atPath: errURL.path, contents: nil)
        _ = FileManager.default.createFile(atPath: inURL.path, contents: Data((input.map { $0 + "\n" } ?? "").utf8))
        let out = try FileHandle(forWritingTo: outURL)
        let err = try FileHandle(forWritingTo: errURL)
        let inHandle = try FileHandle(forReadingFrom: inURL)
        defer {
            try? out.close()
            try? err.close()
            try? inHandle.close()
        }
        let process = Process()
        process.executableURL = URL(filePath: executable)
        process.arguments = arguments
        process.standardOutput = out
        process.standardError = err
        process.standardInput = inHandle
        try process.run()
        let status = await process.exitStatus(killingAfter: .seconds(60))
        return Result(
            status: status, output: String(decoding: (try? Data(contentsOf: outURL)) ?? Data(), as: UTF8.self),
            errorOutput: String(decoding: (try? Data(contentsOf: errURL)) ?? Data(), as: UTF8.self))
    }
}

extension EndToEnd {
    @Suite("The jpki tool and the JPKI module against the virtual My Number card through pcscd")
    struct JPKIToolTests {
        @Test("jpki certs prints the free certificates, and PEM of one, using the only reader with a card")
        func certs() async throws {
            let bench = try JPKIBench.get()
            try await TestBench.withCard(try bench.card()) { _, _, _ in
                let summary = try await JPKITool.run(["certs"])
                #expect(summary.status == 0, "\(summary.errorOutput)")
                #expect(summary.output.contains("auth: the user-authentication certificate"))
                #expect(summary.output.contains("auth-ca:") && summary.output.contains("sign-ca:"))
                #expect(!summary.output.contains("sign: "))
                let pem = try await JPKITool.run(["certs", "--type", "auth", "--pem"])
                #expect(pem.status == 0, "\(pem.errorOutput)")
                #expect(
                    try Certificate(pemEncoded: pem.output)
                        == Certificate(derEncoded: bench.snapshot.authenticationCertificate))
            }
        }

        @Test("jpki certs --type sign asks for the signing PIN, and refuses one of the wrong form before the card")
        func signingCertificate() async throws {
            let bench = try JPKIBench.get()
            let card = try bench.card()
            try await TestBench.withCard(card) { _, _, reader in
                let pem = try await JPKITool.run(
                    ["certs", "--reader", reader, "--type", "sign", "--pem", "--pin-stdin"], input: JPKIBench.signingPIN
                )
                #expect(pem.status == 0, "\(pem.errorOutput)")
                #expect(
                    try Certificate(pemEncoded: pem.output)
                        == Certificate(derEncoded: bench.snapshot.signingCertificate))
                // Lower case is upper-cased, as the signing PIN allows.
                let lower = try await JPKITool.run(
                    ["certs", "--reader", reader, "--type", "sign", "--pin-stdin"],
                    input: JPKIBench.signingPIN.lowercased())
                #expect(lower.status == 0, "\(lower.errorOutput)")
                #expect(lower.output.contains("sign: the signing certificate"))
                #expect(lower.output.contains("holder: 試験\u{3000}花子"))
                let tooShort = try await JPKITool.run(
                    ["certs", "--reader", reader, "--type", "sign", "--pin-stdin"], input: "AB1")
                #expect(tooShort.status == 1)
                #expect(tooShort.errorOutput.contains("was not sent to the card"))
                #expect(!tooShort.errorOutput.contains("AB1"))
                #expect(card.triesLeft(.signing) == 5)
            }
        }

        @Test("jpki pin-status shows every PIN's tries left")
        func pinStatus() async throws {
            let card = try JPKIBench.get().card()
            try await TestBench.withCard(card) { _, _, reader in
                let result = try await JPKITool.run(["pin-status", "--reader", reader])
                #expect(result.status == 0, "\(result.errorOutput)")
                #expect(
                    result.output.split(separator: "\n") == [
                        "the user-authentication PIN (利用者証明用電子証明書のパスワード): 3 tries left",
                        "the signing PIN (署名用電子証明書のパスワード): 5 tries left",
                        "the text-input-support PIN (券面事項入力補助用暗証番号): 3 tries left",
                    ])
            }
        }

        @Test("jpki sign writes a detached CMS signature that jpki verify and openssl cms -verify accept")
        func signAndVerify() async throws {
            let bench = try JPKIBench.get()
            let document = bench.file("bid-\(UUID().uuidString).txt")
            let signature = document + ".p7s"
            try Data("入札書: 金額 1,234,000 円\n".utf8).write(to: URL(filePath: document))
            try await TestBench.withCard(try bench.card()) { _, _, reader in
                let signed = try await JPKITool.run(
                    ["sign", "--reader", reader, document, "--out", signature, "--pin-stdin"],
                    input: JPKIBench.signingPIN)
                #expect(signed.status == 0, "\(signed.errorOutput)")
                #expect(
                    !signed.output.contains(JPKIBench.signingPIN) && !signed.errorOutput.contains(JPKIBench.signingPIN))
                // It names the card holder's certificate (C, L, L, CN), not its CA's.
                #expect(signed.output.contains("CN="))
                #expect(!signed.output.contains("OU=JPKI for digital signature"))
            }
            let verified = try await JPKITool.run(["verify", document, signature, "--trust", bench.file("sign-ca.pem")])
            #expect(verified.status == 0, "\(verified.errorOutput)")
            #expect(verified.output.contains("Verification successful"))
            let openssl = try await OpenSCTools.run(
                "openssl",
                [
                    "cms", "-verify", "-binary", "-inform", "DER", "-in", signature, "-content", document, "-CAfile",
                    bench.file("sign-ca.pem"), "-purpose", "any", "-out", "/dev/null",
                ])
            #expect(openssl.status == 0, "\(openssl.errorOutput)")
            #expect(openssl.errorOutput.contains("Verification successful"))
            // A changed document is refused by both.
            try Data("入札書: 金額 9,234,000 円\n".utf8).write(to: URL(filePath: document))
            let tampered = try await JPKITool.run(["verify", document, signature, "--trust", bench.file("sign-ca.pem")])
            #expect(tampered.status == 1)
            #expect(tampered.errorOutput.hasPrefix("jpki: The content does not match"))
            // And a trust file that does not hold the signer's root.
            try JPKITrustAnchors.signing2023PEM.write(
                to: URL(filePath: bench.file("jlis.pem")), atomically: true, encoding: .utf8)
            try Data("入札書: 金額 1,234,000 円\n".utf8).write(to: URL(filePath: document))
            let untrusted = try await JPKITool.run(["verify", document, signature, "--trust", bench.file("jlis.pem")])
            #expect(untrusted.status == 1)
            #expect(untrusted.errorOutput.contains("not trusted"))
        }

        @Test("jpki text-info reads the individual number and the four basic facts after their PIN")
        func textInfo() async throws {
            try await TestBench.withCard(try JPKIBench.get().card()) { _, _, reader in
                let result = try await JPKITool.run(
                    ["text-info", "--reader", reader, "--pin-stdin"], input: JPKIBench.textInputSupportPIN)
                #expect(result.status == 0, "\(result.errorOutput)")
                let holder = JPKIHolder.example
                #expect(result.output.contains("個人番号 (individual number): \(holder.individualNumber)"))
                #expect(result.output.contains("氏名 (name): \(holder.name)"))
                #expect(result.output.contains("住所 (address): \(holder.address)"))
                #expect(result.output.contains("生年月日 (date of birth): 1985-04-01"))
                #expect(result.output.contains("性別 (sex): female (女性)"))
            }
        }

        @Test("Five wrong signing PINs: 63 C4 … C1, the last try refused unless allowed, then blocked (閉塞)")
        func wrongPINsDownToBlocked() async throws {
            let card = try JPKIBench.get().card()
            try await TestBench.withCard(card) { _, _, reader in
                let sign = ["certs", "--reader", reader, "--type", "sign", "--pin-stdin"]
                for left in [4, 3, 2] {
                    let result = try await JPKITool.run(sign, input: "WRONG9")
                    #expect(result.status == 1)
                    #expect(result.errorOutput.contains("\(left) tries are left"), "\(result.errorOutput)")
                    #expect(!result.errorOutput.contains("WRONG9"))
                }
                let one = try await JPKITool.run(sign, input: "WRONG9")
                #expect(one.errorOutput.contains("1 try is left"), "\(one.errorOutput)")
                #expect(card.triesLeft(.signing) == 1)
                let refused = try await JPKITool.run(sign, input: "WRONG9")
                #expect(refused.status == 1)
                #expect(refused.errorOutput.contains("Only one try is left"), "\(refused.errorOutput)")
                #expect(refused.errorOutput.contains("with --allow-last-try"), "the refusal names the option")
                #expect(card.triesLeft(.signing) == 1)
                let blocked = try await JPKITool.run(sign + ["--allow-last-try"], input: "WRONG9")
                #expect(blocked.status == 1)
                #expect(blocked.errorOutput.contains("閉塞") && blocked.errorOutput.contains("市区町村窓口"))
                // The right PIN cannot help any more; the status says blocked.
                let right = try await JPKITool.run(sign + ["--allow-last-try"], input: JPKIBench.signingPIN)
                #expect(right.status == 1)
                #expect(right.errorOutput.contains("is blocked (閉塞)"))
                let status = try await JPKITool.run(["pin-status", "--reader", reader])
                #expect(status.output.contains("the signing PIN (署名用電子証明書のパスワード): blocked (閉塞)"))
            }
        }

        @Test("With My Number cards in both readers, jpki asks for --reader")
        func severalReaders() async throws {
            let bench = try JPKIBench.get()
            try await TestBench.withCard(try bench.card(), slot: 0) { _, _, _ in
                try await TestBench.withCard(try bench.card(), slot: 1) { _, _, _ in
                    let result = try await JPKITool.run(["pin-status"])
                    #expect(result.status == 2)
                    #expect(result.errorOutput.contains("Several readers hold a My Number card"))
                    #expect(result.errorOutput.contains("--reader"))
                }
            }
        }

        @Test("Through pcscd the client signs in six APDUs and reads a certificate in three")
        func apduCountsThroughPCSC() async throws {
            let bench = try JPKIBench.get()
            try await TestBench.withCard(try bench.card()) { _, context, reader in
                let connection = try await context.connect(to: reader)
                let card = MyNumberCard(transport: connection)
                _ = try await card.certificateDER(.authentication)
                #expect(card.channel.statistics.apdusSent == 3)
                card.channel.resetStatistics()
                let digestInfo = DigestInfo(hashing: Array("abc".utf8), with: .sha256).derEncoded
                await card.forgetSession()
                let signature = try await card.signDigestInfo(
                    digestInfo, with: .signing, pin: try SecretPIN(JPKIBench.signingPIN, policy: .jpkiSigning))
                #expect(signature.count == 256)
                #expect(card.channel.statistics.apdusSent == 6)
                await connection.disconnect()
            }
        }

        @Test("jpki sign sends 10 APDUs (12 with --include-ca) and jpki pin-status 8, as the card counts them")
        func toolAPDUCounts() async throws {
            let bench = try JPKIBench.get()
            let document = bench.file("count-\(UUID().uuidString).txt")
            try Data("入札書\n".utf8).write(to: URL(filePath: document))
            let card = CountingCard(try bench.card())
            try await TestBench.withCard(card) { _, _, reader in
                card.resetCount()
                let signed = try await JPKITool.run(
                    ["sign", "--reader", reader, document, "--out", document + ".p7s", "--pin-stdin"],
                    input: JPKIBench.signingPIN)
                #expect(signed.status == 0, "\(signed.errorOutput)")
                // SELECT AP, SELECT 0006 + READ, SELECT 001B, tries left, VERIFY, SELECT 0001 + READ, SELECT 001A,
                // SIGN: issue 18 asks for at most 10 (it was 12 with the CA certificate read every time).
                #expect(card.commandCount == 10)
                let cms = try CMSSignedData(bytes: Array(Data(contentsOf: URL(filePath: document + ".p7s"))))
                #expect(cms.certificates.count == 1)

                card.resetCount()
                let withCA = try await JPKITool.run(
                    [
                        "sign", "--reader", reader, document, "--out", document + ".ca.p7s", "--pin-stdin",
                        "--include-ca",
                    ],
                    input: JPKIBench.signingPIN)
                #expect(withCA.status == 0, "\(withCA.errorOutput)")
                #expect(card.commandCount == 12)
                let cmsWithCA = try CMSSignedData(bytes: Array(Data(contentsOf: URL(filePath: document + ".ca.p7s"))))
                #expect(cmsWithCA.certificates.count == 2)

                card.resetCount()
                let status = try await JPKITool.run(["pin-status", "--reader", reader])
                #expect(status.status == 0, "\(status.errorOutput)")
                #expect(card.commandCount == 8)  // it was 10 with the token label
            }
        }

        @Test("jpki pin change --type sign: current PIN on line 1, new on line 2; jpki sign then takes the new one")
        func changeTheSigningPIN() async throws {
            let bench = try JPKIBench.get()
            let card = try bench.card()
            let document = bench.file("change-\(UUID().uuidString).txt")
            try Data("入札書\n".utf8).write(to: URL(filePath: document))
            try await TestBench.withCard(card) { _, _, reader in
                let changed = try await JPKITool.run(
                    ["pin", "change", "--type", "sign", "--reader", reader, "--pin-stdin"],
                    input: "\(JPKIBench.signingPIN)\nnewsign7")
                #expect(changed.status == 0, "\(changed.errorOutput)")
                #expect(changed.output.contains("The signing PIN (署名用電子証明書のパスワード) was changed."))
                for text in [JPKIBench.signingPIN, "NEWSIGN7", "newsign7"] {
                    #expect(!changed.output.contains(text) && !changed.errorOutput.contains(text))
                }
                let sign = ["sign", "--reader", reader, document, "--out", document + ".p7s", "--pin-stdin"]
                let old = try await JPKITool.run(sign, input: JPKIBench.signingPIN)
                #expect(old.status == 1)
                #expect(old.errorOutput.contains("4 tries are left"), "\(old.errorOutput)")
                let new = try await JPKITool.run(sign, input: "NEWSIGN7")
                #expect(new.status == 0, "\(new.errorOutput)")
                #expect(card.triesLeft(.signing) == 5)
            }
        }

        @Test("jpki pin change: a wrong current PIN says the tries left; a new PIN of the wrong form sends nothing")
        func pinChangeRefusals() async throws {
            let card = CountingCard(try JPKIBench.get().card())
            try await TestBench.withCard(card) { _, _, reader in
                let change = ["pin", "change", "--reader", reader, "--pin-stdin", "--type"]
                for (type, current, new) in [
                    ("auth", JPKIBench.authenticationPIN, "12345"), ("auth", JPKIBench.authenticationPIN, "12a4"),
                    ("text", JPKIBench.textInputSupportPIN, "123"), ("sign", JPKIBench.signingPIN, "AB-123"),
                ] {
                    card.resetCount()
                    let result = try await JPKITool.run(change + [type], input: "\(current)\n\(new)")
                    #expect(result.status == 1)
                    #expect(result.errorOutput.contains("The new value of the"), "\(result.errorOutput)")
                    #expect(result.errorOutput.contains("was not sent to the card"))
                    #expect(!result.errorOutput.contains(current) && !result.errorOutput.contains(new))
                    #expect(card.commandCount == 0, "nothing reaches the card before both PINs are checked")
                }
                let missing = try await JPKITool.run(change + ["auth"], input: JPKIBench.authenticationPIN)
                #expect(missing.status != 0)
                #expect(card.commandCount == 0)

                let wrong = try await JPKITool.run(change + ["auth"], input: "0000\n2468")
                #expect(wrong.status == 1)
                #expect(wrong.errorOutput.contains("2 tries are left"), "\(wrong.errorOutput)")
                _ = try await JPKITool.run(change + ["auth"], input: "0000\n2468")
                let lastTry = try await JPKITool.run(change + ["auth"], input: "\(JPKIBench.authenticationPIN)\n2468")
                #expect(lastTry.status == 1)
                #expect(lastTry.errorOutput.contains("Only one try is left"), "\(lastTry.errorOutput)")
                let allowed = try await JPKITool.run(
                    change + ["auth", "--allow-last-try"], input: "\(JPKIBench.authenticationPIN)\n2468")
                #expect(allowed.status == 0, "\(allowed.errorOutput)")
                #expect(card.inner is JPKICard)
                #expect((card.inner as? JPKICard)?.triesLeft(.authentication) == 3)
            }
        }

        @Test(
            "After jpki pin change --type auth, OpenSC logs in with the new PIN and the old one is refused",
            .enabled(if: OpenSCTools.enabled))
        func changeTheAuthenticationPINThenOpenSC() async throws {
            let card = try JPKIBench.get().card()
            let directory = FileManager.default.temporaryDirectory.appending(path: "e2e-pin-\(UUID().uuidString)")
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(at: directory) }
            let message = directory.appending(path: "challenge.bin")
            try Data((0..<32).map { UInt8($0) }).write(to: message)
            try await TestBench.withCard(card) { _, _, reader in
                let changed = try await JPKITool.run(
                    ["pin", "change", "--type", "auth", "--reader", reader, "--pin-stdin"],
                    input: "\(JPKIBench.authenticationPIN)\n7531")
                #expect(changed.status == 0, "\(changed.errorOutput)")
                func login(_ pin: String) async throws -> OpenSCTools.Result {
                    try await OpenSCTools.run(
                        "pkcs11-tool",
                        [
                            "--module", OpenSCTools.pkcs11Module, "--token-label", "JPKI (User Authentication PIN)",
                            "--login", "--pin", pin, "--sign", "--mechanism", "SHA256-RSA-PKCS", "--id", "01",
                            "--input-file", message.path, "--output-file", directory.appending(path: "sig").path,
                        ])
                }
                let new = try await login("7531")
                #expect(new.status == 0, "\(new.errorOutput)")
                let old = try await login(JPKIBench.authenticationPIN)
                #expect(old.status != 0)
                #expect(old.errorOutput.contains("CKR_PIN_INCORRECT"), "\(old.errorOutput)")
                #expect(card.triesLeft(.authentication) == 2)
            }
        }

        @Test(
            "jpki sign-pdf writes a PAdES B-B signature that jpki verify-pdf, pdfsig and qpdf accept",
            .enabled(if: PDFTools.installed))
        func signPDF() async throws {
            let bench = try JPKIBench.get()
            let card = try bench.card()
            let id = UUID().uuidString
            let source = bench.file("bid-\(id).pdf")
            let signed = bench.file("bid-\(id)-signed.pdf")
            try Data(PDFTools.samplePDF()).write(to: URL(filePath: source))
            try await TestBench.withCard(card) { _, _, reader in
                let result = try await JPKITool.run(
                    ["sign-pdf", "--reader", reader, source, "--out", signed, "--pin-stdin", "--reason", "入札書の提出"],
                    input: JPKIBench.signingPIN)
                #expect(result.status == 0, "\(result.errorOutput)")
                #expect(
                    !result.output.contains(JPKIBench.signingPIN) && !result.errorOutput.contains(JPKIBench.signingPIN))
            }
            let original = try Data(contentsOf: URL(filePath: source))
            let output = try Data(contentsOf: URL(filePath: signed))
            #expect(output.prefix(original.count) == original, "the original bytes are untouched")
            let verified = try await JPKITool.run(["verify-pdf", signed, "--trust", bench.file("sign-ca.pem")])
            #expect(verified.status == 0, "\(verified.errorOutput)")
            #expect(verified.output.contains("Signature1: signature valid (ETSI.CAdES.detached)"))
            #expect(verified.output.contains("covers the whole document"))
            let pdfsig = try await OpenSCTools.run("pdfsig", [signed])
            #expect(pdfsig.output.contains("Signature Validation: Signature is Valid."), "\(pdfsig.output)")
            #expect(pdfsig.output.contains("Total document signed"))
            let qpdf = try await OpenSCTools.run("qpdf", ["--check", signed])
            #expect(qpdf.status == 0, "\(qpdf.output)")

            // Revocation: a current list without the certificate passes; after revocation, refused (失効).
            let crl = bench.file("sign-\(id).crl")
            try Data(try bench.authority.publishCRL(for: .jpkiSigning)).write(to: URL(filePath: crl))
            let current = try await JPKITool.run(
                ["verify-pdf", signed, "--trust", bench.file("sign-ca.pem"), "--crl", crl])
            #expect(current.status == 0, "\(current.errorOutput)")
            // A changed byte: refused, exit 1.
            var tampered = output
            let place = try #require(tampered.range(of: Data("Nyusatsu".utf8)))
            tampered[place.lowerBound] = UInt8(ascii: "M")
            try tampered.write(to: URL(filePath: signed))
            let refused = try await JPKITool.run(["verify-pdf", signed, "--trust", bench.file("sign-ca.pem")])
            #expect(refused.status == 1)
            #expect(refused.errorOutput.contains("does not match"), "\(refused.errorOutput)")
        }

        @Test("jpki sign-pdf refuses an encrypted PDF before asking for the PIN", .enabled(if: PDFTools.installed))
        func signPDFRefusesEncrypted() async throws {
            let bench = try JPKIBench.get()
            let card = CountingCard(try bench.card())
            let id = UUID().uuidString
            let source = bench.file("plain-\(id).pdf")
            let encrypted = bench.file("encrypted-\(id).pdf")
            try Data(PDFTools.samplePDF()).write(to: URL(filePath: source))
            let made = try await OpenSCTools.run("qpdf", ["--encrypt", "u", "o", "256", "--", source, encrypted])
            #expect(made.status == 0, "\(made.output)")
            try await TestBench.withCard(card) { _, _, reader in
                let result = try await JPKITool.run(
                    ["sign-pdf", "--reader", reader, encrypted, "--out", encrypted + ".signed.pdf", "--pin-stdin"],
                    input: JPKIBench.signingPIN)
                #expect(result.status == 1)
                #expect(result.errorOutput.contains("The PDF is encrypted"), "\(result.errorOutput)")
                #expect(card.commandCount == 0)
            }
        }

        @Test("A card pulled from the reader mid-read is reported as removed")
        func cardPulled() async throws {
            let bench = try JPKIBench.get()
            let faults = FaultInjector()
            try await TestBench.withCard(try bench.card(), faults: faults) { _, context, reader in
                let connection = try await context.connect(to: reader)
                let card = MyNumberCard(transport: connection, extendedLength: .unsupported)
                faults.arm(.pullCard, skipping: 1, matching: { $0.ins == 0xB0 })
                await #expect(throws: JPKIError.cardRemoved) {
                    _ = try await card.certificate(.authentication)
                }
                await connection.disconnect()
            }
        }
    }
}

/// Runs `jpki` on a pseudo-terminal (util-linux `script`), typing into it only once the PIN prompt is shown.
enum JPKITerminal {
    struct Result {
        var status: Int32
        var output: String
    }

    /// Runs `shell` (which calls jpki, then `stty -a`) under `script`; when the output shows `prompt`, types `keys`.
    static func run(_ shell: String, typing keys: String, after prompt: String) async throws -> Result {
        let script = try #require(OpenSCTools.path(of: "script"), "util-linux `script` is not installed")
        let outURL = FileManager.default.temporaryDirectory.appending(path: "jpki-tty-\(UUID().uuidString)")
        _ = FileManager.default.createFile(atPath: outURL.path, contents: nil)
        defer { try? FileManager.default.removeItem(at: outURL) }
        let out = try FileHandle(forWritingTo: outURL)
        defer { try? out.close() }
        let input = Pipe()
        let process = Process()
        process.executableURL = URL(filePath: script)
        process.arguments = ["-qec", shell, "/dev/null"]
        process.standardInput = input
        process.standardOutput = out
        process.standardError = out
        try process.run()
        let deadline = ContinuousClock.now + .seconds(30)
        var typed = false
        while process.isRunning, ContinuousClock.now < deadline {
            if !typed, let text = try? String(contentsOf: outURL, encoding: .utf8), text.contains(prompt) {
                // Echo is off once the prompt is written; give the terminal a moment to settle, then type.
                try await Task.sleep(for: .milliseconds(100))
                _ = Tools.brokenPipesIgnored
                try? input.fileHandleForWriting.write(contentsOf: Data(keys.utf8))
                typed = true
            }
            try await Task.sleep(for: .milliseconds(20))
        }
        try? input.fileHandleForWriting.close()
        if process.isRunning {
            process.terminate()
            Issue.record("jpki on a terminal did not end in 30 s")
        }
        let status = process.waitForExit()
        return Result(
            status: status,
            output: String(decoding: (try? Data(contentsOf: outURL)) ?? Data(), as: UTF8.self))
    }
}

extension EndToEnd {
    @Suite("The jpki tool's PIN prompt on a terminal")
    struct JPKIPromptTests {
        @Test("The PIN typed at the prompt is not echoed, and the terminal echoes again afterwards")
        func noEcho() async throws {
            let bench = try JPKIBench.get()
            let jpki = try #require(JPKITool.path, "build the jpki product first (swift build --product jpki)")
            try await TestBench.withCard(try bench.card()) { _, _, reader in
                let result = try await JPKITerminal.run(
                    "'\(jpki)' certs --reader '\(reader)' --type sign; echo \"status=$?\"; stty -a",
                    typing: JPKIBench.signingPIN + "\n", after: "Enter the signing PIN")
                #expect(result.output.contains("sign: the signing certificate"), "\(result.output)")
                #expect(result.output.contains("status=0"))
                #expect(!result.output.contains(JPKIBench.signingPIN))
                #expect(result.output.contains(" echo "), "the terminal's echo was not restored")
            }
        }

        @Test("Ctrl-C at the prompt restores the terminal's echo and sends nothing to the card")
        func interrupted() async throws {
            let bench = try JPKIBench.get()
            let card = try bench.card()
            let jpki = try #require(JPKITool.path, "build the jpki product first (swift build --product jpki)")
            try await TestBench.withCard(card) { _, _, reader in
                let result = try await JPKITerminal.run(
                    "trap true INT; '\(jpki)' certs --reader '\(reader)' --type sign; echo \"status=$?\"; stty -a",
                    typing: "\u{03}", after: "Enter the signing PIN")
                #expect(result.output.contains("status=130"), "\(result.output)")
                #expect(result.output.contains(" echo "), "the terminal's echo was not restored")
                #expect(!result.output.contains("-echo "))
                #expect(card.triesLeft(.signing) == 5)
            }
        }
    }
}
