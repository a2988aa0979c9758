// Writes the seeds that come from this library and its card simulator (Fuzz/make-corpus adds those made with
// openssl and the test servers): the simulator's certificates, CRL, ATRs, recorded APDU exchanges, and a small
// database written by SQLiteRegistrationStore.
//
// The fuzz package is built with -sanitize=fuzzer, so every executable in it gets libFuzzer's main; this one does
// its work in LLVMFuzzerInitialize and exits before any fuzzing. Environment: FUZZ_CORPUS (the Corpus directory)
// and FUZZ_WORK (where the certificates and keys for openssl are written).
import CardCredentials
import CardSimulator
import Foundation
import FuzzSupport
import ISO7816
import PDFSignature
import Registration
import Synchronization
import X509

#if canImport(Glibc)
    import Glibc
#endif

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ start: UnsafeRawPointer, _ count: Int) -> CInt { 0 }

@_cdecl("LLVMFuzzerInitialize")
public func initialize(
    _ argc: UnsafeMutablePointer<CInt>,
    _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>
) -> CInt {
    let environment = ProcessInfo.processInfo.environment
    guard let corpus = environment["FUZZ_CORPUS"], let work = environment["FUZZ_WORK"] else {
        FileHandle.standardError.write(Data("MakeCorpus: set FUZZ_CORPUS and FUZZ_WORK\n".utf8))
        exit(2)
    }
    let failed = Atomic(false)
    runBlocking {
        do {
            try await makeSeeds(corpus: URL(filePath: corpus), work: URL(filePath: work))
        } catch {
            FileHandle.standardError.write(Data("MakeCorpus: \(error)\n".utf8))
            failed.store(true, ordering: .relaxed)
        }
    }
    exit(failed.load(ordering: .relaxed) ? 1 : 0)
}

/// Writes `bytes` to `corpus/target/name`.
func seed(_ corpus: URL, _ target: String, _ name: String, _ bytes: [UInt8]) throws {
    let directory = corpus.appending(path: target)
    try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    try Data(bytes).write(to: directory.appending(path: name))
}

func makeSeeds(corpus: URL, work: URL) async throws {
    try FileManager.default.createDirectory(at: work, withIntermediateDirectories: true)
    let authority = try TestCertificateAuthority(directory: work.appending(path: "ca"))
    let jpki = try JPKICard.issue(by: authority, holder: .example, signingPIN: "ABC123", authenticationPIN: "1234")
    let icCard = try PrivateCAICCard.issue(by: authority, holder: .example, pin: "PASS1234")
    let shortOnly = try JPKICard(
        snapshot: jpki.snapshot, behavior: CardBehavior(supportsExtendedLength: false))

    // Certificates: the confirmation screens' summaries.
    try seed(corpus, "FuzzCertificateSummary", "jpki-signing.der", jpki.snapshot.signingCertificate)
    try seed(corpus, "FuzzCertificateSummary", "jpki-authentication.der", jpki.snapshot.authenticationCertificate)
    try seed(corpus, "FuzzCertificateSummary", "ebidding.der", icCard.snapshot.holderCertificate)

    // A CRL the simulator's CA published, with one revoked signing certificate.
    let signing = try Certificate(derEncoded: jpki.snapshot.signingCertificate)
    try authority.revoke(signing.serialNumber, reason: .affiliationChanged)
    try seed(corpus, "FuzzCRL", "simulator-jpki-signing.crl", try authority.publishCRL(for: .jpkiSigning))

    // For openssl (make-corpus): the signing key and certificate, and the CA's.
    try Data(jpki.snapshot.signingKeyPEM.utf8).write(to: work.appending(path: "signing-key.pem"))
    try Data(jpki.snapshot.signingCertificate).write(to: work.appending(path: "signing.der"))
    try Data(jpki.snapshot.signingCACertificate).write(to: work.appending(path: "signing-ca.der"))

    // ATRs.
    try seed(corpus, "FuzzATR", "jpki.atr", jpki.atr)
    try seed(corpus, "FuzzATR", "private-ca.atr", icCard.atr)

    // Recorded exchanges with the cards, through CardChannel.
    let slot = SimulatedSlot(name: "MakeCorpus")
    slot.insert(jpki)
    let recorder = RecordingTransport(try await slot.connect())
    let channel = CardChannel(transport: recorder)
    func exchange(_ command: CommandAPDU) async throws -> [UInt8] {
        recorder.reset()
        _ = try await channel.transmit(command)
        return recorder.answers.last ?? []
    }
    try seed(
        corpus, "FuzzResponseAPDU", "select-ok",
        try await exchange(
            CommandAPDU(ins: 0xA4, p1: 0x04, p2: 0x0C, data: JPKICard.jpkiAID)))
    try seed(
        corpus, "FuzzResponseAPDU", "file-not-found",
        try await exchange(
            CommandAPDU(ins: 0xA4, p1: 0x02, p2: 0x0C, data: [0x7F, 0x7F])))
    _ = try await exchange(CommandAPDU(ins: 0xA4, p1: 0x02, p2: 0x0C, data: [0x00, 0x18]))
    try seed(
        corpus, "FuzzResponseAPDU", "wrong-pin",
        try await exchange(
            CommandAPDU(ins: 0x20, p1: 0x00, p2: 0x80, data: Array("0000".utf8), sensitive: true)))
    _ = try await exchange(CommandAPDU(ins: 0xA4, p1: 0x02, p2: 0x0C, data: [0x00, 0x0A]))
    let chunk = try await exchange(CommandAPDU(ins: 0xB0, p1: 0, p2: 0, expectedLength: 32))
    try seed(corpus, "FuzzResponseAPDU", "read-binary-32", chunk)
    try seed(corpus, "FuzzBERTLV", "certificate-header", Array(chunk.dropLast(2)))

    // Whole-file reads: with extended length (one READ BINARY), and a card without it (67 00, then short reads).
    _ = try await exchange(CommandAPDU(ins: 0xA4, p1: 0x02, p2: 0x0C, data: [0x00, 0x0B]))
    recorder.reset()
    _ = try await channel.readTransparentFile()
    try seed(
        corpus, "FuzzCardChannel", "read-extended",
        ChannelScript(
            operation: .readFile, answers: recorder.answers
        ).encoded)

    let shortSlot = SimulatedSlot(name: "MakeCorpus short")
    shortSlot.insert(shortOnly)
    let shortRecorder = RecordingTransport(try await shortSlot.connect())
    let shortChannel = CardChannel(transport: shortRecorder)
    _ = try await shortChannel.transmit(CommandAPDU(ins: 0xA4, p1: 0x04, p2: 0x0C, data: JPKICard.jpkiAID))
    _ = try await shortChannel.transmit(CommandAPDU(ins: 0xA4, p1: 0x02, p2: 0x0C, data: [0x00, 0x06]))
    shortRecorder.reset()
    let label = try await shortChannel.readTransparentFile(expectedLength: 32)
    try seed(
        corpus, "FuzzCardChannel", "read-known-length-short",
        ChannelScript(
            operation: .readFileOfKnownLength, parameter: label.count, answers: shortRecorder.answers
        ).encoded)
    _ = try await shortChannel.transmit(CommandAPDU(ins: 0xA4, p1: 0x02, p2: 0x0C, data: [0x00, 0x0A]))
    shortRecorder.reset()
    _ = try await shortChannel.readTransparentFile()
    // Only the first two answers (the length probe and the first chunk): the seeds stay small.
    try seed(
        corpus, "FuzzCardChannel", "read-short-chunks",
        ChannelScript(
            operation: .readFile,
            answers: Array(shortRecorder.answers.prefix(2)).map { Array($0.prefix(64)) + [0x90, 0x00] }
        ).encoded)

    // The IC card's holder certificate as a BER-TLV object (DER is BER).
    try seed(corpus, "FuzzBERTLV", "ebidding-certificate", icCard.snapshot.caCertificate)

    // A small database written by the store: a registration with its representative (a certificate from the
    // simulator's CA), its history and the notifications in the outbox.
    try await makeDatabase(corpus: corpus, work: work, authority: authority)

    // PDFs signed with the simulator's signing key (small reserves: the seeds stay small), once and twice, one of
    // them visible; make-corpus adds qpdf's object streams and the LibreOffice test PDF.
    let key = try FileCredential(privateKeyPEM: jpki.snapshot.signingKeyPEM, certificate: signing)
    var options = PAdES.Options()
    options.reservedSize = 3072
    options.includeChain = false
    options.signingTime = Date(timeIntervalSince1970: 1_767_225_600)
    let plain = samplePDF()
    try seed(corpus, "FuzzPDF", "plain.pdf", plain)
    try Data(plain).write(to: work.appending(path: "plain.pdf"))
    let once = try await PAdES.sign(plain, with: key, options: options)
    try seed(corpus, "FuzzPDF", "signed.pdf", once)
    options.appearance = PAdES.Appearance(page: 1, x: 300, y: 40, width: 200, height: 50)
    try seed(corpus, "FuzzPDF", "signed-twice-visible.pdf", try await PAdES.sign(once, with: key, options: options))
}

/// A one-page PDF with a classic cross-reference table (as PDFSignatureTests' SamplePDF).
func samplePDF() -> [UInt8] {
    let content = "BT /F1 24 Tf 72 720 Td (Nyusatsu 2026) Tj ET"
    let objects = [
        "<< /Type /Catalog /Pages 2 0 R >>",
        "<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
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

func makeDatabase(
    corpus: URL, work: URL, authority: TestCertificateAuthority
) async throws {
    let path = work.appending(path: "portal.sqlite").path
    for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: path + suffix) }
    // Small pages keep the seed small (the store does not set a page size; a new file takes this one).
    try? runSQLite(path, "PRAGMA page_size = 512; VACUUM;")
    do {
        let store = try SQLiteRegistrationStore(path: path)
        let portal = PortalProfile(name: "調達ポータル", mailFrom: try MailAddress("noreply@portal.example.jp"))
        let service = RegistrationService(store: store, portal: portal)
        let business = try BusinessInformation(
            name: "株式会社テスト建設", postalCode: "100-0013", address: "東京都千代田区霞が関1-1-1",
            representativeTitle: "代表取締役", representativeName: "入札 太郎", corporateNumber: "4011001098993",
            phone: "03-1234-5678")
        let representative = try UserInformation(
            title: "代表取締役", name: "入札 太郎", postalCode: "1000013", address: "東京都千代田区霞が関1-1-1",
            phone: "03-1234-5678", mail: "taro@example.co.jp")
        func certificate(_ name: String) throws -> Certificate {
            let holder = EBiddingHolder(
                companyName: "株式会社テスト建設", name: name, prefecture: "東京都", city: "千代田区", street: "霞が関1-1-1")
            return try authority.issueEBiddingCertificate(
                for: holder, publicKey: try CardRSAKey.generate(), validity: .valid())
        }
        _ = try await service.commit(
            try await service.prepareRegistration(
                of: business, representative: representative, certificate: try certificate("入札 太郎"),
                kind: .icCard, by: .portal(operator: "make-corpus")))
        // One registration only: SQLite's smallest pages (512 bytes) still give this schema about 17 KB empty.
    }
    // The store is closed: its WAL is checkpointed into the file.
    try? runSQLite(path, "PRAGMA journal_mode = DELETE; VACUUM;")
    try seed(corpus, "FuzzSQLiteStore", "portal.sqlite", Array(try Data(contentsOf: URL(filePath: path))))
}

/// Runs sqlite3 (the command-line shell) on `path`.
func runSQLite(_ path: String, _ sql: String) throws {
    let process = Process()
    process.executableURL = URL(filePath: "/usr/bin/sqlite3")
    process.arguments = [path, sql]
    process.standardOutput = FileHandle.nullDevice
    try process.run()
    process.waitUntilExit()
}
